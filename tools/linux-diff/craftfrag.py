import socket, struct, subprocess, sys, time
# Fragment edge cases, IPv4 and IPv6, from host A to D (an echo request cut up) or through D to B.
def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b)//2), b)); s = (s >> 16) + (s & 0xffff); s += s >> 16
    return (~s) & 0xffff
def mac(ip, family):
    subprocess.run(['ping', '-c', '1', '-W', '1', ip], capture_output=True)
    neigh = subprocess.run(['ip', family, 'neigh', 'show', ip], capture_output=True, text=True).stdout.split()
    return bytes.fromhex(neigh[neigh.index('lladdr') + 1].replace(':', ''))
dmac4 = mac('198.18.50.1', '-4'); dmac6 = mac('2001:2:0:50::1', '-6')
smac = bytes.fromhex(open('/sys/class/net/va/address').read().strip().replace(':', ''))
A4 = socket.inet_aton('198.18.50.2'); D4 = socket.inet_aton('198.18.50.1'); B4 = socket.inet_aton('198.18.51.2')
A6 = socket.inet_pton(socket.AF_INET6, '2001:2:0:50::2'); D6 = socket.inet_pton(socket.AF_INET6, '2001:2:0:50::1')
B6 = socket.inet_pton(socket.AF_INET6, '2001:2:0:51::2')

def echo4(seq, n):
    b = struct.pack('!BBHHH', 8, 0, 0, 0x4444, seq) + bytes((i * 7) & 0xff for i in range(n))
    return b[:2] + struct.pack('!H', csum(b)) + b[4:]
def frag4(dst, ident, offset, data, more, proto=1, ttl=64, df=False):
    flags = (0x2000 if more else 0) | (0x4000 if df else 0) | (offset // 8)
    h = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(data), ident, flags, ttl, proto, 0, A4, dst)
    return dmac4 + smac + b'\x08\x00' + h[:10] + struct.pack('!H', csum(h)) + h[12:] + data
def echo6(dst, seq, n):
    b = struct.pack('!BBHHH', 128, 0, 0, 0x6666, seq) + bytes((i * 7) & 0xff for i in range(n))
    c = csum(A6 + dst + struct.pack('!I', len(b)) + b'\0\0\0\x3a' + b)
    return b[:2] + struct.pack('!H', c) + b[4:]
def frag6(dst, ident, offset, data, more, nh=58):
    fh = struct.pack('!BBHI', nh, 0, offset | (1 if more else 0), ident)
    return dmac6 + smac + b'\x86\xdd' + struct.pack('!IHBB', 0x60000000, 8 + len(data), 44, 64) + A6 + dst + fh + data

def split4(dst, ident, seq, cuts, n=64, **kw):
    e = echo4(seq, n)
    bounds = [0] + cuts + [len(e)]
    return [frag4(dst, ident, bounds[i], e[bounds[i]:bounds[i + 1]], i < len(bounds) - 2, **kw) for i in range(len(bounds) - 1)]
def split6(dst, ident, seq, cuts, n=64):
    e = echo6(dst, seq, n)
    bounds = [0] + cuts + [len(e)]
    return [frag6(dst, ident, bounds[i], e[bounds[i]:bounds[i + 1]], i < len(bounds) - 2) for i in range(len(bounds) - 1)]

