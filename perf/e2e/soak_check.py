#!/usr/bin/env python3
"""The checks of soak.sh: reads the metric scrapes taken during the soak, the final scrape and the kernel's counters
taken once the generators stopped, and the appliance's log; prints the figures and one line per check; exits 1 when a
check fails.

Conservation is checked twice, exactly:
- at the wires: what each generator's veth handed to the appliance's end (tx_packets) is what the appliance read
  from that interface's RX ring plus what the kernel dropped on the way into the ring (the veth's XDP drops and the
  AF_XDP socket's rx_dropped / rx_ring_full), and what the appliance put on a TX ring is what the far end received;
- inside the appliance, per ingress interface: frames read = frames forwarded + frames answered or consumed by the
  stack + drops, each drop by its reason.
"""
import argparse
import glob
import os
import re
import sys

SERIES = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)')
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def parse(path):
    """Prometheus text -> {(name, frozenset(labels)): value}."""
    out = {}
    with open(path) as f:
        for line in f:
            if line.startswith('#') or not line.strip():
                continue
            m = SERIES.match(line)
            if not m:
                continue
            labels = frozenset(LABEL.findall(m.group(2) or ''))
            out[(m.group(1), labels)] = float(m.group(3))
    return out


def total(metrics, name, **want):
    return sum(v for (n, labels), v in metrics.items()
               if n == name and all((k, w) in labels for k, w in want.items()))


def by_label(metrics, name, label, **want):
    out = {}
    for (n, labels), v in metrics.items():
        d = dict(labels)
        if n == name and all(d.get(k) == w for k, w in want.items()):
            out[d.get(label)] = out.get(d.get(label), 0) + v
    return out


