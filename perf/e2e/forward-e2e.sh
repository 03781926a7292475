#!/usr/bin/env bash
# Forwarding, IPv4 or IPv6: packets per second that reach a sink through the device under test, for
# `xdpstack run`, Linux's own forwarding, dpdk-testpmd --forward-mode=mac over net_af_xdp and xdp-forward
# (the kernel's XDP redirect from xdp-tools, the ceiling of this lab). Method: README.md here.
#
#   flock -x /tmp/xdpstack-cpu.lock perf/e2e/forward-e2e.sh              # IPv4, testpmd txonly generator
#   FAMILY=6 flock -x /tmp/xdpstack-cpu.lock perf/e2e/forward-e2e.sh     # IPv6, xdp-trafficgen generator
#   GENERATOR=livegen RATE=1000000 flock -x /tmp/xdpstack-cpu.lock perf/e2e/forward-e2e.sh   # paced live frames
#
# Environment: FAMILY (4 or 6), CONTENDERS ("xdpstack linux testpmd xdp-forward"), MEASURE_S (10) seconds per
# sample, ROUNDS (3) alternating rounds, WARMUP_S (3), GEN_CPU/DUT_CPU (0/1), FRAME (64: bytes per frame on the
# veth, FCS not counted), RING/BURST (2048/64: testpmd's rings and burst, xdpstack's defaults), XDPSTACK_DLL (the
# built xdpstack.dll), XDP_TOOLS_BIN (where xdp-forward and xdp-trafficgen are; by default the cache that
# build-xdp-tools.sh fills, and the script runs it when they are missing; XDP_TOOLS_SOURCE is passed to it),
# GENERATOR (testpmd for IPv4 and xdp-trafficgen for IPv6 by default, or livegen for either: perf/native/xdp_livegen.c,
# the kernel's XDP live frames, no skb and no socket, paced at RATE frames/s, 0 for no limit), WORKER_NICE
# (xdpstack's [workers] nice; unset: its default).
set -euo pipefail
cd "$(dirname "$0")/../.."
FAMILY=${FAMILY:-4}
CONTENDERS=${CONTENDERS:-xdpstack linux testpmd xdp-forward}
MEASURE_S=${MEASURE_S:-10}
ROUNDS=${ROUNDS:-3}
WARMUP_S=${WARMUP_S:-3}
GEN_CPU=${GEN_CPU:-0}
DUT_CPU=${DUT_CPU:-1}
FRAME=${FRAME:-64}
RING=${RING:-2048}
RATE=${RATE:-0}
BURST=${BURST:-64}
XDPSTACK_DLL=${XDPSTACK_DLL:-src/Appliance/bin/Release/net10.0/xdpstack.dll}
source perf/e2e/lib.sh

for who in $CONTENDERS; do
  case $who in xdpstack|linux|testpmd|xdp-forward) ;; *) echo "unknown contender '$who'" >&2; exit 1 ;; esac
done
case $FAMILY in
  4) # testpmd's txonly mode sends IPv4 UDP; xdp-trafficgen's udp mode sends IPv6 only.
     GENERATOR=${GENERATOR:-testpmd}
     A_DA=198.18.1.1/24 A_DB=198.18.2.1/24 A_SI=198.18.2.2/24 SRC=198.18.1.2 DST=198.18.2.99
     FORWARDING=net.ipv4.ip_forward NODAD= ;;
  6) GENERATOR=${GENERATOR:-xdp-trafficgen}
     A_DA=2001:2:0:1::1/64 A_DB=2001:2:0:2::1/64 A_SI=2001:2:0:2::2/64 SRC=2001:2:0:1::2 DST=2001:2:0:2::99
     FORWARDING=net.ipv6.conf.all.forwarding NODAD=nodad
     # xdp-trafficgen pins its sending thread to CPU 0 (thread i to CPU i) whatever the affinity it starts with.
     [ "$GEN_CPU" = 0 ] || [ "$GENERATOR" != xdp-trafficgen ] || { echo "FAMILY=6: xdp-trafficgen sends from CPU 0 only, so GEN_CPU must be 0" >&2; exit 1; }
     [ "$FRAME" -ge 62 ] || { echo "FAMILY=6: FRAME must be at least 62 (Ethernet + IPv6 + UDP headers)" >&2; exit 1; } ;;
  *) echo "FAMILY must be 4 or 6" >&2; exit 1 ;;
