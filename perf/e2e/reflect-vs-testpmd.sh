#!/usr/bin/env bash
# Reflect vs testpmd: how many packets per second come back to a generator when the
# reflector shares one CPU with the kernel's RX work for its veth. Method: README.md here.
#
#   flock -x /tmp/xdpstack-cpu.lock perf/e2e/reflect-vs-testpmd.sh
#
# Environment: MEASURE_S (default 10) seconds per sample, ROUNDS (default 5) alternating
# rounds per contender, GEN_CPU/REFL_CPU (0/1), XDPSTACK_DLL (the built xdpstack.dll),
# XDPSTACK_ARGS (extra reflect options, e.g. "--batch 128").
set -euo pipefail
cd "$(dirname "$0")/../.."

MEASURE_S=${MEASURE_S:-10}
ROUNDS=${ROUNDS:-5}
WARMUP_S=${WARMUP_S:-3}
GEN_CPU=${GEN_CPU:-0}
REFL_CPU=${REFL_CPU:-1}
XDPSTACK_DLL=${XDPSTACK_DLL:-src/Appliance/bin/Release/net10.0/xdpstack.dll}
XDPSTACK_ARGS=${XDPSTACK_ARGS:-}
# Both reflectors get the same ring size and burst: xdpstack reflect uses 2048-entry RX/TX rings and
# takes at most --batch (64) frames per ring operation; testpmd gets --rxd/--txd 2048 and --burst 64.
RING=${RING:-2048}
BURST=${BURST:-64}

source perf/e2e/lib.sh
require_root_and_tools dpdk-testpmd ethtool taskset

tag=$$
GEN=xbg$tag REF=xbr$tag          # namespaces
GI=xbg$tag RI=xbr$tag            # veth ends (at most 15 characters; napi/<dev> fits in a comm)
NAMESPACES="$GEN $REF"

ip netns add "$GEN"
ip netns add "$REF"
ip link add "$GI" netns "$GEN" type veth peer name "$RI" netns "$REF"
ip -n "$GEN" link set lo up
ip -n "$REF" link set lo up
ip -n "$GEN" link set "$GI" up
ip -n "$REF" link set "$RI" up
ip -n "$GEN" addr add 198.18.0.1/24 dev "$GI"
# Threaded NAPI on both ends. A veth has NAPI only while GRO or XDP is on: the reflector's end
# switches GRO off again so its NAPI appears once the XDP program attaches; the generator's end
# keeps GRO, so returned frames are taken in by its own NAPI thread on the generator's CPU.
ip netns exec "$REF" sh -c "ethtool -K $RI gro on >/dev/null; echo 1 > /sys/class/net/$RI/threaded; ethtool -K $RI gro off >/dev/null"
ip netns exec "$GEN" sh -c "ethtool -K $GI gro on >/dev/null; echo 1 > /sys/class/net/$GI/threaded"

ref_mac=$(ip netns exec "$REF" cat /sys/class/net/"$RI"/address)

rx_packets() { ip netns exec "$GEN" cat /sys/class/net/"$GI"/statistics/rx_packets; }
tx_packets() { ip netns exec "$GEN" cat /sys/class/net/"$GI"/statistics/tx_packets; }



start_reflector() { # start_reflector NAME LOG; sets $rpid
  case $1 in
    xdpstack)
      # Control thread and runtime on the generator's CPU; the worker pins itself to REFL_CPU,
      # as testpmd's main lcore and forwarding lcore are placed below.
      ip netns exec "$REF" taskset -c "$GEN_CPU" dotnet "$XDPSTACK_DLL" reflect -i "$RI" \
        --cores "$REFL_CPU" --stats-interval 0 $XDPSTACK_ARGS > "$2" 2>&1 &
      rpid=$!
      wait_for "$2" "reflecting on" 30 ;;
    testpmd)
      ip netns exec "$REF" dpdk-testpmd --no-huge -m 1024 --no-pci --file-prefix "xbr$tag" \
        --lcores "0@$GEN_CPU,1@$REFL_CPU" --vdev "net_af_xdp0,iface=$RI" -- \
        --forward-mode=macswap --nb-cores=1 --stats-period 60 \
        --rxd="$RING" --txd="$RING" --burst="$BURST" > "$2" 2>&1 &
      rpid=$!
      wait_for "$2" "start packet forwarding" 30
      ;;
  esac
  pids+=("$rpid")
  sleep 1
  pin_napi "$RI" "$REFL_CPU"
}

