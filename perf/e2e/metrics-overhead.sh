#!/usr/bin/env bash
# Metrics overhead: the forwarding rate of `xdpstack run` with no metrics listener ([management] listen = "")
# against the same appliance scraped every second (a curl loop on /metrics), alternating in one run.
# Lab and generator: those of forward-e2e.sh with FAMILY=4 (README.md here). Issue 12 asks for scraped/off >= 0.98.
#
#   flock -x /tmp/xdpstack-cpu.lock perf/e2e/metrics-overhead.sh
#
# Environment: MEASURE_S (10) seconds per sample, ROUNDS (5) alternating rounds, WARMUP_S (3), SCRAPE_S (1) seconds
# between scrapes, GEN_CPU/DUT_CPU (0/1), XDPSTACK_DLL (the built xdpstack.dll).
set -euo pipefail
cd "$(dirname "$0")/../.."
MEASURE_S=${MEASURE_S:-10}
ROUNDS=${ROUNDS:-5}
WARMUP_S=${WARMUP_S:-3}
SCRAPE_S=${SCRAPE_S:-1}
GEN_CPU=${GEN_CPU:-0}
DUT_CPU=${DUT_CPU:-1}
XDPSTACK_DLL=${XDPSTACK_DLL:-src/Appliance/bin/Release/net10.0/xdpstack.dll}
source perf/e2e/lib.sh
require_root_and_tools dpdk-testpmd ethtool taskset curl
tag=$$
GEN=xmg$tag DUT=xmd$tag SINK=xms$tag          # namespaces
GI=xmg$tag DA=xmda$tag DB=xmdb$tag SI=xms$tag # veth ends: GI<->DA, DB<->SI
NAMESPACES="$GEN $DUT $SINK"
for ns in "$GEN" "$DUT" "$SINK"; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
ip link add "$GI" netns "$GEN" type veth peer name "$DA" netns "$DUT"
ip link add "$DB" netns "$DUT" type veth peer name "$SI" netns "$SINK"
# The lab of forward-e2e.sh (FAMILY=4), set up the same way; its comments say why each step is there.
for x in "$GEN $GI" "$DUT $DA" "$DUT $DB" "$SINK $SI"; do
  set -- $x
  ip netns exec "$1" sh -c "cd /proc/sys/net/ipv6/conf/$2 && echo 1 > addr_gen_mode && echo 0 > router_solicitations && echo 0 > accept_dad && echo 1 > disable_ipv6"
  ip -n "$1" link set "$2" up
done
ip netns exec "$DUT" sh -c "ethtool -K $DA gro on >/dev/null; echo 1 > /sys/class/net/$DA/threaded; ethtool -K $DA gro off >/dev/null"
ip netns exec "$GEN" sh -c "ethtool -K $GI gro on >/dev/null; echo 1 > /sys/class/net/$GI/threaded"
ip netns exec "$GEN" ethtool -K "$GI" tso off >/dev/null
ip netns exec "$SINK" sh -c "ethtool -K $SI gro on >/dev/null"
ip -n "$SINK" addr add 198.18.2.2/24 dev "$SI"
da_mac=$(ip netns exec "$DUT" cat /sys/class/net/"$DA"/address)
si_mac=$(ip netns exec "$SINK" cat /sys/class/net/"$SI"/address)
sink_rx() { ip netns exec "$SINK" cat /sys/class/net/"$SI"/statistics/rx_packets; }
gen_tx() { ip netns exec "$GEN" cat /sys/class/net/"$GI"/statistics/tx_packets; }
write_config() { # write_config FILE LISTEN
  cat > "$1" <<CONF
[workers]
cores = [$DUT_CPU]
[xdp]
lpm_huge_pages = true
[management]
listen = "$2"
[[interface]]
name = "$DA"
addresses = ["198.18.1.1/24"]
[[interface]]
name = "$DB"
addresses = ["198.18.2.1/24"]
[[neighbor]]
interface = "$DB"
address = "198.18.2.99"
mac = "$si_mac"
CONF
}
write_config "$work/off.toml" ""
write_config "$work/scraped.toml" "127.0.0.1:9469"