e4 = echo4(9, 64); e6 = echo6(D6, 9, 64)
cases = {
 # IPv4 to D
 'v4_inorder': split4(D4, 0x101, 1, [24, 48]),
 'v4_reverse': split4(D4, 0x102, 2, [24, 48])[::-1],
 'v4_dup': (lambda f: [f[0], f[0], f[1], f[2]])(split4(D4, 0x103, 3, [24, 48])),
 'v4_overlap_diff': [frag4(D4, 0x104, 0, echo4(4, 64)[:32], True), frag4(D4, 0x104, 24, b'\xee' * 48, False)],
 'v4_overlap_same': (lambda e: [frag4(D4, 0x105, 0, e[:32], True), frag4(D4, 0x105, 24, e[24:], False)])(echo4(5, 64)),
 'v4_contained': (lambda e: [frag4(D4, 0x106, 0, e[:40], True), frag4(D4, 0x106, 8, e[8:24], True), frag4(D4, 0x106, 40, e[40:], False)])(echo4(6, 64)),
 'v4_notmult8': (lambda e: [frag4(D4, 0x107, 0, e[:30], True), frag4(D4, 0x107, 30, e[30:], False)])(echo4(7, 64)),
 # 30 octets with more to come: Linux keeps 24, and the next fragment starts there.
 'v4_notmult8_trunc': (lambda e: [frag4(D4, 0x112, 0, e[:30], True), frag4(D4, 0x112, 24, e[24:], False)])(echo4(18, 64)),
 'v4_beyond_last': (lambda e: [frag4(D4, 0x108, 40, e[40:], False), frag4(D4, 0x108, 72, b'z' * 8, True), frag4(D4, 0x108, 0, e[:40], True)])(echo4(8, 64)),
 'v4_zero_len': (lambda e: [frag4(D4, 0x109, 0, e[:40], True), frag4(D4, 0x109, 40, b'', True), frag4(D4, 0x109, 40, e[40:], False)])(echo4(9, 64)),
 'v4_oversize': [frag4(D4, 0x10a, 0, echo4(10, 64)[:32], True), frag4(D4, 0x10a, 65520, b'q' * 24, False)],
 'v4_last_twice_diff': (lambda e: [frag4(D4, 0x10b, 40, e[40:], False), frag4(D4, 0x10b, 48, e[48:], False), frag4(D4, 0x10b, 0, e[:40], True)])(echo4(11, 64)),
 'v4_df_mf': split4(D4, 0x10c, 12, [32], df=True),
 'v4_ttl_differ': (lambda e: [frag4(D4, 0x10d, 0, e[:32], True, ttl=5), frag4(D4, 0x10d, 32, e[32:], False, ttl=64)])(echo4(13, 64)),
 'v4_first_tiny': split4(D4, 0x10e, 14, [8]),
 'v4_fwd': split4(B4, 0x10f, 15, [24, 48]),
 'v4_fwd_ttl1': split4(B4, 0x110, 16, [24, 48], ttl=1),
 'v4_fwd_ttl1_later': split4(B4, 0x111, 17, [24, 48], ttl=1)[1:],
 # IPv6 to D
 'v6_inorder': split6(D6, 0x201, 1, [24, 48]),
 'v6_reverse': split6(D6, 0x202, 2, [24, 48])[::-1],
 'v6_dup': (lambda f: [f[0], f[0], f[1], f[2]])(split6(D6, 0x203, 3, [24, 48])),
 'v6_overlap_same': (lambda e: [frag6(D6, 0x204, 0, e[:32], True), frag6(D6, 0x204, 24, e[24:], False)])(echo6(D6, 4, 64)),
 'v6_notmult8': (lambda e: [frag6(D6, 0x205, 0, e[:30], True), frag6(D6, 0x205, 30, e[30:], False)])(echo6(D6, 5, 64)),
 'v6_oversize': [frag6(D6, 0x206, 0, echo6(D6, 6, 64)[:32], True), frag6(D6, 0x206, 65520, b'q' * 24, False)],
 'v6_beyond_last': (lambda e: [frag6(D6, 0x207, 40, e[40:], False), frag6(D6, 0x207, 72, b'z' * 8, True), frag6(D6, 0x207, 0, e[:40], True)])(echo6(D6, 7, 64)),
 'v6_zero_len': (lambda e: [frag6(D6, 0x208, 0, e[:40], True), frag6(D6, 0x208, 40, b'', True), frag6(D6, 0x208, 40, e[40:], False)])(echo6(D6, 8, 64)),
 # RFC 7112: the first fragment ends before the upper-layer header (a destination options header only).
 'v6_first_no_icmp_header': (lambda e: [frag6(D6, 0x209, 0, bytes([58, 0, 1, 4, 0, 0, 0, 0]), True, nh=60), frag6(D6, 0x209, 8, e, False, nh=60)])(echo6(D6, 9, 64)),
 'v6_first_tiny': split6(D6, 0x20a, 10, [8]),
 'v6_fwd': split6(B6, 0x20b, 11, [24, 48]),
 'v6_last_twice_diff': (lambda e: [frag6(D6, 0x20c, 40, e[40:], False), frag6(D6, 0x20c, 48, e[48:], False), frag6(D6, 0x20c, 0, e[:40], True)])(echo6(D6, 12, 64)),
}
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); s.bind(('va', 0))
for name in sys.argv[1:]:
    for f in cases[name]:
        s.send(f); time.sleep(0.05)
    time.sleep(1.1)
