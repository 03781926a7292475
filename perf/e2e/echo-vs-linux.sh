#!/usr/bin/env bash
# Responder: UDP echo of 64-byte frames, `xdpstack run` with a udp-echo service against Linux answering with a C
# echo server on recvmmsg/sendmmsg batches (perf/native/udp_echo_mmsg.c), both on CPU 1. Method: README.md here.
#
#   flock -x /tmp/xdpstack-cpu.lock perf/e2e/echo-vs-linux.sh
#   GENERATOR=livegen RATE=800000 flock -x /tmp/xdpstack-cpu.lock perf/e2e/echo-vs-linux.sh
#
# Environment: MEASURE_S (10), ROUNDS (3), WARMUP_S (3), GEN_CPU/DUT_CPU (0/1), XDPSTACK_DLL, GENERATOR (testpmd,
# or livegen: perf/native/xdp_livegen.c paced at RATE frames/s, default 800000, offered then being its own count).
set -euo pipefail
cd "$(dirname "$0")/../.."
MEASURE_S=${MEASURE_S:-10}
ROUNDS=${ROUNDS:-3}
WARMUP_S=${WARMUP_S:-3}
GEN_CPU=${GEN_CPU:-0}
DUT_CPU=${DUT_CPU:-1}
XDPSTACK_DLL=${XDPSTACK_DLL:-src/Appliance/bin/Release/net10.0/xdpstack.dll}
GENERATOR=${GENERATOR:-testpmd}
RATE=${RATE:-800000}
source perf/e2e/lib.sh
case $GENERATOR in
  testpmd) require_root_and_tools dpdk-testpmd ethtool taskset gcc ;;
  livegen) require_root_and_tools ethtool taskset gcc ;;
  *) echo "GENERATOR must be testpmd or livegen" >&2; exit 1 ;;
