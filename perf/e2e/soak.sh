#!/usr/bin/env bash
# Soak: `xdpstack run` forwarding IPv4 and IPv6 and answering UDP echo at once, at the highest rate the lab's
# generators reach, for DURATION_S seconds; then frame conservation checked exactly, every UMEM frame accounted for,
# memory and collections flat, no counter going backwards. Method and figures: README.md here, perf/RESULTS.md.
#
#   flock -x /tmp/xdpstack-cpu.lock perf/e2e/soak.sh                  # 30 minutes
#   DURATION_S=60 flock -x /tmp/xdpstack-cpu.lock perf/e2e/soak.sh    # a minute, to try the lab
#
# Environment: DURATION_S (1800), SAMPLE_S (30: seconds between metric scrapes), WARMUP_S (20: left out of the
# flatness checks, the JIT's and the first collections' time), GEN_CPU/DUT_CPU (0/1), XDPSTACK_DLL, XDP_TOOLS_BIN.
# Exit status 0 only when every check holds.
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION_S=${DURATION_S:-1800}
SAMPLE_S=${SAMPLE_S:-30}
WARMUP_S=${WARMUP_S:-20}
GEN_CPU=${GEN_CPU:-0}
DUT_CPU=${DUT_CPU:-1}
XDPSTACK_DLL=${XDPSTACK_DLL:-src/Appliance/bin/Release/net10.0/xdpstack.dll}
PYTHON=${PYTHON:-/usr/bin/python3}
source perf/e2e/lib.sh
require_root_and_tools ethtool taskset dpdk-testpmd curl "$PYTHON"
need_xdp_tools

tag=$$
GEN=xsg$tag DUT=xsd$tag SINK=xss$tag
# Three wires from the generator namespace into the DUT and one out of it to the sink:
#   GA <-> DA  IPv4 UDP to forward (testpmd txonly)      DB <-> SB  the sink of both forwarded flows
#   GC <-> DC  IPv6 UDP to forward (xdp-trafficgen)
#   GE <-> DE  IPv4 UDP echo requests (testpmd txonly), answered back out of DE
GA=xsga$tag DA=xsda$tag GC=xsgc$tag DC=xsdc$tag GE=xsge$tag DE=xsde$tag DB=xsdb$tag SB=xssb$tag
NAMESPACES="$GEN $DUT $SINK"
for ns in $NAMESPACES; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
for pair in "$GA $DA $GEN" "$GC $DC $GEN" "$GE $DE $GEN"; do
  set -- $pair
  ip link add "$1" netns "$3" type veth peer name "$2" netns "$DUT"
done
ip link add "$DB" netns "$DUT" type veth peer name "$SB" netns "$SINK"
# No IPv6 of the kernels' own on any wire (no router solicitations, DAD or MLD to count): only the test traffic.
for x in "$GEN $GA" "$GEN $GC" "$GEN $GE" "$DUT $DA" "$DUT $DB" "$DUT $DC" "$DUT $DE" "$SINK $SB"; do
  set -- $x
  ip netns exec "$1" sh -c "cd /proc/sys/net/ipv6/conf/$2 && echo 1 > disable_ipv6"
  ip -n "$1" link set "$2" up
done
# Threaded NAPI: the DUT's ingress ends on DUT_CPU (once their XDP programs exist), the generator's on GEN_CPU.
for d in "$DA" "$DC" "$DE"; do
  ip netns exec "$DUT" sh -c "ethtool -K $d gro on >/dev/null; echo 1 > /sys/class/net/$d/threaded; ethtool -K $d gro off >/dev/null"
done
for g in "$GA" "$GC" "$GE"; do
  ip netns exec "$GEN" sh -c "ethtool -K $g gro on >/dev/null; echo 1 > /sys/class/net/$g/threaded; ethtool -K $g tso off >/dev/null"
done
# The sink takes both forwarded flows in softirq on the CPU that sends into it and drops them (no such address).
ip netns exec "$SINK" sh -c "ethtool -K $SB gro on >/dev/null"
ip -n "$SINK" addr add 198.18.2.2/24 dev "$SB"
mac() { ip netns exec "$1" cat /sys/class/net/"$2"/address; }
sb_mac=$(mac "$SINK" "$SB") ge_mac=$(mac "$GEN" "$GE")

cat > "$work/xdpstack.toml" <<EOF
[workers]
cores = [$DUT_CPU]
[xdp]
lpm_huge_pages = true
[[interface]]
name = "$DA"
addresses = ["198.18.1.1/24"]
[[interface]]
name = "$DC"
addresses = ["2001:2:0:3::1/64"]
[[interface]]
name = "$DE"
addresses = ["198.18.4.1/24"]
[[interface]]
name = "$DB"
addresses = ["198.18.2.1/24", "2001:2:0:2::1/64"]
[[neighbor]]
interface = "$DB"
address = "198.18.2.99"
mac = "$sb_mac"
[[neighbor]]
interface = "$DB"
address = "2001:2:0:2::99"
mac = "$sb_mac"
[[neighbor]]
interface = "$DE"
address = "198.18.4.2"
mac = "$ge_mac"
[[service]]
kind = "udp-echo"
port = 7
EOF