measure() { # measure off|scraped ROUND -> prints "forwarded offered scrapes"
  local log="$work/$1.$2.log" dpid spid="" scrapes=0
  # The runtime and the listener run on GEN_CPU (the listener stays off the worker's CPU); the worker pins itself.
  ip netns exec "$DUT" taskset -c "$GEN_CPU" dotnet "$XDPSTACK_DLL" run -c "$work/$1.toml" > "$log" 2>&1 &
  dpid=$!
  pids+=("$dpid")
  wait_for "$log" "xdpstack: ready" 30
  sleep 1
  pin_napi "$DA" "$DUT_CPU"
  if [ "$1" = scraped ]; then
    # Prometheus's way: one GET per interval, the whole exposition read; each response saved so it can be counted.
    ip netns exec "$DUT" taskset -c "$GEN_CPU" sh -c \
      "while :; do curl -sf -o /dev/null -w '%{http_code}\n' http://127.0.0.1:9469/metrics; sleep $SCRAPE_S; done" > "$work/scrapes.$2" 2>&1 &
    spid=$!
    pids+=("$spid")
  fi
  ip netns exec "$GEN" dpdk-testpmd --no-huge -m 1024 --no-pci --file-prefix "xmg$tag" \
    --lcores "0@$GEN_CPU,1@$GEN_CPU" --vdev "net_af_xdp0,iface=$GI" -- \
    --forward-mode=txonly --eth-peer="0,$da_mac" --tx-ip=198.18.1.2,198.18.2.99 --nb-cores=1 --stats-period 60 \
    > "$work/generator.$1.$2.log" 2>&1 &
  local gpid=$!
  pids+=("$gpid")
  wait_for "$work/generator.$1.$2.log" "start packet forwarding" 30
  pin_napi "$GI" "$GEN_CPU"
  sleep "$WARMUP_S"
  local rx0 tx0 rx1 tx1 s0=0 s1=0
  [ -n "$spid" ] && s0=$(grep -c '^200$' "$work/scrapes.$2" || true)
  rx0=$(sink_rx); tx0=$(gen_tx)
  sleep "$MEASURE_S"
  rx1=$(sink_rx); tx1=$(gen_tx)
  [ -n "$spid" ] && s1=$(grep -c '^200$' "$work/scrapes.$2" || true)
  kill -TERM "$gpid" 2>/dev/null || true
  wait "$gpid" 2>/dev/null || true
  if [ -n "$spid" ]; then kill -TERM "$spid" 2>/dev/null || true; wait "$spid" 2>/dev/null || true; fi
  kill -TERM "$dpid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$dpid" 2>/dev/null || true
  wait "$dpid" 2>/dev/null || true
  for d in "$DA" "$DB"; do
    for _ in $(seq 50); do ip -n "$DUT" -d link show dev "$d" | grep -q "prog/xdp" || break; sleep 0.1; done
  done
  echo "$(( (rx1 - rx0) / MEASURE_S )) $(( (tx1 - tx0) / MEASURE_S )) $(( s1 - s0 ))"
}

echo "lab: $GEN/$GI -> $DUT/$DA [xdpstack run] $DUT/$DB -> $SINK/$SI; 64-byte UDP from testpmd txonly on CPU $GEN_CPU;"
echo "     the worker and $DA's NAPI thread on CPU $DUT_CPU; scrapes every ${SCRAPE_S} s from CPU $GEN_CPU; ${MEASURE_S} s per sample, $ROUNDS rounds"
declare -A sum
printf '%-8s %5s %14s %14s %8s\n' metrics round "forwarded pps" "offered pps" scrapes
for round in $(seq "$ROUNDS"); do
  for who in off scraped; do
    read -r fwd off scrapes < <(measure "$who" "$round")
    printf '%-8s %5s %14s %14s %8s\n' "$who" "$round" "$fwd" "$off" "$scrapes"
    if [ "$who" = scraped ] && [ "$scrapes" -lt $(( MEASURE_S / SCRAPE_S / 2 )) ]; then
      echo "only $scrapes scrapes answered in the window: the comparison would not mean anything" >&2; exit 1
    fi
    sum[$who]=$(( ${sum[$who]:-0} + fwd ))
  done
done
for who in off scraped; do printf '%-8s %5s %14s\n' "$who" mean "$(( sum[$who] / ROUNDS ))"; done
[ "${sum[off]}" -gt 0 ] && python3 -c "import sys; print(f'ratio scraped/off: {int(sys.argv[1])/int(sys.argv[2]):.3f}')" "${sum[scraped]}" "${sum[off]}"
