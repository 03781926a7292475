#!/usr/bin/env bash
# BGP under forwarding load (issue 14: "the session survives 10 minutes of forwarding load without flapping").
# BIRD in the appliance's namespace peers with BIRD on the peer through the punt TAP of the appliance's interface
# toward it (docs/punt.md), the peer announces PREFIXES /32s, the kernel FIB sync brings them into `xdpstack run`;
# then dpdk-testpmd (txonly, 64-byte IPv4 UDP, as fast as it can) sends from the generator through the appliance to
# one of those prefixes, so the forwarded load leaves through the very interface that carries the session, for
# DURATION seconds. Every CHECK_S seconds the script reads the session's state and its "since" time (`birdc show
# protocols`); a flap is any check where the session is not Established or its since time moved by more than a
# second. At the end: flaps (0 expected), the forwarding rate at the peer and the rate offered, the punt counters and
# the session's timers and routes.
# Exits 1 when the session flapped.
#
#   flock -x /tmp/xdpstack-cpu.lock perf/e2e/bgp-under-load.sh                 # 600 s
#   DURATION=30 perf/e2e/bgp-under-load.sh                                      # a quick check
#
# Lab: generator GEN (198.18.2.2) — xdpstack in DUT (.1 on both sides; the side toward the peer punted to TAP xs-p) —
# PEER (198.18.1.2, BGP AS 65002; the appliance's BIRD is AS 65001 on 198.18.1.1 through the TAP). The peer has no
# address for the load's destination and does not forward, so it drops the load silently (counted in rx_packets).
#
# Environment: DURATION (600) seconds of load, CHECK_S (5), PREFIXES (10000, at most 64000: /32s of 198.19.0.0/16),
# HOLD_S (9: BGP hold time, keepalive a third of it; short so that a stalled punt path shows as a flap within the
# run), GEN_CPU/DUT_CPU (0/1), XDPSTACK_DLL (the built xdpstack.dll).
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${DURATION:-600}
CHECK_S=${CHECK_S:-5}
PREFIXES=${PREFIXES:-10000}
HOLD_S=${HOLD_S:-9}
GEN_CPU=${GEN_CPU:-0}
DUT_CPU=${DUT_CPU:-1}
XDPSTACK_DLL=${XDPSTACK_DLL:-src/Appliance/bin/Release/net10.0/xdpstack.dll}
source perf/e2e/lib.sh
require_root_and_tools bird birdc dpdk-testpmd curl python3 taskset ethtool
[ "$PREFIXES" -ge 1 ] && [ "$PREFIXES" -le 64000 ] || { echo "PREFIXES must be 1 to 64000" >&2; exit 1; }
[ "$HOLD_S" -ge 3 ] || { echo "HOLD_S must be at least 3 (BGP, RFC 4271 4.2)" >&2; exit 1; }

tag=$$
GEN=xbg$tag DUT=xbd$tag PEER=xbp$tag
GI=xbg$tag DB=xbdb$tag DA=xbda$tag PA=xbp$tag   # veth ends: GI<->DB, DA<->PA
TAP=xs-p
NAMESPACES="$GEN $DUT $PEER"
for ns in "$GEN" "$DUT" "$PEER"; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
ip link add "$GI" netns "$GEN" type veth peer name "$DB" netns "$DUT"
ip link add "$DA" netns "$DUT" type veth peer name "$PA" netns "$PEER"
for x in "$GEN $GI" "$DUT $DB" "$DUT $DA" "$PEER $PA"; do
  set -- $x
  ip netns exec "$1" sh -c "cd /proc/sys/net/ipv6/conf/$2 && echo 1 > addr_gen_mode && echo 0 > router_solicitations && echo 1 > disable_ipv6"
  ip -n "$1" link set "$2" up