log=$work/xdpstack.log
ip netns exec "$DUT" taskset -c "$GEN_CPU" dotnet "$XDPSTACK_DLL" run -c "$work/xdpstack.toml" > "$log" 2>&1 &
dpid=$!; track_pid "$dpid"
wait_for "$log" "xdpstack: ready" 60
sleep 1
for d in "$DA" "$DC" "$DE"; do pin_napi "$d" "$DUT_CPU"; done

# The generators, all on GEN_CPU: each sends as fast as its veth takes frames.
testpmd_txonly() { # testpmd_txonly NAME IFACE DST_MAC SRC DST UDP_PORTS
  ip netns exec "$GEN" dpdk-testpmd --no-huge -m 1024 --no-pci --file-prefix "xs$1$tag" \
    --lcores "0@$GEN_CPU,1@$GEN_CPU" --vdev "net_af_xdp0,iface=$2" -- \
    --forward-mode=txonly --eth-peer="0,$3" --tx-ip="$4,$5" --tx-udp="$6" --txpkts=64 --nb-cores=1 \
    --stats-period 3600 --total-num-mbufs=32768 > "$work/gen-$1.log" 2>&1 &
  track_pid $!
  wait_for "$work/gen-$1.log" "start packet forwarding" 30
}
testpmd_txonly fwd4 "$GA" "$(mac "$DUT" "$DA")" 198.18.1.2 198.18.2.99 40000,9
testpmd_txonly echo "$GE" "$(mac "$DUT" "$DE")" 198.18.4.2 198.18.4.1 40000,7
ip netns exec "$GEN" taskset -c "$GEN_CPU" "$XDP_TOOLS_BIN/xdp-trafficgen" udp --dst-mac "$(mac "$DUT" "$DC")" \
  --src-addr 2001:2:0:3::2 --dst-addr 2001:2:0:2::99 --src-port 40000 --dst-port 9 --pkt-size 66 \
  --hop-limit 64 --threads 1 --interval 3600 "$GC" > "$work/gen-fwd6.log" 2>&1 &
gen6=$!; track_pid "$gen6"
wait_for "$work/gen-fwd6.log" "Transmitting on" 30 "$gen6"
for g in "$GA" "$GC" "$GE"; do pin_napi "$g" "$GEN_CPU"; done

scrape() { ip netns exec "$DUT" curl -sf --max-time 5 http://127.0.0.1:9469/metrics; }
echo "soak: $DURATION_S s; IPv4 forwarding $GA->$DA->$DB, IPv6 forwarding $GC->$DC->$DB, UDP echo on $DE;"
echo "      generators and their NAPI threads on CPU $GEN_CPU, the worker and the ingress NAPI threads on CPU $DUT_CPU"
mkdir -p "$work/scrapes"
start=$(date +%s)
n=0
while :; do
  now=$(date +%s)
  scrape > "$work/scrapes/$(printf %05d $((now - start)))" || { echo "scrape failed at $((now - start)) s" >&2; exit 1; }
  n=$((n + 1))
  [ $((now - start)) -ge "$DURATION_S" ] && break
  kill -0 "$dpid" 2>/dev/null || { echo "xdpstack exited:" >&2; cat "$log" >&2; exit 1; }
  sleep $(( SAMPLE_S < DURATION_S - (now - start) ? SAMPLE_S : DURATION_S - (now - start) ))
done
elapsed=$(( $(date +%s) - start ))

# Generators off, then a settle, so every frame on a wire has landed before the final count.
while read -r p; do kill -TERM "$p" 2>/dev/null || true; done < <(grep -v "^$dpid\$" "$work/pids")
sleep 3
kstat() { ip netns exec "$1" cat "/sys/class/net/$2/statistics/$3"; }
{
  for x in "$GEN $GA" "$GEN $GC" "$GEN $GE" "$SINK $SB" "$DUT $DB" "$DUT $DE"; do
    set -- $x
    echo "veth $2 tx_packets $(kstat "$1" "$2" tx_packets)"
    echo "veth $2 tx_dropped $(kstat "$1" "$2" tx_dropped)"
    echo "veth $2 rx_packets $(kstat "$1" "$2" rx_packets)"
  done
  for d in "$DA" "$DC" "$DE" "$DB"; do
    ip netns exec "$DUT" ethtool -S "$d" | awk -v d="$d" 'NF == 2 { sub(":", "", $1); print "ethtool " d " " $1 " " $2 }'
  done
} > "$work/kernel-counters"
scrape > "$work/final.prom"
kill -TERM "$dpid"
stop0=$(date +%s%N)
for _ in $(seq 100); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.05; done
wait "$dpid" 2>/dev/null || true
untrack_pid "$dpid"
stop_ms=$(( ($(date +%s%N) - stop0) / 1000000 ))
attached=0
for d in "$DA" "$DC" "$DE" "$DB"; do ip -n "$DUT" -d link show dev "$d" | grep -q "prog/xdp" && attached=1; done

"$PYTHON" perf/e2e/soak_check.py --scrapes "$work/scrapes" --final "$work/final.prom" \
  --kernel "$work/kernel-counters" --log "$log" --warmup "$WARMUP_S" --elapsed "$elapsed" --stop-ms "$stop_ms" \
  --attached "$attached" --fwd4 "$GA:$DA" --fwd6 "$GC:$DC" --echo "$GE:$DE" --out "$DB:$SB"