esac
tag=$$
GEN=xeg$tag DUT=xed$tag
GI=xeg$tag DI=xed$tag
NAMESPACES="$GEN $DUT"
gcc -O2 -o "$work/udp_echo_mmsg" perf/native/udp_echo_mmsg.c
[ "$GENERATOR" = livegen ] && gcc -O2 -o "$work/xdp_livegen" perf/native/xdp_livegen.c
ip netns add "$GEN"; ip netns add "$DUT"
ip link add "$GI" netns "$GEN" type veth peer name "$DI" netns "$DUT"
for x in "$GEN $GI" "$DUT $DI" "$GEN lo" "$DUT lo"; do set -- $x; ip -n "$1" link set "$2" up; done
ip netns exec "$DUT" sh -c "echo 1 > /proc/sys/net/ipv6/conf/$DI/disable_ipv6"
ip netns exec "$DUT" sh -c "ethtool -K $DI gro on >/dev/null; echo 1 > /sys/class/net/$DI/threaded; ethtool -K $DI gro off >/dev/null"
ip netns exec "$GEN" sh -c "ethtool -K $GI gro on >/dev/null; echo 1 > /sys/class/net/$GI/threaded"
# TSO off on the generator's end, as in forward-e2e.sh: with it on, and no XDP on the DUT's end (Linux as the DUT),
# testpmd's AF_XDP frames would be received on the generator's CPU instead of the DUT's NAPI thread (docs/lab.md).
ip netns exec "$GEN" ethtool -K "$GI" tso off >/dev/null
ip -n "$GEN" addr add 198.18.0.1/24 dev "$GI"
gi_mac=$(ip netns exec "$GEN" cat /sys/class/net/"$GI"/address)
di_mac=$(ip netns exec "$DUT" cat /sys/class/net/"$DI"/address)
returned() { ip netns exec "$GEN" cat /sys/class/net/"$GI"/statistics/rx_packets; }
offered() {
  if [ "$GENERATOR" = livegen ]; then # its own count and time, on SIGUSR1: "count seconds"
    local before; before=$(grep -c "xdp_livegen: sent" "$glog" || true)
    kill -USR1 "$gpid"
    for _ in $(seq 200); do [ "$(grep -c "xdp_livegen: sent" "$glog" || true)" -gt "$before" ] && break; sleep 0.01; done
    grep "xdp_livegen: sent" "$glog" | tail -1 | awk '{ print $3, $5 }'
  else
    echo "$(ip netns exec "$GEN" cat /sys/class/net/"$GI"/statistics/tx_packets) 0"
  fi
}
cat > "$work/xdpstack.toml" <<EOF
[workers]
cores = [$DUT_CPU]
[[interface]]
name = "$DI"
addresses = ["198.18.0.2/24"]
[[neighbor]]
interface = "$DI"
address = "198.18.0.1"
mac = "$gi_mac"
[[service]]
kind = "udp-echo"
port = 7
EOF
start_dut() { # start_dut NAME LOG; sets $dpid
  case $1 in
    xdpstack)
      ip netns exec "$DUT" taskset -c "$GEN_CPU" dotnet "$XDPSTACK_DLL" run -c "$work/xdpstack.toml" > "$2" 2>&1 &
      dpid=$!
      wait_for "$2" "xdpstack: ready" 30 ;;
    linux)
      ip -n "$DUT" addr add 198.18.0.2/24 dev "$DI"
      ip -n "$DUT" neigh replace 198.18.0.1 lladdr "$gi_mac" dev "$DI" nud permanent
      ip netns exec "$DUT" sh -c "ethtool -K $DI gro on >/dev/null"
      ip netns exec "$DUT" taskset -c "$DUT_CPU" "$work/udp_echo_mmsg" 198.18.0.2 7 > "$2" 2>&1 &
      dpid=$!
      wait_for "$2" "echoing on" 10 ;;
  esac
  pids+=("$dpid")
  sleep 1
  pin_napi "$DI" "$DUT_CPU"
}
stop_dut() {
  kill -TERM "$dpid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$dpid" 2>/dev/null || true
  wait "$dpid" 2>/dev/null || true
  if [ "$1" = linux ]; then
    ip netns exec "$DUT" sh -c "ethtool -K $DI gro off >/dev/null"
    ip -n "$DUT" addr flush dev "$DI"; ip -n "$DUT" neigh flush dev "$DI"
  else
    for _ in $(seq 50); do ip -n "$DUT" -d link show dev "$DI" | grep -q "prog/xdp" || break; sleep 0.1; done
  fi
}
measure() { # measure NAME ROUND -> "returned offered"
  start_dut "$1" "$work/$1.$2.log"
  # 64-byte UDP 198.18.0.1:40000 -> 198.18.0.2:7 (a source port below 1024 would be refused by xdpstack's echo, as
  # by xinetd's), to the DUT's MAC; echoes land in the generator's socket unread and are counted by its veth.
  glog="$work/generator.$1.$2.log"
  if [ "$GENERATOR" = livegen ]; then
    ip netns exec "$GEN" taskset -c "$GEN_CPU" "$work/xdp_livegen" "$GI" "$di_mac" 198.18.0.1 198.18.0.2 \
      --rate "$RATE" --size 64 --sport 40000 --dport 7 > "$glog" 2>&1 &
    gpid=$!
    pids+=("$gpid")
    wait_for "$glog" "xdp_livegen: sending" 30 "$gpid"
  else
    ip netns exec "$GEN" dpdk-testpmd --no-huge -m 1024 --no-pci --file-prefix "xeg$tag" \
      --lcores "0@$GEN_CPU,1@$GEN_CPU" --vdev "net_af_xdp0,iface=$GI" -- \
      --forward-mode=txonly --eth-peer="0,$di_mac" --tx-ip=198.18.0.1,198.18.0.2 --tx-udp=40000,7 \
      --nb-cores=1 --stats-period 60 > "$glog" 2>&1 &
    gpid=$!
    pids+=("$gpid")
    wait_for "$glog" "start packet forwarding" 30
  fi
  pin_napi "$GI" "$GEN_CPU"
  sleep "$WARMUP_S"
  local r0 o0 r1 o1
  r0=$(returned); o0=$(offered)
  sleep "$MEASURE_S"
  r1=$(returned); o1=$(offered)
  kill -TERM "$gpid" 2>/dev/null || true
  wait "$gpid" 2>/dev/null || true
  stop_dut "$1"
  # testpmd: veth counts over MEASURE_S; livegen: its own count over its own interval.
  echo "$(( (r1 - r0) / MEASURE_S )) $(awk -v a="$o0" -v b="$o1" -v m="$MEASURE_S" 'BEGIN { split(a, x, " "); split(b, y, " "); d = y[2] - x[2]; printf "%d", (y[1] - x[1]) / (d > 0 ? d : m) }')"
}

echo "lab: $GEN/$GI <-veth-> $DUT/$DI; testpmd txonly (64-byte UDP to port 7) and $GI's NAPI on CPU $GEN_CPU;"
echo "     the responder (xdpstack worker, or the C echo server) and $DI's NAPI thread on CPU $DUT_CPU; ${MEASURE_S} s, $ROUNDS rounds"
declare -A sum
printf '%-9s %5s %14s %14s\n' contender round "echoed pps" "offered pps"
for round in $(seq "$ROUNDS"); do
  for who in ${CONTENDERS:-xdpstack linux}; do
    read -r ret off < <(measure "$who" "$round")
    printf '%-9s %5s %14s %14s\n' "$who" "$round" "$ret" "$off"
    sum[$who]=$(( ${sum[$who]:-0} + ret ))
  done
done
for who in ${CONTENDERS:-xdpstack linux}; do printf '%-9s %5s %14s\n' "$who" mean "$(( sum[$who] / ROUNDS ))"; done
[ -n "${sum[linux]:-}" ] && [ "${sum[linux]}" -gt 0 ] && [ -n "${sum[xdpstack]:-}" ] && \
  python3 -c "import sys; print(f'ratio xdpstack/linux: {int(sys.argv[1])/int(sys.argv[2]):.2f}')" "${sum[xdpstack]}" "${sum[linux]}"
exit 0