esac
case $GENERATOR in testpmd|xdp-trafficgen|livegen) ;; *) echo "unknown GENERATOR '$GENERATOR'" >&2; exit 1 ;; esac
[ "$GENERATOR" != testpmd ] || [ "$FAMILY" = 4 ] || { echo "testpmd's txonly mode sends IPv4 only" >&2; exit 1; }
[ "$GENERATOR" != xdp-trafficgen ] || [ "$FAMILY" = 6 ] || { echo "xdp-trafficgen sends IPv6 only" >&2; exit 1; }
tools=(ethtool taskset)
[ "$GENERATOR" = livegen ] && tools+=(gcc)
case " $CONTENDERS $GENERATOR " in *" testpmd "*) tools+=(dpdk-testpmd) ;; esac
require_root_and_tools "${tools[@]}"
case " $CONTENDERS $GENERATOR " in *" xdp-forward "*|*" xdp-trafficgen "*) need_xdp_tools ;; esac
[ "$GENERATOR" = livegen ] && gcc -O2 -o "$work/xdp_livegen" perf/native/xdp_livegen.c

tag=$$
GEN=xfg$tag DUT=xfd$tag SINK=xfs$tag          # namespaces
GI=xfg$tag DA=xfda$tag DB=xfdb$tag SI=xfs$tag # veth ends: GI<->DA, DB<->SI
NAMESPACES="$GEN $DUT $SINK"
for ns in "$GEN" "$DUT" "$SINK"; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
ip link add "$GI" netns "$GEN" type veth peer name "$DA" netns "$DUT"
ip link add "$DB" netns "$DUT" type veth peer name "$SI" netns "$SINK"
# No link-local addresses, router solicitations or DAD anywhere: the only IPv6 on the wires is the test traffic.
# The generator's end never needs IPv6; the DUT's ends get it only while Linux or xdp-forward forward IPv6.
for x in "$GEN $GI" "$DUT $DA" "$DUT $DB" "$SINK $SI"; do
  set -- $x
  ip netns exec "$1" sh -c "cd /proc/sys/net/ipv6/conf/$2 && echo 1 > addr_gen_mode && echo 0 > router_solicitations && echo 0 > accept_dad && echo 1 > disable_ipv6"
  ip -n "$1" link set "$2" up