def main():
    p = argparse.ArgumentParser()
    for a in ('scrapes', 'final', 'kernel', 'log', 'fwd4', 'fwd6', 'echo', 'out'):
        p.add_argument('--' + a, required=True)
    p.add_argument('--warmup', type=float, required=True)
    p.add_argument('--elapsed', type=float, required=True)
    p.add_argument('--stop-ms', type=int, required=True)
    p.add_argument('--attached', type=int, required=True)
    a = p.parse_args()

    failures = []

    def check(ok, what):
        print(('ok    ' if ok else 'FAIL  ') + what)
        if not ok:
            failures.append(what)

    files = sorted(glob.glob(os.path.join(a.scrapes, '*')))
    scrapes = [(int(os.path.basename(f)), parse(f)) for f in files]
    final = parse(a.final)
    kernel = {}
    with open(a.kernel) as f:
        for line in f:
            fields = line.split()
            if len(fields) == 4 and fields[3].isdigit():
                kernel[(fields[0], fields[1], fields[2])] = int(fields[3])

    fwd4_gen, fwd4_dev = a.fwd4.split(':')
    fwd6_gen, fwd6_dev = a.fwd6.split(':')
    echo_gen, echo_dev = a.echo.split(':')
    out_dev, sink = a.out.split(':')
    ingress = [(fwd4_gen, fwd4_dev), (fwd6_gen, fwd6_dev), (echo_gen, echo_dev)]

    # Rates over the soak (first to last scrape), from the appliance's own counters.
    (t0, m0), (t1, m1) = scrapes[0], scrapes[-1]
    span = max(t1 - t0, 1)
    rx = lambda m, d: total(m, 'xdpstack_receive_packets_total', device=d)
    tx = lambda m, d: total(m, 'xdpstack_transmit_packets_total', device=d)
    fwd = lambda m, d: total(m, 'xdpstack_forwarded_packets_total', device=d)
    echoed = lambda m: total(m, 'xdpstack_udp_datagrams_total', device=echo_dev, type='echo_replied')
    print(f'soak: {a.elapsed:.0f} s, {len(scrapes)} scrapes')
    print(f'  IPv4 forwarded  {(fwd(m1, fwd4_dev) - fwd(m0, fwd4_dev)) / span / 1e6:8.3f} Mpps '
          f'(of {(rx(m1, fwd4_dev) - rx(m0, fwd4_dev)) / span / 1e6:.3f} Mpps received)')
    print(f'  IPv6 forwarded  {(fwd(m1, fwd6_dev) - fwd(m0, fwd6_dev)) / span / 1e6:8.3f} Mpps '
          f'(of {(rx(m1, fwd6_dev) - rx(m0, fwd6_dev)) / span / 1e6:.3f} Mpps received)')
    print(f'  UDP echoed      {(echoed(m1) - echoed(m0)) / span / 1e6:8.3f} Mpps '
          f'(of {(rx(m1, echo_dev) - rx(m0, echo_dev)) / span / 1e6:.3f} Mpps received)')
    busy = total(m1, 'xdpstack_worker_busy_seconds_total') - total(m0, 'xdpstack_worker_busy_seconds_total')
    print(f'  worker busy     {busy / span * 100:8.1f} % of the time')

    # 1. Conservation at the wires. A veth end with an XDP program runs it on every frame its peer handed over
    # (xdp_packets); the program redirects each to the AF_XDP socket (xdp_redirect) or the redirect fails for want of
    # room in the socket's RX ring or of a fill-ring frame (drops, which the socket counts as rx_dropped/rx_ring_full).
    print('conservation at the wires (generator veth tx = XDP runs = redirected + dropped; redirected = appliance rx):')
    for gen, dev in ingress:
        sent = kernel[('veth', gen, 'tx_packets')]
        eth = lambda what: sum(v for (kind, d, name), v in kernel.items()
                               if kind == 'ethtool' and d == dev and re.fullmatch(r'rx_queue_\d+_' + what, name))
        runs, redirected, dropped = eth('xdp_packets'), eth('xdp_redirect'), eth('drops') + eth('xdp_drops')
        read = total(final, 'xdpstack_receive_packets_total', device=dev)
        xsk = (total(final, 'xdpstack_xsk_rx_dropped_total', device=dev)
               + total(final, 'xdpstack_xsk_rx_ring_full_total', device=dev))
        print(f'  {dev}: {sent} sent, {runs} seen by XDP = {redirected} redirected + {dropped} dropped '
              f'(AF_XDP socket counted {xsk:.0f}); {read:.0f} read by the appliance'
              f' (refused by the veth before: {kernel[("veth", gen, "tx_dropped")]})')
        check(sent == runs, f'{dev}: every frame sent reached its XDP program')
        check(runs == redirected + dropped,
              f'{dev}: every frame XDP saw was redirected or counted as dropped')
        check(redirected == read, f'{dev}: every frame redirected was read by the appliance')
    # What the appliance put on a TX ring, the kernel sent on or counted as dropped at the veth (its peer's ring full).
    print('conservation at the wires (appliance tx = the veth\'s tx + tx_dropped; the far end\'s view after it):')
    for dev, far in ((out_dev, sink), (echo_dev, echo_gen)):
        put = total(final, 'xdpstack_transmit_packets_total', device=dev)
        sent, dropped = kernel[('veth', dev, 'tx_packets')], kernel[('veth', dev, 'tx_dropped')]
        print(f'  {dev}: {put:.0f} put on TX rings = {sent} sent + {dropped} dropped by the veth; '
              f'{kernel[("veth", far, "rx_packets")]} counted in by {far}')
        check(put == sent + dropped, f'{dev}: every frame put on a TX ring was sent or counted as dropped by the kernel')

    # 2. Conservation inside the appliance. Each drop reason belongs to one side: a frame read (the receive side),
    # a frame to send (the transmit side), or a datagram the stack had already delivered to its transport.
    tx_side = {'tx_ring_full', 'umem_pool_empty', 'handoff_full', 'control_handoff_full'}
    after_delivery = {'udp_no_port', 'udp_receive_buffer_full', 'udp_echo_refused', 'malformed_transport',
                      'tcp_no_port', 'tcp_listen_overflow', 'tcp_paws', 'tcp_out_of_window', 'tcp_out_of_order_full'}
    drops_of = lambda dev: {r: v for r, v in by_label(final, 'xdpstack_drops_total', 'reason', device=dev).items() if v}
    print('conservation inside, receive side (read = forwarded + delivered to the stack\'s protocols + drops):')
    for gen, dev in ingress:
        read = total(final, 'xdpstack_receive_packets_total', device=dev)
        forwarded = total(final, 'xdpstack_forwarded_packets_total', device=dev)
        delivered = total(final, 'xdpstack_ip_packets_total', device=dev, type='delivered')
        arp = sum(v for k, v in by_label(final, 'xdpstack_arp_packets_total', 'type', device=dev).items() if k.endswith('_received'))
        rx_drops = {r: v for r, v in drops_of(dev).items() if r not in tx_side and r not in after_delivery}
        print(f'  {dev}: {read:.0f} read = {forwarded:.0f} forwarded + {delivered:.0f} IP delivered + {arp:.0f} ARP'
              f' + {sum(rx_drops.values()):.0f} dropped {dict(sorted(rx_drops.items())) or ""}')
        check(read == forwarded + delivered + arp + sum(rx_drops.values()),
              f'{dev}: every frame read was forwarded, delivered or a counted drop')
    print('conservation inside, transmit side (fast-forwarded to it + built by the stack = put on TX rings + drops):')
    # A frame the stack forwarded itself (rather than the fast path) is one it built: counted as sent by the stack,
    # so taken out of the forwarded count here. Every forwarded flow leaves by out_dev.
    stack_forwarded = sum(total(final, 'xdpstack_ip_packets_total', device=d, type='forwarded') for _, d in ingress)
    for dev in (fwd4_dev, fwd6_dev, echo_dev, out_dev):
        forwarded_to = total(final, 'xdpstack_forwarded_packets_total', out_device=dev)
        if dev == out_dev:
            forwarded_to -= stack_forwarded
        built = total(final, 'xdpstack_stack_frames_total', device=dev, type='sent')
        put = total(final, 'xdpstack_transmit_packets_total', device=dev)
        tx_drops = {r: v for r, v in drops_of(dev).items() if r in tx_side}
        print(f'  {dev}: {forwarded_to:.0f} forwarded to it + {built:.0f} built by the stack = {put:.0f} put on TX rings'
              f' + {sum(tx_drops.values()):.0f} dropped {dict(sorted(tx_drops.items())) or ""}')
        check(forwarded_to + built == put + sum(tx_drops.values()), f'{dev}: every frame to send was sent or a counted drop')
    echoed_total = total(final, 'xdpstack_udp_datagrams_total', device=echo_dev, type='echo_replied')
    udp_in = total(final, 'xdpstack_udp_datagrams_total', device=echo_dev, type='received')
    check(echoed_total == udp_in, f'{echo_dev}: every echo request answered ({echoed_total:.0f} of {udp_in:.0f})')

    # 3. Every UMEM frame accounted for at the stop, and the stop itself.
    with open(a.log) as f:
        log = f.read()
    accounts = re.findall(r'worker \d+ UMEM at stop: .*', log)
    for line in accounts:
        print('  ' + line)
    check(bool(accounts) and all(l.endswith('every frame accounted for') for l in accounts),
          'every UMEM frame accounted for at the stop')
    check(a.stop_ms <= 1000, f'SIGTERM to exit in {a.stop_ms} ms (at most 1000)')
    check(a.attached == 0, 'no XDP program left attached')

    # 4. Flat memory and collections after the warm-up; no counter going backwards.
    steady = [(t, m) for t, m in scrapes if t >= a.warmup] or scrapes[-1:]
    (s0, first), (s1, last) = steady[0], steady[-1]
    rss = [m.get(('process_working_set_bytes', frozenset()), 0) for _, m in steady]
    heap = [m.get(('dotnet_total_memory_bytes', frozenset()), 0) for _, m in steady]
    gen2 = lambda m: total(m, 'dotnet_collection_count_total', generation='2')
    worker_alloc = lambda m: total(m, 'xdpstack_worker_allocated_bytes_total')
    process_alloc = lambda m: total(m, 'xdpstack_dotnet_allocated_bytes_total')
    mib = 1 << 20
    print(f'steady state ({s0} s to {s1} s):')
    print(f'  RSS {rss[0] / mib:.1f} -> {rss[-1] / mib:.1f} MiB (max {max(rss) / mib:.1f}); '
          f'managed heap {heap[0] / mib:.1f} -> {heap[-1] / mib:.1f} MiB (max {max(heap) / mib:.1f})')
    print(f'  gen-2 collections {gen2(first):.0f} -> {gen2(last):.0f}; worker allocated {worker_alloc(first):.0f} -> '
          f'{worker_alloc(last):.0f} bytes; whole process {(process_alloc(last) - process_alloc(first)) / max(s1 - s0, 1):.0f} bytes/s '
          f'(the control plane: scrapes, timers)')
    check(rss[-1] - rss[0] <= 8 * mib, 'resident memory flat (working set grew at most 8 MiB)')
    check(max(heap) <= heap[0] + 32 * mib, 'managed heap flat (never 32 MiB above its start)')
    check(gen2(last) == gen2(first), 'no gen-2 collection in steady state')
    check(worker_alloc(last) == worker_alloc(first), 'the worker allocated nothing in steady state')
    backwards = []
    for (ta, ma), (tb, mb) in zip(scrapes, scrapes[1:]):
        for key, va in ma.items():
            name = key[0]
            if not (name.endswith('_total') or name.endswith('_count') or name.endswith('_sum') or name.endswith('_bucket')):
                continue
            vb = mb.get(key)
            if vb is not None and vb < va:
                backwards.append(f'{name}{dict(key[1])} {va} at {ta} s -> {vb} at {tb} s')
    for b in backwards[:10]:
        print('  ' + b)
    check(not backwards, f'no counter went backwards ({sum(len(m) for _, m in scrapes)} samples)')

    print('soak: ' + ('every check holds' if not failures else f'{len(failures)} check(s) failed'))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
