#!/usr/bin/env bash
# One side of a differential run: builds host A (198.18.50.2) -- D -- host B (198.18.51.2) in namespaces, makes D
# either Linux (ip_forward, a Python echo server on port 7) or `xdpstack run` (udp-echo and tcp-echo on 7), runs the
# probe lines of a file from A, and writes what tcpdump saw on A's link (tcpdump -v) and what the probes printed.
#
#   tools/linux-diff/lab.sh linux|xdp PROBES OUTDIR
#
# Only namespaces this script makes, only 198.18.0.0/15 and 2001:2::/48; everything is removed on exit. D's link to
# B has MTU 1280. Environment: XDPSTACK_DLL (src/Appliance/bin/Release/net10.0/xdpstack.dll), CPU (1, for the worker).
set -u
MODE=$1; PROBES=$2; OUT=$3
cd "$(dirname "$0")/../.."
export DIFF_TOOLS=$PWD/tools/linux-diff
DLL=${XDPSTACK_DLL:-$PWD/src/Appliance/bin/Release/net10.0/xdpstack.dll}
mkdir -p "$OUT"
NS=(ldA ldD ldB)
XPID=; TD=
cleanup() {
  [ -n "$TD" ] && kill $TD 2>/dev/null
  [ -n "$XPID" ] && kill -TERM "$XPID" 2>/dev/null && wait "$XPID" 2>/dev/null
  for n in "${NS[@]}"; do ip netns del "$n" 2>/dev/null; done
}
trap cleanup EXIT INT TERM
for n in "${NS[@]}"; do ip netns add "$n"; done
ip link add va netns ldA type veth peer name vd netns ldD
ip link add vb netns ldB type veth peer name ve netns ldD
ip -n ldA addr add 198.18.50.2/24 dev va; ip -n ldA addr add 2001:2:0:50::2/64 dev va nodad
ip -n ldB addr add 198.18.51.2/24 dev vb; ip -n ldB addr add 2001:2:0:51::2/64 dev vb nodad
for x in "ldA va" "ldB vb" "ldD vd" "ldD ve" "ldA lo" "ldB lo" "ldD lo"; do set -- $x; ip -n "$1" link set "$2" up; done
ip -n ldD link set ve mtu 1280; ip -n ldB link set vb mtu 1280
# A socket's checksums would otherwise be left to an offload a veth never performs (docs/lab.md).
ip netns exec ldA ethtool -K va tx off >/dev/null; ip netns exec ldB ethtool -K vb tx off >/dev/null
ip -n ldA route add default via 198.18.50.1; ip -n ldA -6 route add default via 2001:2:0:50::1
ip -n ldB route add default via 198.18.51.1; ip -n ldB -6 route add default via 2001:2:0:51::1
if [ "$MODE" = linux ]; then
  ip -n ldD addr add 198.18.50.1/24 dev vd; ip -n ldD addr add 2001:2:0:50::1/64 dev vd nodad
  ip -n ldD addr add 198.18.51.1/24 dev ve; ip -n ldD addr add 2001:2:0:51::1/64 dev ve nodad
  ip netns exec ldD sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
  # A gateway on A's own link, so that packets for 198.18.60.0/24 draw Redirects.
  ip -n ldD route add 198.18.60.0/24 via 198.18.50.3
  ip -n ldD neigh add 198.18.50.3 lladdr 02:00:00:00:50:03 dev vd nud permanent
  ip netns exec ldD python3 "$DIFF_TOOLS/echo_server.py" &
  XPID=$!
else
  cat > "$OUT/xdpstack.toml" <<T
[workers]
cores = [${CPU:-1}]
[forwarding]
ipv4 = true
ipv6 = true
[[interface]]
name = "vd"
queues = "all"
addresses = ["198.18.50.1/24", "2001:2:0:50::1/64"]
[[interface]]
name = "ve"
queues = "all"
mtu = 1280
addresses = ["198.18.51.1/24", "2001:2:0:51::1/64"]
[[route]]
prefix = "198.18.60.0/24"
via = "198.18.50.3"
[[neighbor]]
interface = "vd"
address = "198.18.50.3"
mac = "02:00:00:00:50:03"
[[service]]
kind = "udp-echo"
port = 7
[[service]]
kind = "tcp-echo"
port = 7
[management]
listen = ""
T
  ip netns exec ldD dotnet "$DLL" run -c "$OUT/xdpstack.toml" > "$OUT/xdpstack.log" 2>&1 &
  XPID=$!
  for _ in $(seq 1 60); do grep -q "ready" "$OUT/xdpstack.log" && break; sleep 0.5; done
  grep -q ready "$OUT/xdpstack.log" || { cat "$OUT/xdpstack.log"; exit 1; }
fi
sleep 1
ip netns exec ldA tcpdump -i va -n -U -w "$OUT/$MODE.pcap" 2>/dev/null &
TD=$!
# B's link too: what the router forwards, options and all.
ip netns exec ldB tcpdump -i vb -n -U -w "$OUT/$MODE-b.pcap" 2>/dev/null &
TD="$TD $!"
sleep 1
: > "$OUT/$MODE.out"
while IFS= read -r line; do
  [ -z "$line" ] && continue
  # Probe files name the namespaces dA, dB, dD; this lab's are prefixed.
  line=$(sed -E 's/\bd([ABD])\b/ld\1/g' <<< "$line")
  echo "### $line" >> "$OUT/$MODE.out"
  timeout 40 bash -c "$line" >> "$OUT/$MODE.out" 2>&1
  sleep 0.3
done < "$PROBES"
sleep 1
kill $TD; for t in $TD; do wait "$t" 2>/dev/null; done; TD=
tcpdump -n -S -v -r "$OUT/$MODE.pcap" > "$OUT/$MODE.txt" 2>/dev/null
tcpdump -n -S -v -r "$OUT/$MODE-b.pcap" > "$OUT/$MODE-b.txt" 2>/dev/null