done
# Threaded NAPI on the DUT's ingress end (pinned to DUT_CPU once it exists) and on the generator's end.
ip netns exec "$DUT" sh -c "ethtool -K $DA gro on >/dev/null; echo 1 > /sys/class/net/$DA/threaded; ethtool -K $DA gro off >/dev/null"
ip netns exec "$GEN" sh -c "ethtool -K $GI gro on >/dev/null; echo 1 > /sys/class/net/$GI/threaded"
# TSO off on the generator's end. A veth hands a frame to its peer's NAPI (the thread on DUT_CPU) only when the
# frame could be GRO'd or the peer has an XDP program; otherwise it goes to the sending CPU's backlog. Attaching
# XDP to DA turns TSO off on GI by itself, but with Linux as the DUT (no XDP) and TSO on, testpmd's AF_XDP frames
# (not from a socket that GRO could merge) would be forwarded in softirq on GEN_CPU, beside the generator.
ip netns exec "$GEN" ethtool -K "$GI" tso off >/dev/null
# The sink's end has NAPI (GRO on): xdp-forward's redirect into DB (ndo_xdp_xmit) needs it, and every contender
# gets the same sink. Not threaded, so the sink's RX runs in softirq on the CPU that sends into it, DUT_CPU.
ip netns exec "$SINK" sh -c "ethtool -K $SI gro on >/dev/null"
# The sink has no address for the destination: Linux drops what arrives (counted in rx_packets first), no ICMP back.
[ "$FAMILY" = 6 ] && ip netns exec "$SINK" sh -c "echo 0 > /proc/sys/net/ipv6/conf/$SI/disable_ipv6"
ip -n "$SINK" addr add "$A_SI" dev "$SI" $NODAD
da_mac=$(ip netns exec "$DUT" cat /sys/class/net/"$DA"/address)
si_mac=$(ip netns exec "$SINK" cat /sys/class/net/"$SI"/address)
# stats NS DEV COUNTER... -> the counters on one line, read at one moment.
stats() { local ns=$1 dev=$2; shift 2; ip netns exec "$ns" sh -c 'cd "$0" && echo $(cat "$@")' "/sys/class/net/$dev/statistics" "$@"; }
# Offered: what the generator's veth passed to the DUT's ingress ring or dropped for want of room in it.
offered() {
  if [ "$GENERATOR" = livegen ]; then
    # Its own count (on SIGUSR1): the veth's counters for redirected frames also count some its peer had no room for.
    local before; before=$(grep -c "xdp_livegen: sent" "$glog" || true)
    kill -USR1 "$gpid"
    for _ in $(seq 200); do [ "$(grep -c "xdp_livegen: sent" "$glog" || true)" -gt "$before" ] && break; sleep 0.01; done
    grep "xdp_livegen: sent" "$glog" | tail -1 | awk '{ print $3, $5 }'
  else
    local p d; read -r p d < <(stats "$GEN" "$GI" tx_packets tx_dropped); echo $(( p + d ))
  fi
}
# Datagrams the DUT's kernel forwarded itself (Linux; xdp-forward's XDP_PASS fallback).
kernel_fwd() {
  if [ "$FAMILY" = 4 ]; then
    ip netns exec "$DUT" awk '/^Ip:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "ForwDatagrams") c = i; h = 1 } else print $c }' /proc/net/snmp
  else
    ip netns exec "$DUT" awk '$1 == "Ip6OutForwDatagrams" { print $2 }' /proc/net/snmp6
  fi
}
cat > "$work/xdpstack.toml" <<EOF
[workers]
cores = [$DUT_CPU]
$([ -n "${WORKER_NICE:-}" ] && echo "nice = $WORKER_NICE")
[xdp]
lpm_huge_pages = true
[[interface]]
name = "$DA"
addresses = ["$A_DA"]
[[interface]]
name = "$DB"
addresses = ["$A_DB"]
[[neighbor]]
interface = "$DB"
address = "$DST"
mac = "$si_mac"
EOF
kernel_routing() { # kernel_routing on|off: the DUT namespace's own addresses, neighbour and forwarding switch
  if [ "$1" = on ]; then
    if [ "$FAMILY" = 6 ]; then
      for d in "$DA" "$DB"; do ip netns exec "$DUT" sh -c "echo 0 > /proc/sys/net/ipv6/conf/$d/disable_ipv6"; done
    fi
    ip -n "$DUT" addr add "$A_DA" dev "$DA" $NODAD
    ip -n "$DUT" addr add "$A_DB" dev "$DB" $NODAD
    ip -n "$DUT" neigh replace "$DST" lladdr "$si_mac" dev "$DB" nud permanent
    ip netns exec "$DUT" sysctl -qw "$FORWARDING=1"
  else
    ip netns exec "$DUT" sysctl -qw "$FORWARDING=0"
    ip -n "$DUT" neigh flush dev "$DB"
    ip -n "$DUT" addr flush dev "$DA"; ip -n "$DUT" addr flush dev "$DB"
    for d in "$DA" "$DB"; do ip netns exec "$DUT" sh -c "echo 1 > /proc/sys/net/ipv6/conf/$d/disable_ipv6"; done
  fi
}
start_dut() { # start_dut NAME LOG; sets $dpid (empty for linux and xdp-forward)
  dpid=
  case $1 in
    xdpstack)
      ip netns exec "$DUT" taskset -c "$GEN_CPU" dotnet "$XDPSTACK_DLL" run -c "$work/xdpstack.toml" > "$2" 2>&1 &
      dpid=$!; track_pid "$dpid"
      wait_for "$2" "xdpstack: ready" 30 ;;
    linux)
      kernel_routing on
      # Linux's RX work for the ingress veth runs in its NAPI thread (GRO on gives it one), pinned like the others.
      ip netns exec "$DUT" sh -c "ethtool -K $DA gro on >/dev/null" ;;
    testpmd)
      ip netns exec "$DUT" dpdk-testpmd --no-huge -m 1024 --no-pci --file-prefix "xfd$tag" \
        --lcores "0@$GEN_CPU,1@$DUT_CPU" --vdev "net_af_xdp0,iface=$DA" --vdev "net_af_xdp1,iface=$DB" -- \
        --forward-mode=mac --eth-peer="1,$si_mac" --eth-peer="0,$si_mac" --nb-cores=1 --stats-period 60 \
        --rxd="$RING" --txd="$RING" --burst="$BURST" > "$2" 2>&1 &
      dpid=$!; track_pid "$dpid"
      wait_for "$2" "start packet forwarding" 30 ;;
    xdp-forward)
      # The kernel's FIB and neighbour table decide (bpf_fib_lookup), so the namespace gets Linux's configuration;
      # what the XDP program cannot forward it passes to Linux, which kernel_fwd then counts.
      kernel_routing on
      ip netns exec "$DUT" "$XDP_TOOLS_BIN/xdp-forward" load --xdp-mode native "$DA" "$DB" > "$2" 2>&1 ||
        { cat "$2" >&2; return 1; } ;;
  esac
  sleep 1
  pin_napi "$DA" "$DUT_CPU"
}
stop_dut() {
  case $1 in
    linux)
      ip netns exec "$DUT" sh -c "ethtool -K $DA gro off >/dev/null"
      kernel_routing off ;;
    xdp-forward)
      ip netns exec "$DUT" "$XDP_TOOLS_BIN/xdp-forward" unload "$DA" "$DB" >> "$work/xdp-forward.unload.log" 2>&1 ||
        { echo "xdp-forward unload failed:" >&2; cat "$work/xdp-forward.unload.log" >&2; }
      kernel_routing off ;;
    *)
      kill -TERM "$dpid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$dpid" 2>/dev/null || true
      wait "$dpid" 2>/dev/null || true
      untrack_pid "$dpid" ;;
  esac
  for d in "$DA" "$DB"; do
    for _ in $(seq 50); do ip -n "$DUT" -d link show dev "$d" | grep -q "prog/xdp" || break; sleep 0.1; done
  done
}
start_generator() { # start_generator LOG; sets $gpid and $glog
  glog=$1
  case $GENERATOR in
    testpmd) # both lcores on GEN_CPU, 64-byte UDP SRC -> DST to the DUT's MAC
      ip netns exec "$GEN" dpdk-testpmd --no-huge -m 1024 --no-pci --file-prefix "xfg$tag" \
        --lcores "0@$GEN_CPU,1@$GEN_CPU" --vdev "net_af_xdp0,iface=$GI" -- \
        --forward-mode=txonly --eth-peer="0,$da_mac" --tx-ip="$SRC,$DST" --txpkts="$FRAME" --nb-cores=1 \
        --stats-period 60 > "$1" 2>&1 &
      gpid=$!; track_pid "$gpid"
      wait_for "$1" "start packet forwarding" 30 ;;
    xdp-trafficgen) # BPF_PROG_RUN live frames redirected into GI; --pkt-size counts the FCS; hop limit 64, not 1
      ip netns exec "$GEN" taskset -c "$GEN_CPU" "$XDP_TOOLS_BIN/xdp-trafficgen" udp --dst-mac "$da_mac" \
        --src-addr "$SRC" --dst-addr "$DST" --src-port 40000 --dst-port 9 --pkt-size $(( FRAME + 4 )) \
        --hop-limit 64 --threads 1 --interval 3600 "$GI" > "$1" 2>&1 &
      gpid=$!; track_pid "$gpid"
      wait_for "$1" "Transmitting on" 30 "$gpid" ;;
    livegen) # BPF_PROG_TEST_RUN live frames redirected into GI, FRAME bytes without FCS, TTL/hop limit 64
      ip netns exec "$GEN" taskset -c "$GEN_CPU" "$work/xdp_livegen" "$GI" "$da_mac" "$SRC" "$DST" \
        --rate "$RATE" --size "$FRAME" --sport 40000 --dport 9 > "$1" 2>&1 &
      gpid=$!; track_pid "$gpid"
      wait_for "$1" "xdp_livegen: sending" 30 "$gpid" ;;
  esac
  pin_napi "$GI" "$GEN_CPU"
}
cpu_ticks() { # cpu_ticks -> "user system" clock ticks of the DUT's forwarding thread and its ingress NAPI thread
  local wu=0 ws=0 nu=0 ns=0 t comm f stat
  if [ -n "${dpid:-}" ]; then
    for t in /proc/"$dpid"/task/*; do
      comm=$(cat "$t/comm" 2>/dev/null) || continue; [ -n "${SHOW_THREADS:-}" ] && echo "thread: $comm" >&2
      # Fields after the ")" that closes comm (which may hold spaces): utime and stime are the 12th and 13th.
      case "$comm" in "xdpstack w"*|lcore-worker*|rte-worker*|dpdk-worker*) stat=$(cat "$t/stat"); read -r -a f <<< "${stat##*) }"; wu=$((wu + f[11])); ws=$((ws + f[12])) ;; esac
    done
  fi
  while read -r pid comm; do
    case "$comm" in "napi/$DA"*) stat=$(cat "/proc/$pid/stat"); read -r -a f <<< "${stat##*) }"; nu=$((nu + f[11])); ns=$((ns + f[12])) ;; esac
  done < <(ps -eo pid=,comm=)
  echo "$wu $ws $nu $ns"
}
measure() { # measure NAME ROUND -> prints "forwarded offered" (per second)
  local log="$work/$1.$2.log" rx0 tx0 b0 k0 rx1 tx1 b1 k1 wu0 ws0 nu0 ns0 wu1 ws1 nu1 ns1
  track_pid "$BASHPID" # this subshell: at exit it must stop before it starts anything more
  start_dut "$1" "$log"
  start_generator "$work/generator.$1.$2.log"
  sleep "$WARMUP_S"
  read -r rx0 b0 < <(stats "$SINK" "$SI" rx_packets rx_bytes); tx0=$(offered); k0=$(kernel_fwd)
  read -r wu0 ws0 nu0 ns0 < <(cpu_ticks)
  sleep "$MEASURE_S"
  read -r rx1 b1 < <(stats "$SINK" "$SI" rx_packets rx_bytes); tx1=$(offered); k1=$(kernel_fwd)
  read -r wu1 ws1 nu1 ns1 < <(cpu_ticks)
  # Where CPU $DUT_CPU's time went, in % of the window (clock ticks are 1/100 s); the frame size the sink saw;
  # how many of the forwarded frames Linux's stack forwarded (all for linux, none for the others).
  echo "    $1: forwarding thread user $(( (wu1 - wu0) * 100 / (MEASURE_S * 100) ))%, system $(( (ws1 - ws0) * 100 / (MEASURE_S * 100) ))%; $DA NAPI thread $(( (nu1 - nu0 + ns1 - ns0) * 100 / (MEASURE_S * 100) ))%; $(( ((b1 - b0) * 2 / (rx1 - rx0 > 0 ? rx1 - rx0 : 1) + 1) / 2 ))-byte frames at the sink; kernel forwarded $(( (k1 - k0) / MEASURE_S ))/s" >&2
  kill -TERM "$gpid" 2>/dev/null || true
  wait "$gpid" 2>/dev/null || true
  untrack_pid "$gpid"
  stop_dut "$1"
  untrack_pid "$BASHPID"
  if [ "$GENERATOR" = livegen ]; then # "count time" pairs: the rate over the generator's own interval
    echo "$(( (rx1 - rx0) / MEASURE_S )) $(awk -v a="$tx0" -v b="$tx1" 'BEGIN { split(a, x, " "); split(b, y, " "); printf "%d", (y[1] - x[1]) / (y[2] - x[2]) }')"
  else
    echo "$(( (rx1 - rx0) / MEASURE_S )) $(( (tx1 - tx0) / MEASURE_S ))"
  fi
}

echo "lab: $GEN/$GI -> $DUT/$DA [device under test] $DUT/$DB -> $SINK/$SI; IPv$FAMILY, $FRAME-byte UDP frames from $GENERATOR$([ "$GENERATOR" = livegen ] && echo " at ${RATE} frames/s (0: no limit)") on CPU $GEN_CPU;"
echo "     the DUT's forwarding thread and $DA's NAPI thread on CPU $DUT_CPU; ${MEASURE_S} s per sample, $ROUNDS rounds"
declare -A sum
printf '%-12s %5s %14s %14s\n' contender round "forwarded pps" "offered pps"
for round in $(seq "$ROUNDS"); do
  for who in $CONTENDERS; do
    read -r fwd off < <(measure "$who" "$round")
    # Forwarding (nearly) all that is offered means the generator set the figure, not the DUT.
    note=; [ "$off" -gt 0 ] && [ $(( fwd * 100 / off )) -ge 90 ] && note="  (>= 90% of offered: generator-bound, a lower bound)"
    printf '%-12s %5s %14s %14s%s\n' "$who" "$round" "$fwd" "$off" "$note"
    sum[$who]=$(( ${sum[$who]:-0} + fwd ))
  done
done
# One line per contender: its mean, and its mean divided by each contender's mean (a column per contender).
echo "IPv$FAMILY, mean of $ROUNDS rounds; ratio = this row's mean / the column's mean"
header=$(printf '%-12s %8s' contender Mpps); for c in $CONTENDERS; do header+=$(printf ' %12s' "/$c"); done
echo "$header"
for who in $CONTENDERS; do
  line=$(printf '%-12s %8s' "$who" "$(awk -v s="${sum[$who]}" -v r="$ROUNDS" 'BEGIN { printf "%.3f", s / r / 1e6 }')")
  for c in $CONTENDERS; do
    line+=$(printf ' %12s' "$(awk -v a="${sum[$who]}" -v b="${sum[$c]}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')")
  done
  echo "$line"
done
