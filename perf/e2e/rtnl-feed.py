#!/usr/bin/python3
"""Feeds IPv4 route changes to the kernel over rtnetlink, many per message batch, without waiting for acknowledgements.

`ip -batch` sends one change and waits for its acknowledgement before reading the next line, which holds it to about
1,800 changes per second on the 2-vCPU lab; a routing daemon writes to the same socket far faster. This does what the
daemon does: one datagram carries up to 64 RTM_NEWROUTE/RTM_DELROUTE messages, and the kernel has applied all of them
when sendmsg returns (rtnetlink runs in the sender's context). Errors still come back as NLMSG_ERROR and are counted.
Run it inside the namespace whose main table it changes.

  rtnl-feed.py load COUNT GATEWAY IFNAME            COUNT /32s of 198.19.0.0/16, then of 198.18.2.0 upwards
  rtnl-feed.py churn RATE SECONDS GATEWAY IFNAME    adds and deletes of /24../32 in 198.18.192.0/18, paced per 10 ms
  rtnl-feed.py batch FILE                           the lines of an `ip -batch` file of the form
                                                    "route add PREFIX via GATEWAY dev IFNAME onlink proto bird [metric N]",
                                                    IPv4 or IPv6, as fast as the kernel takes them

Each prints one JSON line: what was sent, how long it took, how far churn fell behind its schedule, the churned
prefixes left in the table and the errors the kernel returned.
"""
import json
import random
import socket
import struct
import sys
import time

RTM_NEWROUTE, RTM_DELROUTE = 24, 25
NLM_F_REQUEST, NLM_F_CREATE, NLM_F_REPLACE = 0x1, 0x400, 0x100
NLMSG_ERROR = 2
RTA_DST, RTA_OIF, RTA_GATEWAY, RTA_PRIORITY = 1, 4, 5, 6
RT_TABLE_MAIN, RTPROT_BIRD, RT_SCOPE_UNIVERSE, RTN_UNICAST, RTNH_F_ONLINK = 254, 12, 0, 1, 4
METRIC = 20
PER_SEND = 64
CHURN_BLOCK = 0xC612C000  # 198.18.192.0/18


def attr(kind, payload):
    return struct.pack("=HH", 4 + len(payload), kind) + payload


class Feeder:
    def __init__(self, gateway=None, ifname=None):
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        self.sock.bind((0, 0))
        self.sock.setblocking(False)
        self.gateway = socket.inet_aton(gateway) if gateway else None
        self.oif = socket.if_nametoindex(ifname) if ifname else 0
        self.seq = 0
        self.errors = 0
        self.pending = []

    def message(self, kind, address, length):
        """An IPv4 route of the feeder's gateway and interface, metric METRIC."""
        self.route(kind, socket.AF_INET, struct.pack("!I", address), length, self.gateway, self.oif, METRIC)

    def route(self, kind, family, dst, length, gateway, oif, metric):
        self.seq += 1
        if kind == RTM_NEWROUTE:
            flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE
            rtm = struct.pack("=BBBBBBBBI", family, length, 0, 0, RT_TABLE_MAIN, RTPROT_BIRD,
                              RT_SCOPE_UNIVERSE, RTN_UNICAST, RTNH_F_ONLINK)
            body = rtm + attr(RTA_DST, dst) + attr(RTA_GATEWAY, gateway) + attr(RTA_OIF, struct.pack("=I", oif)) \
                + attr(RTA_PRIORITY, struct.pack("=I", metric))
        else:
            flags = NLM_F_REQUEST
            rtm = struct.pack("=BBBBBBBBI", family, length, 0, 0, RT_TABLE_MAIN, RTPROT_BIRD,
                              RT_SCOPE_UNIVERSE, RTN_UNICAST, 0)
            body = rtm + attr(RTA_DST, dst) + attr(RTA_PRIORITY, struct.pack("=I", metric))
        self.pending.append(struct.pack("=IHHII", 16 + len(body), kind, flags, self.seq, 0) + body)
        if len(self.pending) == PER_SEND:
            self.flush()

    def flush(self):
        if self.pending:
            self.sock.sendto(b"".join(self.pending), (0, 0))
            self.pending.clear()
        self.drain()

    def drain(self):
        while True:
            try:
                data = self.sock.recv(1 << 16)
            except BlockingIOError:
                return
            offset = 0
            while offset + 16 <= len(data):
                length, kind = struct.unpack_from("=IH", data, offset)
                if kind == NLMSG_ERROR and struct.unpack_from("=i", data, offset + 16)[0] != 0:
                    self.errors += 1
                offset += (length + 3) & ~3


