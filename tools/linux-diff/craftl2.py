# ARP, NDP and UDP edge cases crafted on host A's link (AF_PACKET): what the router answers, if anything.
import socket, struct, subprocess, sys, time
def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b)//2), b)); s = (s >> 16) + (s & 0xffff); s += s >> 16
    return (~s) & 0xffff
subprocess.run(['ping', '-c', '1', '-W', '1', '198.18.50.1'], capture_output=True)
neigh = subprocess.run(['ip', 'neigh', 'show', '198.18.50.1'], capture_output=True, text=True).stdout.split()
dmac = bytes.fromhex(neigh[neigh.index('lladdr') + 1].replace(':', ''))
smac = bytes.fromhex(open('/sys/class/net/va/address').read().strip().replace(':', ''))
bcast = b'\xff' * 6
A = socket.inet_aton('198.18.50.2'); D = socket.inet_aton('198.18.50.1')
A6 = socket.inet_pton(socket.AF_INET6, '2001:2:0:50::2'); D6 = socket.inet_pton(socket.AF_INET6, '2001:2:0:50::1')
D6b = socket.inet_pton(socket.AF_INET6, '2001:2:0:51::1'); ANY6 = bytes(16)
def arp(op, sha, spa, tha, tpa):
    return struct.pack('!HHBBH', 1, 0x0800, 6, 4, op) + sha + spa + tha + tpa
def sn(addr):
    return bytes([0xff, 0x02] + [0] * 9 + [0x01, 0xff]) + addr[13:]
def icmp6(src, dst, body):
    c = csum(src + dst + struct.pack('!I', len(body)) + b'\0\0\0\x3a' + body)
    return body[:2] + struct.pack('!H', c) + body[4:]
def ip6(src, dst, nh, payload, hlim=255):
    return struct.pack('!IHBB', 0x60000000, len(payload), nh, hlim) + src + dst + payload
def ns(src, dst, target, slla=True):
    body = struct.pack('!BBHI', 135, 0, 0, 0) + target + (b'\x01\x01' + smac if slla else b'')
    return ip6(src, dst, 58, icmp6(src, dst, body))
def udp4(src, dst, sport, dport, data, cs=True, ulen=None):
    u = struct.pack('!HHHH', sport, dport, ulen if ulen is not None else 8 + len(data), 0) + data
    if cs:
        c = csum(src + dst + struct.pack('!BBH', 0, 17, len(u)) + u) or 0xffff
        u = u[:6] + struct.pack('!H', c) + u[8:]
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(u), 0x3333, 0, 64, 17, 0, src, dst)
    return ip[:10] + struct.pack('!H', csum(ip)) + ip[12:] + u
def udp6(src, dst, sport, dport, data, cs=True):
    u = struct.pack('!HHHH', sport, dport, 8 + len(data), 0) + data
    if cs:
        c = csum(src + dst + struct.pack('!I', len(u)) + b'\0\0\0\x11' + u) or 0xffff
        u = u[:6] + struct.pack('!H', c) + u[8:]
    return ip6(src, dst, 17, u, hlim=64)
M6 = lambda a: b'\x33\x33' + a[12:]
# Path MTU news from A about packets D sent it: an IPv4 Fragmentation Needed or an ICMPv6 Packet Too Big quoting the
# start of a 1,428-octet echo reply from D to A.
def quoted4(total):
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, total, 0x4444, 0, 64, 1, 0, D, A)
    return ip[:10] + struct.pack('!H', csum(ip)) + ip[12:] + struct.pack('!BBHHH', 0, 0, 0, 0x77, 1) + b'r' * 20
def frag_needed(mtu):
    body = struct.pack('!BBHHH', 3, 4, 0, 0, mtu) + quoted4(1428)
    body = body[:2] + struct.pack('!H', csum(body)) + body[4:]
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0xc0, 20 + len(body), 0x5555, 0, 64, 1, 0, A, D)
    return ip[:10] + struct.pack('!H', csum(ip)) + ip[12:] + body