done
# A veth leaves UDP/TCP checksums for "hardware" to finish; BGP's TCP through the appliance must be complete.
ip netns exec "$PEER" ethtool -K "$PA" tx off >/dev/null
ip -n "$PEER" addr add 198.18.1.2/24 dev "$PA"
ip -n "$PEER" route add default via 198.18.1.1
ip -n "$GEN" addr add 198.18.2.2/24 dev "$GI"
ip netns exec "$GEN" ethtool -K "$GI" tso off >/dev/null
db_mac=$(ip netns exec "$DUT" cat /sys/class/net/"$DB"/address)

cat > "$work/xdpstack.toml" <<EOF
[workers]
cores = [$DUT_CPU]
[xdp]
lpm_huge_pages = false
[kernel_routes]
sync = true
[[interface]]
name = "$DA"
addresses = ["198.18.1.1/24"]
punt = true
punt_tap = "$TAP"
[[interface]]
name = "$DB"
addresses = ["198.18.2.1/24"]
EOF
keepalive=$(( HOLD_S / 3 ))
cat > "$work/dut-bird.conf" <<EOF
router id 198.18.1.1;
protocol device { scan time 1; }
protocol kernel { ipv4 { import none; export all; }; }
protocol bgp peer {
  local 198.18.1.1 as 65001;
  neighbor 198.18.1.2 as 65002;
  hold time $HOLD_S; keepalive time $keepalive; connect retry time 1;
  ipv4 { import all; export none; };
}
EOF
{
  echo "router id 198.18.1.2;"
  echo "protocol device { scan time 1; }"
  echo "protocol static announced { ipv4;"
  python3 -c "
import sys
for i in range($PREFIXES): print(f'  route 198.19.{i // 250}.{i % 250 + 1}/32 blackhole;')"
  echo "}"
  echo "protocol bgp dut {"
  echo "  local 198.18.1.2 as 65002; neighbor 198.18.1.1 as 65001;"
  echo "  hold time $HOLD_S; keepalive time $keepalive; connect retry time 1;"
  echo "  ipv4 { import none; export all; };"
  echo "}"
} > "$work/peer-bird.conf"

xdpstack() { dotnet "$XDPSTACK_DLL" "$@"; }
ip netns exec "$DUT" taskset -c "$GEN_CPU" dotnet "$XDPSTACK_DLL" run -c "$work/xdpstack.toml" --socket "$work/control.sock" > "$work/xdpstack.log" 2>&1 &
track_pid $!
wait_for "$work/xdpstack.log" "xdpstack: ready" 30
ip netns exec "$DUT" bird -f -c "$work/dut-bird.conf" -s "$work/dut.ctl" -P "$work/dut.pid" > "$work/dut-bird.log" 2>&1 &
track_pid $!
ip netns exec "$PEER" bird -f -c "$work/peer-bird.conf" -s "$work/peer.ctl" -P "$work/peer.pid" > "$work/peer-bird.log" 2>&1 &
track_pid $!

