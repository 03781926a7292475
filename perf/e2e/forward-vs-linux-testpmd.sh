#!/usr/bin/env bash
# Forwarding: packets per second that reach a sink through the device under test, for
# `xdpstack run`, Linux's own forwarding and dpdk-testpmd --forward-mode=mac over net_af_xdp.
# Method: README.md here.
#
#   flock -x /tmp/xdpstack-cpu.lock perf/e2e/forward-vs-linux-testpmd.sh
#
# Environment: MEASURE_S (10) seconds per sample, ROUNDS (3) alternating rounds, WARMUP_S (3),
# GEN_CPU/DUT_CPU (0/1), FAMILY (4 or 6; testpmd's txonly generator sends IPv4 only, so 6 is not offered yet),
# CONTENDERS ("xdpstack linux testpmd"), XDPSTACK_DLL (the built xdpstack.dll).
set -euo pipefail
cd "$(dirname "$0")/../.."
MEASURE_S=${MEASURE_S:-10}
ROUNDS=${ROUNDS:-3}
WARMUP_S=${WARMUP_S:-3}
GEN_CPU=${GEN_CPU:-0}
DUT_CPU=${DUT_CPU:-1}
RING=${RING:-2048}
BURST=${BURST:-64}
XDPSTACK_DLL=${XDPSTACK_DLL:-src/Appliance/bin/Release/net10.0/xdpstack.dll}
source perf/e2e/lib.sh
require_root_and_tools dpdk-testpmd ethtool taskset
tag=$$
GEN=xfg$tag DUT=xfd$tag SINK=xfs$tag          # namespaces
GI=xfg$tag DA=xfda$tag DB=xfdb$tag SI=xfs$tag # veth ends: GI<->DA, DB<->SI
NAMESPACES="$GEN $DUT $SINK"
for ns in "$GEN" "$DUT" "$SINK"; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
ip link add "$GI" netns "$GEN" type veth peer name "$DA" netns "$DUT"
ip link add "$DB" netns "$DUT" type veth peer name "$SI" netns "$SINK"
for x in "$GEN $GI" "$DUT $DA" "$DUT $DB" "$SINK $SI"; do set -- $x; ip -n "$1" link set "$2" up; done
# The DUT's own IPv6 stays quiet on its links (Linux forwarding is IPv4 here).
for d in "$DA" "$DB"; do ip netns exec "$DUT" sh -c "echo 1 > /proc/sys/net/ipv6/conf/$d/disable_ipv6"; done
# Threaded NAPI on the DUT's ingress end (pinned to DUT_CPU once it exists) and on the generator's end.
ip netns exec "$DUT" sh -c "ethtool -K $DA gro on >/dev/null; echo 1 > /sys/class/net/$DA/threaded; ethtool -K $DA gro off >/dev/null"
ip netns exec "$GEN" sh -c "ethtool -K $GI gro on >/dev/null; echo 1 > /sys/class/net/$GI/threaded"
# The sink has no address for the destination: Linux drops what arrives (counted in rx_packets first), no ICMP back.
ip -n "$SINK" addr add 198.18.2.2/24 dev "$SI"
da_mac=$(ip netns exec "$DUT" cat /sys/class/net/"$DA"/address)
db_mac=$(ip netns exec "$DUT" cat /sys/class/net/"$DB"/address)
si_mac=$(ip netns exec "$SINK" cat /sys/class/net/"$SI"/address)
sink_rx() { ip netns exec "$SINK" cat /sys/class/net/"$SI"/statistics/rx_packets; }
gen_tx() { ip netns exec "$GEN" cat /sys/class/net/"$GI"/statistics/tx_packets; }
cat > "$work/xdpstack.toml" <<EOF
[workers]
cores = [$DUT_CPU]
[xdp]
lpm_huge_pages = true
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
EOF
start_dut() { # start_dut NAME LOG; sets $dpid (empty for linux)
  dpid=
  case $1 in
    xdpstack)
      ip netns exec "$DUT" taskset -c "$GEN_CPU" dotnet "$XDPSTACK_DLL" run -c "$work/xdpstack.toml" > "$2" 2>&1 &
      dpid=$!
      wait_for "$2" "xdpstack: ready" 30 ;;
    linux)
      ip -n "$DUT" addr add 198.18.1.1/24 dev "$DA"
      ip -n "$DUT" addr add 198.18.2.1/24 dev "$DB"
      ip -n "$DUT" neigh replace 198.18.2.99 lladdr "$si_mac" dev "$DB" nud permanent
      ip netns exec "$DUT" sysctl -qw net.ipv4.ip_forward=1
      # Linux's RX work for the ingress veth runs in its NAPI thread (GRO on gives it one), pinned like the others.
      ip netns exec "$DUT" sh -c "ethtool -K $DA gro on >/dev/null"
      ;;
    testpmd)
      ip netns exec "$DUT" dpdk-testpmd --no-huge -m 1024 --no-pci --file-prefix "xfd$tag" \
        --lcores "0@$GEN_CPU,1@$DUT_CPU" --vdev "net_af_xdp0,iface=$DA" --vdev "net_af_xdp1,iface=$DB" -- \
        --forward-mode=mac --eth-peer="1,$si_mac" --eth-peer="0,$si_mac" --nb-cores=1 --stats-period 60 \
        --rxd="$RING" --txd="$RING" --burst="$BURST" > "$2" 2>&1 &
      dpid=$!
      wait_for "$2" "start packet forwarding" 30 ;;
  esac
  [ -n "$dpid" ] && pids+=("$dpid")
  sleep 1
  pin_napi "$DA" "$DUT_CPU"
}
stop_dut() {
  case $1 in
    linux)
      ip netns exec "$DUT" sysctl -qw net.ipv4.ip_forward=0
      ip netns exec "$DUT" sh -c "ethtool -K $DA gro off >/dev/null"
      ip -n "$DUT" addr flush dev "$DA"; ip -n "$DUT" addr flush dev "$DB"
      ip -n "$DUT" neigh flush dev "$DB" ;;
    *)
      kill -TERM "$dpid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$dpid" 2>/dev/null || true
      wait "$dpid" 2>/dev/null || true
      for d in "$DA" "$DB"; do
        for _ in $(seq 50); do ip -n "$DUT" -d link show dev "$d" | grep -q "prog/xdp" || break; sleep 0.1; done
      done ;;
  esac
}
cpu_ticks() { # cpu_ticks -> "user system" clock ticks of the DUT's forwarding thread and its ingress NAPI thread
  local wu=0 ws=0 nu=0 ns=0 t comm f stat
  if [ -n "${dpid:-}" ]; then
    for t in /proc/"$dpid"/task/*; do
      comm=$(cat "$t/comm" 2>/dev/null) || continue; [ -n "${SHOW_THREADS:-}" ] && echo "thread: $comm" >&2
      # Fields after the ")" that closes comm (which may hold spaces): utime and stime are the 12th and 13th.
      case "$comm" in "xdpstack w"*|lcore-worker*) stat=$(cat "$t/stat"); read -r -a f <<< "${stat##*) }"; wu=$((wu + f[11])); ws=$((ws + f[12])) ;; esac
    done
  fi
  while read -r pid comm; do
    case "$comm" in "napi/$DA"*) stat=$(cat "/proc/$pid/stat"); read -r -a f <<< "${stat##*) }"; nu=$((nu + f[11])); ns=$((ns + f[12])) ;; esac
  done < <(ps -eo pid=,comm=)
  echo "$wu $ws $nu $ns"
}
measure() { # measure NAME ROUND -> prints "forwarded offered"
  local log="$work/$1.$2.log"
  start_dut "$1" "$log"
  # Generator: testpmd txonly over AF_XDP, both lcores on GEN_CPU, 64-byte UDP 198.18.1.2 -> 198.18.2.99 to the DUT's MAC.
  ip netns exec "$GEN" dpdk-testpmd --no-huge -m 1024 --no-pci --file-prefix "xfg$tag" \
    --lcores "0@$GEN_CPU,1@$GEN_CPU" --vdev "net_af_xdp0,iface=$GI" -- \
    --forward-mode=txonly --eth-peer="0,$da_mac" --tx-ip=198.18.1.2,198.18.2.99 --nb-cores=1 --stats-period 60 \
    > "$work/generator.$1.$2.log" 2>&1 &
  local gpid=$!
  pids+=("$gpid")
  wait_for "$work/generator.$1.$2.log" "start packet forwarding" 30
  pin_napi "$GI" "$GEN_CPU"
  sleep "$WARMUP_S"
  local rx0 tx0 rx1 tx1
  rx0=$(sink_rx); tx0=$(gen_tx)
  read -r wu0 ws0 nu0 ns0 < <(cpu_ticks)
  sleep "$MEASURE_S"
  rx1=$(sink_rx); tx1=$(gen_tx)
  read -r wu1 ws1 nu1 ns1 < <(cpu_ticks)
  # Where CPU $DUT_CPU's time went, in % of the window (clock ticks are 1/100 s).
  echo "    $1: forwarding thread user $(( (wu1 - wu0) * 100 / (MEASURE_S * 100) ))%, system $(( (ws1 - ws0) * 100 / (MEASURE_S * 100) ))%; $DA NAPI thread $(( (nu1 - nu0 + ns1 - ns0) * 100 / (MEASURE_S * 100) ))%" >&2
  kill -TERM "$gpid" 2>/dev/null || true
  wait "$gpid" 2>/dev/null || true
  stop_dut "$1"
  echo "$(( (rx1 - rx0) / MEASURE_S )) $(( (tx1 - tx0) / MEASURE_S ))"
}

echo "lab: $GEN/$GI -> $DUT/$DA [device under test] $DUT/$DB -> $SINK/$SI; 64-byte UDP from testpmd txonly on CPU $GEN_CPU;"
echo "     the DUT's forwarding thread and $DA's NAPI thread on CPU $DUT_CPU; ${MEASURE_S} s per sample, $ROUNDS rounds"
declare -A sum
printf '%-9s %5s %14s %14s\n' contender round "forwarded pps" "offered pps"
for round in $(seq "$ROUNDS"); do
  for who in ${CONTENDERS:-xdpstack linux testpmd}; do
    read -r fwd off < <(measure "$who" "$round")
    printf '%-9s %5s %14s %14s\n' "$who" "$round" "$fwd" "$off"
    sum[$who]=$(( ${sum[$who]:-0} + fwd ))
  done
done
for who in ${CONTENDERS:-xdpstack linux testpmd}; do
  printf '%-9s %5s %14s\n' "$who" mean "$(( sum[$who] / ROUNDS ))"
done
if [ -n "${sum[xdpstack]:-}" ]; then
  for who in linux testpmd; do
    [ -n "${sum[$who]:-}" ] && [ "${sum[$who]}" -gt 0 ] && \
      python3 -c "import sys; print(f'ratio xdpstack/{sys.argv[3]}: {int(sys.argv[1])/int(sys.argv[2]):.2f}')" "${sum[xdpstack]}" "${sum[$who]}" "$who"
  done
fi
