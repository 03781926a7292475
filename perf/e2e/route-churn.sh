#!/usr/bin/env bash
# Kernel route churn while forwarding (issue 14, "Scale"): `xdpstack run` with [kernel_routes] sync = true in a
# namespace, ROUTES4 /32 routes loaded into that namespace's main table, dpdk-testpmd sending 64-byte UDP through the
# appliance to one of them, then RATE route updates per second for DURATION seconds (rtnl-feed.py: adds of /24../32
# inside 198.18.192.0/18 not in the table, deletes of ones that are, 64 per netlink datagram, as a routing daemon
# writes them). Reports whether the rate was sustained, the appliance's notification-to-publication latency over the
# churn window (p50/p99/max, from two `show route-summary --json` histograms, 1 ms buckets), how its IPv4 fast path
# followed (full snapshot builds and route-by-route updates), how long after the last update its table held exactly
# the kernel's routes, and the forwarding rate during the churn against the windows of BASE_S seconds without churn
# before and after it (the rate at the peer, and the rate the generator offered, which shares CPU 0 with the feeder).
#
#   dotnet build src/Appliance -c Release
#   flock -x /tmp/xdpstack-cpu.lock perf/e2e/route-churn.sh
#
# Environment: ROUTES4 (100000; /32s of 198.19.0.0/16, then of 198.18.2.0 upwards, at most 123,392 so that they stay
# below the churn block), RATE (10000 updates/s), DURATION (60 s), BASE_S (10 s), DUT_CPU (1: the worker),
# GEN_CPU (0: the generator, the feeder and the appliance's control threads), LOAD (1; 0: no generator, to see the
# control plane's own latency), XDPSTACK_DLL (the built xdpstack.dll), GENERATOR (testpmd, or livegen:
# perf/native/xdp_livegen.c, XDP live frames paced at GEN_RATE frames/s, default 1000000, whose rate does not depend
# on how much of CPU 0 the feeder leaves it as long as it has enough; offered is then its own count).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUTES4=${ROUTES4:-100000}
RATE=${RATE:-10000}
DURATION=${DURATION:-60}
BASE_S=${BASE_S:-10}
LOAD=${LOAD:-1}
DUT_CPU=${DUT_CPU:-1}
GEN_CPU=${GEN_CPU:-0}
GENERATOR=${GENERATOR:-testpmd}
GEN_RATE=${GEN_RATE:-1000000}
XDPSTACK_DLL=${XDPSTACK_DLL:-src/Appliance/bin/Release/net10.0/xdpstack.dll}
source perf/e2e/lib.sh
case $GENERATOR in
  testpmd) require_root_and_tools ip python3 taskset dpdk-testpmd ethtool ;;
  livegen) require_root_and_tools ip python3 taskset gcc ethtool ;;
  *) echo "GENERATOR must be testpmd or livegen" >&2; exit 1 ;;
esac
[ "$ROUTES4" -ge 1 ] && [ "$ROUTES4" -le 123392 ] || { echo "ROUTES4 must be 1 to 123392" >&2; exit 1; }

tag=$$
GEN=xcg$tag DUT=xcd$tag PEER=xcp$tag
GI=xcg$tag DB=xcdb$tag DA=xcda$tag PA=xcp$tag   # veth ends: GI<->DB, DA<->PA
NAMESPACES="$GEN $DUT $PEER"
for ns in "$GEN" "$DUT" "$PEER"; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
ip link add "$GI" netns "$GEN" type veth peer name "$DB" netns "$DUT"
ip link add "$DA" netns "$DUT" type veth peer name "$PA" netns "$PEER"
for x in "$GEN $GI" "$DUT $DB" "$DUT $DA" "$PEER $PA"; do
  set -- $x
  ip netns exec "$1" sh -c "cd /proc/sys/net/ipv6/conf/$2 && echo 1 > addr_gen_mode && echo 0 > router_solicitations && echo 1 > disable_ipv6"
  ip -n "$1" link set "$2" up
