import socket, struct, subprocess, sys, time
def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b)//2), b)); s = (s >> 16) + (s & 0xffff); s += s >> 16
    return (~s) & 0xffff
SRC = socket.inet_pton(socket.AF_INET6, '2001:2:0:50::2'); DST = socket.inet_pton(socket.AF_INET6, '2001:2:0:50::1')
subprocess.run(['ping', '-c', '1', '-W', '1', '2001:2:0:50::1'], capture_output=True)
neigh = subprocess.run(['ip', '-6', 'neigh', 'show', '2001:2:0:50::1'], capture_output=True, text=True).stdout.split()
dmac = bytes.fromhex(neigh[neigh.index('lladdr') + 1].replace(':', ''))
smac = bytes.fromhex(open('/sys/class/net/va/address').read().strip().replace(':', ''))
B6 = socket.inet_pton(socket.AF_INET6, '2001:2:0:51::2')
def echo(seq, dst=DST):
    body = struct.pack('!BBHHH', 128, 0, 0, 0x1234, seq) + b'x' * 16
    c = csum(SRC + dst + struct.pack('!I', len(body)) + b'\0\0\0\x3a' + body)
    return body[:2] + struct.pack('!H', c) + body[4:]
def ip6(nh, payload, plen=None, dst=DST, hlim=64):
    return struct.pack('!IHBB', 0x60000000, len(payload) if plen is None else plen, nh, hlim) + SRC + dst + payload
def opts(nh, options):
    h = bytes([nh, 0]) + options
    h += b'\x01' + bytes([8 - len(h) - 2]) + b'\0' * (8 - len(h) - 2) if len(h) % 8 else b''
    h = bytes([nh, len(h)//8 - 1]) + h[2:]
    return h
cases = {
 'unknown_nh': ip6(253, b'\0' * 16),
 'dstopt_80': ip6(60, opts(58, b'\x80\x02\0\0') + echo(1)),
 'dstopt_c0': ip6(60, opts(58, b'\xc0\x02\0\0') + echo(2)),
 'dstopt_40': ip6(60, opts(58, b'\x40\x02\0\0') + echo(3)),
 'dstopt_00': ip6(60, opts(58, b'\x00\x02\0\0') + echo(4)),
 'hbh_second': ip6(60, opts(0, b'') + opts(58, b'') + echo(5)),
 'rh0_left1': ip6(43, bytes([58, 2, 0, 1, 0, 0, 0, 0]) + SRC + echo(6)),
 'rh0_left0': ip6(43, bytes([58, 2, 0, 0, 0, 0, 0, 0]) + SRC + echo(7)),
 'rh2_left1': ip6(43, bytes([58, 2, 2, 1, 0, 0, 0, 0]) + SRC + echo(8)),
 'atomic_frag': ip6(44, bytes([58, 0, 0, 0, 0, 0, 0, 9]) + echo(9)),
 'plen_long': ip6(58, echo(10), plen=200),
 'rh_unknown_type': ip6(43, bytes([58, 2, 200, 1, 0, 0, 0, 0]) + SRC + echo(11)),
 'rh_unknown_left0': ip6(43, bytes([58, 2, 200, 0, 0, 0, 0, 0]) + SRC + echo(12)),
 # Through D to B: a router looks at Hop-by-Hop only.
 'fwd_hbh_80': ip6(0, opts(58, b'\x80\x02\0\0') + echo(20, B6), dst=B6),
 'fwd_hbh_c0': ip6(0, opts(58, b'\xc0\x02\0\0') + echo(21, B6), dst=B6),
 'fwd_hbh_40': ip6(0, opts(58, b'\x40\x02\0\0') + echo(22, B6), dst=B6),
 'fwd_hbh_00': ip6(0, opts(58, b'\x00\x02\0\0') + echo(23, B6), dst=B6),
 'fwd_dstopt_80': ip6(60, opts(58, b'\x80\x02\0\0') + echo(24, B6), dst=B6),
 'fwd_rh0_left1': ip6(43, bytes([58, 2, 0, 1, 0, 0, 0, 0]) + SRC + echo(25, B6), dst=B6),
 'fwd_hbh_ra_mld': ip6(0, opts(58, b'\x05\x02\0\0') + echo(26, B6), dst=B6),
 'fwd_hbh_jumbo': ip6(0, opts(58, b'\xc2\x04\0\x01\0\0') + echo(27, B6), dst=B6),
 'fwd_hbh_padn_bad': ip6(0, opts(58, b'\x01\x02\x01\x01') + echo(28, B6), dst=B6),
 'fwd_hlim1_hbh_c0': ip6(0, opts(58, b'\xc0\x02\0\0') + echo(29, B6), dst=B6, hlim=1),
 'fwd_hbh_second': ip6(60, opts(0, b'') + opts(58, b'') + echo(30, B6), dst=B6),
 'fwd_plen_long': ip6(58, echo(31, B6), plen=200, dst=B6),
}
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); s.bind(('va', 0))
for name in sys.argv[1:]:
    s.send(dmac + smac + b'\x86\xdd' + cases[name]); time.sleep(0.3)