def load(count, gateway, ifname):
    feeder = Feeder(gateway, ifname)
    start = time.monotonic()
    sent = 0
    for first, limit in ((0xC6130000, 0xC6130000 + 65536), (0xC6120200, CHURN_BLOCK)):
        a = first
        while sent < count and a < limit:
            feeder.message(RTM_NEWROUTE, a, 32)
            a += 1
            sent += 1
    if sent < count:
        sys.exit(f"only {sent} base routes fit below the churn block 198.18.192.0/18")
    feeder.flush()
    time.sleep(0.1)
    feeder.drain()
    print(json.dumps({"sent": sent, "seconds": time.monotonic() - start, "errors": feeder.errors}))


def churn(rate, seconds, gateway, ifname):
    feeder = Feeder(gateway, ifname)
    # The pool: 20,000 random /24../32 prefixes inside the churn block, none of them in the table at first.
    rng = random.Random(14)
    pool = set()
    while len(pool) < 20000:
        length = rng.randint(24, 32)
        pool.add(((CHURN_BLOCK | rng.getrandbits(14)) & ((0xFFFFFFFF << (32 - length)) & 0xFFFFFFFF), length))
    pool = sorted(pool)
    live = set()
    tick = 0.01
    sent, owed, worst_lag = 0, 0.0, 0.0
    start = time.monotonic()
    next_tick = start
    while next_tick - start < seconds:
        owed += rate * tick
        chunk = int(owed)
        owed -= chunk
        for _ in range(chunk):
            p = rng.choice(pool)
            if p in live:
                live.remove(p)
                feeder.message(RTM_DELROUTE, *p)
            else:
                live.add(p)
                feeder.message(RTM_NEWROUTE, *p)
        feeder.flush()
        sent += chunk
        next_tick += tick
        now = time.monotonic()
        worst_lag = max(worst_lag, now - next_tick)
        if next_tick > now:
            time.sleep(next_tick - now)
    elapsed = time.monotonic() - start
    time.sleep(0.1)
    feeder.drain()
    print(json.dumps({"sent": sent, "seconds": elapsed, "worst_lag": worst_lag, "live": len(live), "errors": feeder.errors}))


def batch(path):
    feeder = Feeder()
    start = time.monotonic()
    sent = 0
    interfaces = {}
    for line in open(path):
        words = line.split()
        if not words:
            continue
        if words[:2] != ["route", "add"] or "via" not in words or "dev" not in words:
            sys.exit(f"{path}: not a route add with via and dev: {line.strip()}")
        prefix, length = words[2].split("/")
        family = socket.AF_INET6 if ":" in prefix else socket.AF_INET
        gateway = socket.inet_pton(family, words[words.index("via") + 1])
        name = words[words.index("dev") + 1]
        oif = interfaces.setdefault(name, socket.if_nametoindex(name))
        metric = int(words[words.index("metric") + 1]) if "metric" in words else (1024 if family == socket.AF_INET6 else 0)
        feeder.route(RTM_NEWROUTE, family, socket.inet_pton(family, prefix), int(length), gateway, oif, metric)
        sent += 1
    feeder.flush()
    time.sleep(0.1)
    feeder.drain()
    print(json.dumps({"sent": sent, "seconds": time.monotonic() - start, "errors": feeder.errors}))


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "load":
        load(int(sys.argv[2]), sys.argv[3], sys.argv[4])
    elif len(sys.argv) == 6 and sys.argv[1] == "churn":
        churn(int(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5])
    elif len(sys.argv) == 3 and sys.argv[1] == "batch":
        batch(sys.argv[2])
    else:
        sys.exit(__doc__)
