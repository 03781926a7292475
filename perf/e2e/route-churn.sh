#!/usr/bin/env bash
# Kernel route churn (issue 14, "Scale"): `xdpstack run` with [kernel_routes] sync = true in a namespace, ROUTES4
# routes loaded into that namespace's main table with `ip -batch`, then RATE route updates per second for DURATION
# seconds: one `ip -force -batch -` fed at that pace, each line an add of a /24../32 inside 198.18.192.0/18 that is not
# in the table or a delete of one that is. Reports whether the rate was sustained (how far the feeder fell behind its
# schedule; `ip` takes each change to the kernel before it reads the next line), the appliance's notification-to-
# publication latency over the churn window (p50/p99/max, from the difference of two `show route-summary --json`
# histograms, 1 ms buckets), and how long after the last update its table held exactly the kernel's routes.
# The forwarding rate during churn is not measured by this script.
#
#   dotnet build src/Appliance -c Release
#   flock -x /tmp/xdpstack-cpu.lock perf/e2e/route-churn.sh
#
# Environment: ROUTES4 (100000; /32s of 198.19.0.0/16, then of 198.18.2.0 upwards, at most 123,392 so that they stay
# below the churn block), RATE (10000 updates/s), DURATION (60 s), DUT_CPU (1), FEED_CPU (0),
# XDPSTACK_DLL (the built xdpstack.dll).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUTES4=${ROUTES4:-100000}
RATE=${RATE:-10000}
DURATION=${DURATION:-60}
DUT_CPU=${DUT_CPU:-1}
FEED_CPU=${FEED_CPU:-0}
XDPSTACK_DLL=${XDPSTACK_DLL:-src/Appliance/bin/Release/net10.0/xdpstack.dll}
source perf/e2e/lib.sh
require_root_and_tools ip python3 taskset
tag=$$
DUT=xcd$tag PEER=xcp$tag DA=xcda$tag PA=xcpa$tag
NAMESPACES="$DUT $PEER"
for ns in "$DUT" "$PEER"; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
ip link add "$DA" netns "$DUT" type veth peer name "$PA" netns "$PEER"
ip -n "$DUT" link set "$DA" up
ip -n "$PEER" link set "$PA" up

cat > "$work/run.toml" <<TOML
[xdp]
frames_per_worker = 4096
fill_ring = 2048
lpm_huge_pages = false

[management]
listen = ""

[kernel_routes]
sync = true
ipv6 = false

[[interface]]
name = "$DA"
addresses = ["198.18.1.1/24"]
TOML

python3 - "$ROUTES4" "$DA" > "$work/base.batch" <<'PY'
import ipaddress, sys
n, dev = int(sys.argv[1]), sys.argv[2]
out = []
for block, first in (("198.19.0.0", 0), ("198.18.2.0", 0)):
    start = int(ipaddress.ip_address(block))
    limit = int(ipaddress.ip_address("198.18.192.0")) if block == "198.18.2.0" else start + 65536
    a = start
    while len(out) < n and a < limit:
        out.append(f"route add {ipaddress.ip_address(a)}/32 via 198.18.1.2 dev {dev} onlink proto bird metric 20")
        a += 1
if len(out) < n:
    sys.exit(f"only {len(out)} base routes fit below the churn block 198.18.192.0/18")
print("\n".join(out))
PY

ip netns exec "$DUT" taskset -c "$DUT_CPU" dotnet "$XDPSTACK_DLL" run -c "$work/run.toml" --socket "$work/ctl.sock" > "$work/run.log" 2>&1 &
track_pid $!
wait_for "$work/run.log" "xdpstack: ready" 60

python3 - "$work/ctl.sock" "$DUT" "$DA" "$work/base.batch" "$ROUTES4" "$RATE" "$DURATION" "$FEED_CPU" <<'PY'
import json, math, random, socket, subprocess, sys, time
path, ns, dev, base_batch = sys.argv[1:5]
n4, rate, duration, feed_cpu = int(sys.argv[5]), int(sys.argv[6]), float(sys.argv[7]), int(sys.argv[8])
s = socket.socket(socket.AF_UNIX); s.connect(path); f = s.makefile("rwb")
def summary():
    f.write(b"show route-summary\n"); f.flush()
    return json.loads(f.readline())