stop_reflector() {
  # SIGTERM, not SIGINT: a script's background jobs start with SIGINT ignored.
  kill -TERM "$rpid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$rpid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$rpid" 2>/dev/null || true
  wait "$rpid" 2>/dev/null || true
  # The next contender must find the device free of XDP programs.
  for _ in $(seq 50); do ip -n "$REF" -d link show dev "$RI" | grep -q "prog/xdp" || break; sleep 0.1; done
}

measure() { # measure NAME ROUND -> prints "returned offered"
  local log="$work/$1.$2.log"
  start_reflector "$1" "$log"
  # The generator: testpmd txonly over AF_XDP on the generator's end, both lcores on GEN_CPU,
  # 64-byte UDP frames 198.18.0.1 -> 198.18.0.2 addressed to the reflector's MAC. (trafgen
  # gives up with EAGAIN as soon as the veth pushes back.) Returned frames land in its socket
  # unread; the veth counts them on arrival, which is what we measure.
  ip netns exec "$GEN" dpdk-testpmd --no-huge -m 1024 --no-pci --file-prefix "xbg$tag" \
    --lcores "0@$GEN_CPU,1@$GEN_CPU" --vdev "net_af_xdp0,iface=$GI" -- \
    --forward-mode=txonly --eth-peer="0,$ref_mac" --nb-cores=1 --stats-period 60 \
    > "$work/generator.$1.$2.log" 2>&1 &
  local gpid=$!
  wait_for "$work/generator.$1.$2.log" "start packet forwarding" 30
  pin_napi "$GI" "$GEN_CPU"
  pids+=("$gpid")
  sleep "$WARMUP_S"
  local rx0 tx0 rx1 tx1
  rx0=$(rx_packets); tx0=$(tx_packets)
  sleep "$MEASURE_S"
  rx1=$(rx_packets); tx1=$(tx_packets)
  kill -TERM "$gpid" 2>/dev/null || true
  wait "$gpid" 2>/dev/null || true
  for _ in $(seq 50); do ip -n "$GEN" -d link show dev "$GI" | grep -q "prog/xdp" || break; sleep 0.1; done
  stop_reflector
  echo "$(( (rx1 - rx0) / MEASURE_S )) $(( (tx1 - tx0) / MEASURE_S ))"
  if [ "$1" = xdpstack ]; then tail -n 2 "$log" | sed 's/^/    /' >&2; fi
}

echo "lab: $GEN/$GI <-veth-> $REF/$RI; generator (testpmd txonly, 64-byte UDP) and $GI's NAPI on CPU $GEN_CPU;"
echo "     reflector worker and $RI's NAPI thread on CPU $REFL_CPU; ${MEASURE_S} s per sample, $ROUNDS rounds"
echo "     both reflectors: $RING-entry rings, bursts of $BURST"
declare -A sum_ret sum_off last_ret
ratios=()
printf '%-9s %5s %14s %14s\n' contender round "returned pps" "offered pps"
for round in $(seq "$ROUNDS"); do
  for who in ${CONTENDERS:-xdpstack testpmd}; do
    read -r ret off < <(measure "$who" "$round")
    printf '%-9s %5s %14s %14s\n' "$who" "$round" "$ret" "$off"
    sum_ret[$who]=$(( ${sum_ret[$who]:-0} + ret ))
    sum_off[$who]=$(( ${sum_off[$who]:-0} + off ))
    last_ret[$who]=$ret
  done
  if [ "${last_ret[testpmd]:-0}" -gt 0 ]; then
    ratios+=("$(python3 -c "import sys; print(f'{int(sys.argv[1])/int(sys.argv[2]):.2f}')" "${last_ret[xdpstack]:-0}" "${last_ret[testpmd]}")")
  fi
done
echo "ratio xdpstack/testpmd per round: ${ratios[*]}"
python3 -c "import sys; r=[float(x) for x in sys.argv[1:]]; print(f'spread: min {min(r):.2f}, max {max(r):.2f}') if r else None" "${ratios[@]}"
x=$(( sum_ret[xdpstack] / ROUNDS )) t=$(( sum_ret[testpmd] / ROUNDS ))
printf '%-9s %5s %14s %14s\n' xdpstack mean "$x" "$(( sum_off[xdpstack] / ROUNDS ))"
printf '%-9s %5s %14s %14s\n' testpmd mean "$t" "$(( sum_off[testpmd] / ROUNDS ))"
python3 -c "import sys; x,t=map(int,sys.argv[1:]); print(f'ratio xdpstack/testpmd: {x/t:.2f}' if t else 'testpmd returned nothing')" "$x" "$t"