def packet_too_big(mtu):
    quoted = struct.pack('!IHBB', 0x60000000, 1408, 58, 64) + D6 + A6 + struct.pack('!BBHHH', 129, 0, 0, 0x77, 1) + b'r' * 40
    return ip6(A6, D6, 58, icmp6(A6, D6, struct.pack('!BBHI', 2, 0, 0, mtu) + quoted), hlim=64)
cases = {
 'fn4_1000': (dmac, 0x0800, frag_needed(1000)),
 'fn4_500': (dmac, 0x0800, frag_needed(500)),
 'ptb6_1300': (dmac, 0x86dd, packet_too_big(1300)),
 'ptb6_1000': (dmac, 0x86dd, packet_too_big(1000)),
 'arp_gratuitous': (bcast, 0x0806, arp(1, smac, A, b'\0' * 6, A)),
 'arp_probe_ours': (bcast, 0x0806, arp(1, smac, b'\0\0\0\0', b'\0' * 6, D)),
 'arp_conflict': (bcast, 0x0806, arp(1, smac, D, b'\0' * 6, socket.inet_aton('198.18.50.9'))),
 'arp_unicast_req': (dmac, 0x0806, arp(1, smac, A, b'\0' * 6, D)),
 'arp_reply_unsolicited': (dmac, 0x0806, arp(2, smac, socket.inet_aton('198.18.50.44'), dmac, D)),
 'ns_dad_ours': (M6(sn(D6)), 0x86dd, ns(ANY6, sn(D6), D6, slla=False)),
 'ns_other_nic': (M6(sn(D6b)), 0x86dd, ns(A6, sn(D6b), D6b)),
 'ns_unicast': (dmac, 0x86dd, ns(A6, D6, D6, slla=False)),
 'ns_hlim64': (M6(sn(D6)), 0x86dd, ip6(A6, sn(D6), 58, icmp6(A6, sn(D6), struct.pack('!BBHI', 135, 0, 0, 0) + D6 + b'\x01\x01' + smac), hlim=64)),
 'udp4_nocsum': (dmac, 0x0800, udp4(A, D, 40000, 9999, b'abc', cs=False)),
 'udp4_badlen': (dmac, 0x0800, udp4(A, D, 40000, 9999, b'abc', ulen=50)),
 'udp4_shortlen': (dmac, 0x0800, udp4(A, D, 40000, 9999, b'abcdef', ulen=9)),
 'udp6_nocsum': (dmac, 0x86dd, udp6(A6, D6, 40000, 9999, b'abc', cs=False)),
 'udp4_echo_nocsum': (dmac, 0x0800, udp4(A, D, 40000, 7, b'ping', cs=False)),
 # Echo to broadcast and group addresses, and what a closed port or TCP says there.
 'udp4_bcast_echo': (bcast, 0x0800, udp4(A, b'\xff' * 4, 40001, 7, b'bcast')),
 'udp4_subnet_bcast_echo': (bcast, 0x0800, udp4(A, socket.inet_aton('198.18.50.255'), 40002, 7, b'subnet')),
 'udp4_allhosts_echo': (bytes.fromhex('01005e000001'), 0x0800, udp4(A, socket.inet_aton('224.0.0.1'), 40003, 7, b'group')),
 'udp4_bcast_closed': (bcast, 0x0800, udp4(A, b'\xff' * 4, 40004, 9999, b'closed')),
 'udp4_other_group_echo': (bytes.fromhex('01005e000909'), 0x0800, udp4(A, socket.inet_aton('224.0.9.9'), 40005, 7, b'other')),
}
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); s.bind(('va', 0))
for name in sys.argv[1:]:
    to, etype, payload = cases[name]
    s.send(to + smac + struct.pack('!H', etype) + payload); time.sleep(1.1)