done
ip -n "$PEER" addr add 198.18.1.2/24 dev "$PA"
ip -n "$GEN" addr add 198.18.2.2/24 dev "$GI"
ip netns exec "$GEN" ethtool -K "$GI" tso off >/dev/null
db_mac=$(ip netns exec "$DUT" cat /sys/class/net/"$DB"/address)

cat > "$work/run.toml" <<TOML
[workers]
cores = [$DUT_CPU]

[xdp]
lpm_huge_pages = false

[management]
listen = ""

[kernel_routes]
sync = true
ipv6 = false

[[interface]]
name = "$DA"
addresses = ["198.18.1.1/24"]

[[interface]]
name = "$DB"
addresses = ["198.18.2.1/24"]
TOML

ip netns exec "$DUT" taskset -c "$GEN_CPU" dotnet "$XDPSTACK_DLL" run -c "$work/run.toml" --socket "$work/ctl.sock" > "$work/run.log" 2>&1 &
dut_pid=$!; track_pid "$dut_pid"
wait_for "$work/run.log" "xdpstack: ready" 60

feed() { ip netns exec "$DUT" taskset -c "$GEN_CPU" /usr/bin/python3 perf/e2e/rtnl-feed.py "$@"; }
stat() { ip netns exec "$1" cat "/sys/class/net/$2/statistics/$3"; }
# summary: `show route-summary --json` straight from the control socket (the CLI's start-up would add 0.3 s per poll).
summary() {
  python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rwb")
f.write(b"show route-summary\n"); f.flush(); sys.stdout.write(f.readline().decode())' "$work/ctl.sock"
}
# wait_routes N SECONDS: waits until the appliance's table holds exactly N IPv4 routes; prints how long that took.
wait_routes() {
  python3 - "$work/ctl.sock" "$1" "$2" <<'PY'
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rwb")
want, limit, start = int(sys.argv[2]), float(sys.argv[3]), time.monotonic()
while True:
    f.write(b"show route-summary\n"); f.flush()
    have = json.loads(f.readline())["ipv4_routes"]
    if have == want:
        print(f"{time.monotonic() - start:.2f}")
        break
    if time.monotonic() - start > limit:
        sys.exit(f"the appliance has {have} IPv4 routes, the kernel {want}")
    time.sleep(0.01)
PY
}
ipv4_routes() { summary | python3 -c 'import json, sys; print(json.load(sys.stdin)["ipv4_routes"])'; }
# threads: CPU seconds (user + system) of each of the appliance's threads, by name, as "name seconds" lines.
threads() {
  local t
  for t in /proc/"$dut_pid"/task/*; do
    awk -v hz="$(getconf CLK_TCK)" '{ sub(/^[0-9]+ \(/, ""); name = $0; sub(/\) .*/, "", name); n = split($0, f, ") "); split(f[n], g, " "); gsub(/ /, "_", name); print name, (g[12] + g[13]) / hz }' "$t/stat" 2>/dev/null || true
  done
}
# fast_slow: frames the workers' fast paths forwarded and frames they gave the full stack, so far, as "fast slow".
fast_slow() {
  python3 -c 'import json, socket, sys; s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rwb")
f.write(b"show counters\n"); f.flush(); w = json.loads(f.readline())["workers"]
print(sum(x["counters"]["fast_forwarded_ipv4"] for x in w), sum(x["counters"]["slow_path"] for x in w))' "$work/ctl.sock"
}
# offered_count: frames the generator has sent so far (livegen: its own count, asked for with SIGUSR1).
offered_count() {
  if [ "$GENERATOR" = livegen ] && [ "$LOAD" = 1 ]; then
    local before; before=$(grep -c "xdp_livegen: sent" "$work/generator.log" || true)
    kill -USR1 "$gpid"
    for _ in $(seq 200); do [ "$(grep -c "xdp_livegen: sent" "$work/generator.log" || true)" -gt "$before" ] && break; sleep 0.01; done
    grep "xdp_livegen: sent" "$work/generator.log" | tail -1 | awk '{ print $3 }'
  else
    stat "$GEN" "$GI" tx_packets
  fi
}
# window NAME SECONDS: over SECONDS, the packets the peer received, those the generator sent, and the frames the
# fast paths and the full stack took, as "NAME rx offered seconds fast slow".
window() {
  local rx0 off0 t0 rx1 off1 t1 fs0 fs1
  fs0=$(fast_slow); rx0=$(stat "$PEER" "$PA" rx_packets); off0=$(offered_count); t0=$(date +%s.%N)
  sleep "$2"
  rx1=$(stat "$PEER" "$PA" rx_packets); off1=$(offered_count); t1=$(date +%s.%N); fs1=$(fast_slow)
  echo "$1 $(( rx1 - rx0 )) $(( off1 - off0 )) $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')" \
    $(( ${fs1% *} - ${fs0% *} )) $(( ${fs1#* } - ${fs0#* } ))
}

connected=$(ipv4_routes)
t0=$(date +%s.%N)
load=$(feed load "$ROUTES4" 198.18.1.2 "$DA")
wait_routes $(( connected + ROUTES4 )) 300 >/dev/null
echo "load: $ROUTES4 IPv4 routes in the appliance's table $(awk -v s="$t0" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }') s after the feeder started (feeder: $load)"

# The load: 64-byte UDP 198.18.2.2 -> 198.19.0.1 (a base route via the peer), to the appliance's MAC.
if [ "$LOAD" = 1 ] && [ "$GENERATOR" = livegen ]; then
  gcc -O2 -o "$work/xdp_livegen" perf/native/xdp_livegen.c
  ip netns exec "$GEN" taskset -c "$GEN_CPU" "$work/xdp_livegen" "$GI" "$db_mac" 198.18.2.2 198.19.0.1 \
    --rate "$GEN_RATE" --size 64 > "$work/generator.log" 2>&1 &
  gpid=$!; track_pid "$gpid"
  wait_for "$work/generator.log" "xdp_livegen: sending" 30 "$gpid"
  sleep 10  # past the start-up: ARP, tiered compilation, the collections after the load
elif [ "$LOAD" = 1 ]; then
  ip netns exec "$GEN" dpdk-testpmd --no-huge -m 1024 --no-pci --file-prefix "xcg$tag" \
    --lcores "0@$GEN_CPU,1@$GEN_CPU" --vdev "net_af_xdp0,iface=$GI" -- \
    --forward-mode=txonly --eth-peer="0,$db_mac" --tx-ip="198.18.2.2,198.19.0.1" --txpkts=64 --nb-cores=1 \
    --stats-period 60 > "$work/testpmd.log" 2>&1 &
  gpid=$!; track_pid "$gpid"
  wait_for "$work/testpmd.log" "start packet forwarding" 30
  sleep 10  # past the start-up: ARP, tiered compilation, the collections after the load
fi

window before "$BASE_S" > "$work/windows"
summary > "$work/before.json"
threads > "$work/threads.before"
window churn "$DURATION" >> "$work/windows" &
wpid=$!
feed churn "$RATE" "$DURATION" 198.18.1.2 "$DA" > "$work/churn.json"
wait "$wpid"
live=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["live"])' "$work/churn.json")
t_settle=$(wait_routes $(( connected + ROUTES4 + live )) 120)
threads > "$work/threads.after"
summary > "$work/after.json"
window after "$BASE_S" >> "$work/windows"
if [ "$LOAD" = 1 ]; then kill -TERM "$gpid" 2>/dev/null || true; wait "$gpid" 2>/dev/null || true; untrack_pid "$gpid"; fi

python3 - "$work/before.json" "$work/after.json" "$work/churn.json" "$work/windows" "$RATE" "$t_settle" "$work/threads.before" "$work/threads.after" <<'PY'
import json, math, sys
before, after, churn = (json.load(open(p)) for p in sys.argv[1:4])
rate, settle = int(sys.argv[5]), float(sys.argv[6])
windows = {n: (int(rx), int(off), float(s), int(fast), int(slow)) for n, rx, off, s, fast, slow in (l.split() for l in open(sys.argv[4]))}
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
kb, ka = before["kernel_sync"], after["kernel_sync"]
achieved = churn["sent"] / churn["seconds"]
sustained = achieved >= 0.98 * rate and churn["worst_lag"] < 1.0
print(f"churn: {churn['sent']} updates in {churn['seconds']:.2f} s = {achieved:,.0f}/s against {rate:,}/s asked "
      f"({'sustained' if sustained else 'NOT sustained'}; the feeder fell at most {churn['worst_lag'] * 1000:.0f} ms behind its schedule); "
      f"{churn['live']} churned prefixes left in the table, {churn['errors']} kernel errors")
counts = [a - b for a, b in zip(ka["latency"]["counts"], kb["latency"]["counts"])]
mx = ka["latency"]["max_milliseconds"]
p50, p99 = quantile(counts, 0.5, mx), quantile(counts, 0.99, mx)
ms = lambda v: "none" if v is None else f"{v:.0f}"
print(f"latency, notification to route table publication, over {sum(counts)} changes: p50 {ms(p50)} ms, p99 {ms(p99)} ms "
      f"(max since start {mx:.1f} ms); {ka['publications'] - kb['publications']} publications, "
      f"{ka['resyncs'] - kb['resyncs']} dumps ({ka['overruns'] - kb['overruns']} overruns)")
fb, fa = before.get("fast_path"), after.get("fast_path")
if fb and fa:
    print(f"IPv4 fast path: {fa['ipv4_updates'] - fb['ipv4_updates']} route-by-route snapshot updates and "
          f"{fa['ipv4_full_builds'] - fb['ipv4_full_builds']} full builds during the churn "
          f"({fa.get('ipv4_lpm_copies', 0) - fb.get('ipv4_lpm_copies', 0)} updates on a copied LPM, the rest on the other "
          f"of its two tables); at table version {fa['ipv4_route_version']} of {after['table_version']} at the end")
print(f"settle: the appliance's table held exactly the kernel's routes {settle:.2f} s after the feeder finished")
def cpu(path):
    seconds = {}
    for line in open(path):
        name, value = line.rsplit(" ", 1)
        seconds[name] = seconds.get(name, 0.0) + float(value)
    return seconds
tb, ta = cpu(sys.argv[7]), cpu(sys.argv[8])
used = sorted(((ta[n] - tb.get(n, 0.0), n) for n in ta), reverse=True)
span = churn["seconds"] + settle
print(f"appliance CPU over the churn and settle ({span:.1f} s), by thread: "
      + ", ".join(f"{n} {s:.2f} s ({s / span:.0%})" for s, n in used[:6] if s > 0.01))
rates = {n: (rx / s / 1e6, off / s / 1e6) for n, (rx, off, s, _, _) in windows.items()}
base = (rates["before"][0] + rates["after"][0]) / 2
if base > 0:
    for n in ("before", "churn", "after"):
        rx, off, s, fast, slow = windows[n]
        print(f"forwarding {n:>6}: {rates[n][0]:.3f} Mpps at the peer, {rates[n][1]:.3f} Mpps offered, {rx / max(off, 1):.2f} of it "
              f"({s:.0f} s); fast path {fast / max(fast + slow, 1):.1%} of the frames the worker took ({slow} to the full stack)")
    print(f"forwarding during churn: {rates['churn'][0] / base:.2f} of the mean rate without churn; "
          f"{(windows['churn'][0] / windows['churn'][1]) / ((windows['before'][0] + windows['after'][0]) / (windows['before'][1] + windows['after'][1])):.2f} "
          f"of its share of what was offered")
PY