def until(done, what, limit=600):
    start = time.monotonic()
    while not done(summary()):
        if time.monotonic() - start > limit:
            sys.exit(f"timed out: {what}: {summary()['kernel_sync']['ipv4_routes']} kernel IPv4 routes mirrored")
        time.sleep(0.02)
    return time.monotonic() - start
def quantile(counts, q, mx):
    total = sum(counts)
    if total == 0:
        return None
    rank, seen = max(1, math.ceil(q * total)), 0
    for i, c in enumerate(counts):
        seen += c
        if seen >= rank:
            return i + 1 if i < len(counts) - 1 else mx
    return mx

k0 = summary()["kernel_sync"]["ipv4_routes"]
t0 = time.monotonic()
subprocess.check_call(["ip", "-n", ns, "-batch", base_batch])
until(lambda r: r["kernel_sync"]["ipv4_routes"] == k0 + n4, "load")
print(f"load: {n4} IPv4 routes in {time.monotonic() - t0:.2f} s (ip -batch and the appliance's mirror)")

# The churn pool: 20,000 random /24../32 prefixes inside 198.18.192.0/18, none of them in the table at first.
rng = random.Random(14)
pool = set()
while len(pool) < 20000:
    length = rng.randint(24, 32)
    a = (0xC612C000 | rng.getrandbits(14)) & ((0xFFFFFFFF << (32 - length)) & 0xFFFFFFFF)
    pool.add((a, length))
pool = sorted(pool)
live = set()
def line(p):
    a, length = p
    text = f"{a >> 24}.{(a >> 16) & 255}.{(a >> 8) & 255}.{a & 255}/{length}"
    if p in live:
        live.remove(p)
        return f"route del {text} proto bird\n"
    live.add(p)
    return f"route add {text} via 198.18.1.2 dev {dev} onlink proto bird metric 20\n"

before = summary()["kernel_sync"]
ip = subprocess.Popen(["taskset", "-c", str(feed_cpu), "ip", "-n", ns, "-force", "-batch", "-"], stdin=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
tick = 0.01
per_tick = rate * tick
sent, owed, worst_lag = 0, 0.0, 0.0
start = time.monotonic()
next_tick = start
while next_tick - start < duration:
    owed += per_tick
    chunk = int(owed)
    owed -= chunk
    ip.stdin.write("".join(line(rng.choice(pool)) for _ in range(chunk)))
    ip.stdin.flush()
    sent += chunk
    next_tick += tick
    now = time.monotonic()
    worst_lag = max(worst_lag, now - next_tick)
    if next_tick > now:
        time.sleep(next_tick - now)
ip.stdin.close()
ip.wait()
t_fed = time.monotonic() - start
t_settle = until(lambda r: r["kernel_sync"]["ipv4_routes"] == k0 + n4 + len(live), "settle", limit=120)
after = summary()["kernel_sync"]
achieved = sent / t_fed
sustained = achieved >= 0.98 * rate and worst_lag < 1.0
counts = [a - b for a, b in zip(after["latency"]["counts"], before["latency"]["counts"])]
mx = after["latency"]["max_milliseconds"]
p50, p99 = quantile(counts, 0.5, mx), quantile(counts, 0.99, mx)
print(f"churn: {sent} updates in {t_fed:.2f} s = {achieved:,.0f}/s against {rate:,}/s asked "
      f"({'sustained' if sustained else 'NOT sustained'}; the feeder fell at most {worst_lag * 1000:.0f} ms behind its schedule); "
      f"{len(live)} churned prefixes left in the table")
ms = lambda v: "none" if v is None else f"{v:.0f}"
print(f"latency, notification to route table publication, over {sum(counts)} changes: p50 {ms(p50)} ms, p99 {ms(p99)} ms "
      f"(max since start {mx:.1f} ms); {after['publications'] - before['publications']} publications, "
      f"{after['resyncs'] - before['resyncs']} dumps ({after['overruns'] - before['overruns']} overruns)")
print(f"settle: the appliance's mirror held exactly the kernel's routes {t_settle:.2f} s after the feeder finished")
PY
