#!/usr/bin/env python3
"""Sends the packets the wire tests capture. Run inside a lab namespace: traffic.py MODE [ARGS].

Every value here (ports, TTLs, payloads, identifiers) is checked by the tests, so change both together.
"""
import socket
import struct
import sys


def csum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def udp4():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, 33)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, 0x10)
    s.bind(("198.18.0.1", 40000))
    s.sendto(b"xdpstack wire udp4", ("198.18.0.2", 9))


def udp6ext():
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    # Hop-by-Hop Options: next header and length are filled by the kernel's layout (length 0 = 8 octets);
    # one PadN option with 4 octets of padding.
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_HOPOPTS, bytes([0, 0, 1, 4, 0, 0, 0, 0]))
    # Destination Options, length 1 = 16 octets: option 0x1e (RFC 4727 experiment, "skip if unknown")
    # with data 01..06, then PadN with 4 octets.
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_DSTOPTS, bytes([0, 1, 0x1E, 6, 1, 2, 3, 4, 5, 6, 1, 4, 0, 0, 0, 0]))
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 17)
    s.bind(("2001:2::1", 40002))
    s.sendto(b"xdpstack wire udp6", ("2001:2::2", 9))


def srv6_echo():
    # A Segment Routing Header (Routing header type 4, RFC 8754) from a socket option, which every kernel with IPv6
    # accepts; a seg6 route would need CONFIG_IPV6_SEG6_LWTUNNEL, which some machines lack. The kernel writes the
    # final destination into segment list[0] and sends to list[segments left], as a seg6 inline route does.
    ipv6_rthdr = 57
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    # next header (kernel), length 4 (two segments), type 4, segments left 1, last entry 1, flags, tag, list[0], list[1]
    srh = struct.pack("!BBBBBBH", 0, 4, 4, 1, 1, 0, 0) + bytes(16) + socket.inet_pton(socket.AF_INET6, "2001:2::2")
    s.setsockopt(socket.IPPROTO_IPV6, ipv6_rthdr, srh)
    s.bind(("2001:2::1", 0))
    # The kernel fills the ICMPv6 checksum, over a pseudo-header with the final destination (RFC 8200 §8.1).
    s.sendto(struct.pack("!BBHHH", 128, 0, 0, 4664, 1) + b"xdpstack wire srv6", ("2001:2::99", 0))


def tcp_listen():
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("198.18.0.2", 8080))
    listener.listen(1)
    print("ready", flush=True)
    listener.settimeout(10)
    conn, _ = listener.accept()
    conn.close()


def tcp_connect():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 1400)
    s.bind(("198.18.0.1", 40001))
    s.settimeout(5)
    s.connect(("198.18.0.2", 8080))
    s.close()


def mld_join():
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    group = socket.inet_pton(socket.AF_INET6, "ff05::1:3")
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, group + struct.pack("@I", socket.if_nametoindex(sys.argv[2])))


def vlan(device):
    # This kernel has no 8021q module, so the tag is written here and the frame sent on a packet socket.
    payload = bytes(range(0x10, 0x30))
    icmp = struct.pack("!BBHHH", 8, 0, 0, 4663, 1) + payload
    icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), 0x1234, 0x4000, 64, 1, 0,
                     socket.inet_aton("198.18.10.1"), socket.inet_aton("198.18.10.2"))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    tci = (5 << 13) | 10  # priority 5, VLAN 10
    frame = bytes.fromhex("020000000002" "020000000001") + struct.pack("!HHH", 0x8100, tci, 0x0800) + ip + icmp
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((device, 0))
    s.send(frame)


MODES = {"udp4": udp4, "udp6ext": udp6ext, "srv6-echo": srv6_echo, "tcp-listen": tcp_listen, "tcp-connect": tcp_connect,
         "mld-join": mld_join, "vlan": lambda: vlan(sys.argv[2])}

if __name__ == "__main__":
    MODES[sys.argv[1]]()