# session -> "STATE SINCE" of the appliance side's BGP session (BIRD's protocol table: name proto table state since info).
session() {
  birdc -s "$work/dut.ctl" show protocols peer 2>/dev/null |
    awk '$1 == "peer" { since = $5; if ($6 ~ /^[0-9:.]+$/) since = since " " $6; print ($NF == "Established" ? "Established" : $4 "/" $NF), since; found = 1 }
         END { if (!found) print "absent -" }'
}
kernel_routes() { xdpstack show route-summary --json --socket "$work/control.sock" | python3 -c 'import json, sys; print(json.load(sys.stdin)["kernel_ipv4_routes"])'; }
punt_counters() { ip netns exec "$DUT" curl -s http://127.0.0.1:9469/metrics | grep '^xdpstack_punt_' | sed 's/^/  /'; }
stat() { ip netns exec "$1" cat "/sys/class/net/$2/statistics/$3"; }

for _ in $(seq 120); do [ "$(session | cut -d' ' -f1)" = Established ] && break; sleep 0.5; done
read -r state since < <(session)
[ "$state" = Established ] || { echo "BGP did not come up: $state" >&2; birdc -s "$work/dut.ctl" show protocols all peer >&2; cat "$work/xdpstack.log" >&2; exit 1; }
start=$(date +%s.%N)
for _ in $(seq 600); do [ "$(kernel_routes)" -ge "$PREFIXES" ] && break; sleep 0.2; done
have=$(kernel_routes)
[ "$have" -ge "$PREFIXES" ] || { echo "the appliance has $have of $PREFIXES routes" >&2; exit 1; }
echo "BGP Established (hold ${HOLD_S} s) through $TAP; $PREFIXES prefixes in the appliance $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }') s after"

# The load: 64-byte UDP 198.18.2.2 -> 198.19.0.1 (the first announced prefix), to the appliance's MAC.
ip netns exec "$GEN" dpdk-testpmd --no-huge -m 1024 --no-pci --file-prefix "xbg$tag" \
  --lcores "0@$GEN_CPU,1@$GEN_CPU" --vdev "net_af_xdp0,iface=$GI" -- \
  --forward-mode=txonly --eth-peer="0,$db_mac" --tx-ip="198.18.2.2,198.19.0.1" --txpkts=64 --nb-cores=1 \
  --stats-period 60 > "$work/testpmd.log" 2>&1 &
gpid=$!; track_pid "$gpid"
wait_for "$work/testpmd.log" "start packet forwarding" 30
sleep 2
punt0=$(punt_counters)
rx0=$(stat "$PEER" "$PA" rx_packets); off0=$(stat "$GEN" "$GI" tx_packets)
t0=$(date +%s.%N)
echo "load for $DURATION s, the session checked every $CHECK_S s (since $since)"
# moved OLD NEW: whether two "since" times differ by more than a second. BIRD prints a time it converts from its
# monotonic clock on each call, so the same establishment reads a millisecond apart from one call to the next
# (05:21:25.435, then .436); a session that went down and came back moves it by seconds.
moved() {
  awk -v a="${1##* }" -v b="${2##* }" 'function s(t, p) { split(t, p, ":"); return p[1] * 3600 + p[2] * 60 + p[3] }
    BEGIN { d = s(b) - s(a); exit !(d > 1 || d < -1) }'
}
flaps=0 checks=0 last=$since
end=$(( $(date +%s) + DURATION ))
while [ "$(date +%s)" -lt "$end" ]; do
  sleep "$CHECK_S"
  read -r state now < <(session)
  checks=$(( checks + 1 ))
  if [ "$state" != Established ] || moved "$last" "$now"; then
    flaps=$(( flaps + 1 ))
    echo "  $(date -u +%T) flap: $state since $now (was Established since $last)"
    last=$now
  fi
done
rx1=$(stat "$PEER" "$PA" rx_packets); off1=$(stat "$GEN" "$GI" tx_packets)
t1=$(date +%s.%N)
kill -TERM "$gpid" 2>/dev/null || true; wait "$gpid" 2>/dev/null || true; untrack_pid "$gpid"
punt1=$(punt_counters)

awk -v a="$rx0" -v b="$rx1" -v c="$off0" -v d="$off1" -v s="$t0" -v e="$t1" \
  'BEGIN { printf "forwarded to the peer %.3f Mpps, offered %.3f Mpps (%.0f s)\n", (b - a) / (e - s) / 1e6, (d - c) / (e - s) / 1e6, e - s }'
echo "session: $checks checks, $flaps flaps; Established since $since, now $(session)"
echo "BGP (appliance side):"
birdc -s "$work/dut.ctl" show protocols all peer | grep -E "Routes:|Hold timer|Keepalive timer|Last error" | sed 's/^ */  /' || true
# Each punt counter of the punted interface: its total, and how much it moved during the load.
echo "punt counters of $DA (total, during the load):"
awk 'NR == FNR { before[$1] = $2; next } { printf "  %s %s +%s\n", $1, $2, $2 - before[$1] }' \
  <(echo "$punt0" | grep "device=\"$DA\"") <(echo "$punt1" | grep "device=\"$DA\"")
[ "$flaps" = 0 ]
