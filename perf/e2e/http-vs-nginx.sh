#!/usr/bin/env bash
# HTTP: `xdpstack run` with http services against nginx (Debian's, 1 worker pinned to the server CPU, tiny static
# file), the two alternating in one run on the same veth lab; issue 13's targets. Three figures per contender:
#   keep-alive requests/s   wrk -t1 -c CONNECTIONS, one 13-octet response per request;
#   new connections/s       wrk -t1 -c CONNECTIONS with "Connection: close": a connection per request, closed by the
#                           server (checked: the client's TCP ActiveOpens grew by at least the requests);
#                           CONN_CLIENT=ab: ab -c CONNECTIONS without -k (HTTP/1.0), the client of earlier runs;
#   bulk, one connection    curl fetching BULK_MB MiB, content compared octet for octet; against nginx this is
#                           Linux's TCP to Linux's TCP over the same veths (sendfile).
# Beside each figure, the busy share of the client CPU and the server CPU (/proc/stat), the server CPU's time per
# request (cpu-us: everything on that CPU), and the server's own CPU time per request (own-us: server_us below). A client
# CPU near 100% means the client is what limits the figure; own-us then says what the server spends.
#
#   dotnet build src/Appliance -c Release
#   flock -x /tmp/xdpstack-cpu.lock perf/e2e/http-vs-nginx.sh
#
# Environment: MEASURE_S (10), ROUNDS (3), CONNECTIONS (64), BULK_MB (256), CLI_CPU/SRV_CPU (0/1), XDPSTACK_DLL,
# CONTENDERS ("xdpstack nginx"), CONN_CLIENT (wrk or ab), CLI_NAPI (pinned, or floating: the client end's NAPI thread
# left to the scheduler), CONGESTION (cubic: the congestion control of Linux's TCP at both ends, set on their subnet
# route, since a namespace takes the host's default, BBR on some distributions), KEEP_WORK (keep the logs).
set -euo pipefail
cd "$(dirname "$0")/../.."
MEASURE_S=${MEASURE_S:-10}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-64}
BULK_MB=${BULK_MB:-256}
CONN_CLIENT=${CONN_CLIENT:-wrk}
CLI_NAPI=${CLI_NAPI:-pinned}
CONGESTION=${CONGESTION:-cubic}
CLI_CPU=${CLI_CPU:-0}
SRV_CPU=${SRV_CPU:-1}
XDPSTACK_DLL=${XDPSTACK_DLL:-src/Appliance/bin/Release/net10.0/xdpstack.dll}
source perf/e2e/lib.sh
require_root_and_tools taskset ethtool cmp
for tool in nginx wrk ab curl; do
  command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install nginx wrk apache2-utils curl" >&2; exit 1; }
done
tag=$$
CLI=xhc$tag SRV=xhs$tag
CI=xhc$tag SI=xhs$tag
NAMESPACES="$CLI $SRV"
BULK_BYTES=$(( BULK_MB * 1024 * 1024 ))
ip netns add "$CLI"; ip netns add "$SRV"
ip link add "$CI" netns "$CLI" type veth peer name "$SI" netns "$SRV"
for x in "$CLI $CI" "$SRV $SI" "$CLI lo" "$SRV lo"; do set -- $x; ip -n "$1" link set "$2" up; done
ip netns exec "$SRV" sh -c "echo 1 > /proc/sys/net/ipv6/conf/$SI/disable_ipv6"
# Threaded NAPI on both ends, as in echo-vs-linux.sh: the server end's thread is pinned to the server CPU once its
# XDP program (or, for nginx, GRO) makes it appear; the client end's takes the server's segments on the client CPU.
ip netns exec "$SRV" sh -c "ethtool -K $SI gro on >/dev/null; echo 1 > /sys/class/net/$SI/threaded; ethtool -K $SI gro off >/dev/null"
ip netns exec "$CLI" sh -c "ethtool -K $CI gro on >/dev/null; echo 1 > /sys/class/net/$CI/threaded"
[ "$CLI_NAPI" = pinned ] && pin_napi "$CI" "$CLI_CPU"
# The client's segments leave with their checksums filled in and at most one MSS each: a veth hands XDP what the
# socket wrote, and with offloads on that is a partial checksum or a 64 KiB TSO frame (docs/lab.md). The same for
# both contenders, so nginx's side of the comparison sees the same client.
ip netns exec "$CLI" ethtool -K "$CI" tx off tso off gso off >/dev/null
ip -n "$CLI" addr add 198.18.0.1/24 dev "$CI"
ip -n "$CLI" route replace 198.18.0.0/24 dev "$CI" proto kernel scope link src 198.18.0.1 congctl "$CONGESTION"
# The client opens hundreds of thousands of connections; the server closes them, so it holds the TIME_WAITs.
ip netns exec "$CLI" sysctl -qw net.ipv4.ip_local_port_range="1024 65535" net.ipv4.tcp_tw_reuse=1
ci_mac=$(ip netns exec "$CLI" cat /sys/class/net/"$CI"/address)
si_mac=$(ip netns exec "$SRV" cat /sys/class/net/"$SI"/address)
ip -n "$CLI" neigh replace 198.18.0.2 lladdr "$si_mac" dev "$CI" nud permanent

mkdir -p "$work/www"
printf 'xxxxxxxxxxxxx' > "$work/www/tiny"
head -c "$BULK_BYTES" /dev/zero | tr '\0' x > "$work/www/bulk"
cat > "$work/xdpstack.toml" <<EOT
[workers]
cores = [$SRV_CPU]
[[interface]]
name = "$SI"
addresses = ["198.18.0.2/24"]
[[neighbor]]
interface = "$SI"
address = "198.18.0.1"
mac = "$ci_mac"
[[service]]
kind = "http"
port = 80
body_bytes = 13
[[service]]
kind = "http"
port = 8080
body_bytes = $BULK_BYTES
EOT
# worker_cpu_affinity takes a bit mask written in binary: CPU n is a 1 followed by n zeros.
mask=1$(printf '%*s' "$SRV_CPU" '' | tr ' ' 0)
cat > "$work/nginx.conf" <<EOT
user root;
worker_processes 1;
worker_cpu_affinity $mask;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 8192; multi_accept on; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000000;
  server { listen 198.18.0.2:80 backlog=4096 reuseport; root $work/www; location / { try_files /tiny =404; } }
  server { listen 198.18.0.2:8080 backlog=4096; root $work/www; }
}
EOT

start_server() { # start_server NAME LOG; sets $spid
  case $1 in
    xdpstack)
      ip netns exec "$SRV" taskset -c "$CLI_CPU" dotnet "$XDPSTACK_DLL" run -c "$work/xdpstack.toml" > "$2" 2>&1 &
      spid=$!
      wait_for "$2" "xdpstack: ready" 30 ;;
    nginx)
      ip -n "$SRV" addr add 198.18.0.2/24 dev "$SI"
      ip -n "$SRV" route replace 198.18.0.0/24 dev "$SI" proto kernel scope link src 198.18.0.2 congctl "$CONGESTION"
      ip -n "$SRV" neigh replace 198.18.0.1 lladdr "$ci_mac" dev "$SI" nud permanent
      ip netns exec "$SRV" sh -c "ethtool -K $SI gro on >/dev/null"
      ip netns exec "$SRV" taskset -c "$SRV_CPU" nginx -c "$work/nginx.conf" -g 'daemon off;' > "$2" 2>&1 &
      spid=$!
      for _ in $(seq 100); do ip netns exec "$SRV" curl -s -o /dev/null http://198.18.0.2/ && break; sleep 0.1; done ;;
  esac
  pids+=("$spid")
  sleep 1
  pin_napi "$SI" "$SRV_CPU"
  # Warm-up: the JIT, the connection pools, nginx's open files.
  ip netns exec "$CLI" taskset -c "$CLI_CPU" wrk -t1 -c "$CONNECTIONS" -d 2s http://198.18.0.2/tiny > /dev/null
}
stop_server() {
  kill -TERM "$spid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$spid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$spid" 2>/dev/null || true
  wait "$spid" 2>/dev/null || true
  if [ "$1" = nginx ]; then
    ip netns exec "$SRV" sh -c "ethtool -K $SI gro off >/dev/null"
    ip -n "$SRV" addr flush dev "$SI"; ip -n "$SRV" neigh flush dev "$SI"
  else
    for _ in $(seq 50); do ip -n "$SRV" -d link show dev "$SI" | grep -q "prog/xdp" || break; sleep 0.1; done
  fi
}
busy() { # busy CPU -> "busy total" jiffies so far
  awk -v c="cpu$1" '$1 == c { print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8 }' /proc/stat
}
# share B0 T0 B1 T1 -> busy percent between two busy() readings
share() { python3 -c "import sys; b0, t0, b1, t1 = map(int, sys.argv[1:]); print(f'{100 * (b1 - b0) / max(t1 - t0, 1):.0f}')" "$@"; }
# per_request B0 B1 N -> server CPU microseconds per request (jiffies are 1/USER_HZ s)
per_request() { python3 -c "import os, sys; b0, b1, n = map(int, sys.argv[1:4]); print(f'{(b1 - b0) / os.sysconf(\"SC_CLK_TCK\") * 1e6 / max(n, 1):.2f}')" "$@"; }

# The server's own CPU time so far, in microseconds (own-us): for nginx, its worker process (whose syscalls carry the
# kernel's TCP and the sends) and its veth's NAPI thread (the kernel's receive path); unlike the CPU's busy share, this
# is the work the server does per request even when the client is what limits the rate and the CPU idles. xdpstack's
# worker polls without sleeping while traffic flows, so the whole server CPU's time (cpu-us) stands for it: an upper
# bound (its own "busy rounds" time cannot be used: the NAPI thread on the same CPU preempts it within those rounds).
ticks_us() { awk -v hz="$(getconf CLK_TCK)" '{ t += $14 + $15 } END { printf "%d", t * 1e6 / hz }' "$@"; }
server_us() {
  [ "$1" = nginx ] || { echo 0; return; }
  local napi
  napi=$(ps -eo pid=,comm= | awk -v d="napi/$SI" 'index($2, d) == 1 { print "/proc/" $1 "/stat" }')
  ticks_us $napi $(pgrep -P "$spid" | sed 's#.*#/proc/&/stat#')
}
# own_per_unit WHO U0 U1 N CPU_PER_UNIT -> the server's own microseconds per unit (xdpstack: CPU_PER_UNIT)
own_per_unit() {
  if [ "$1" = nginx ]; then python3 -c "import sys; u0, u1, n = map(int, sys.argv[1:4]); print(f'{(u1 - u0) / max(n, 1):.2f}')" "$2" "$3" "$4"; else echo "$5"; fi
}

# Each measure prints "FIGURE CLIENT% SERVER% SERVER_CPU_US_PER_UNIT SERVER_OWN_US_PER_UNIT"; an error in the run
# (non-2xx, a socket error, a failed request, a body that differs) stops the script.
keepalive() {
  local c0 s0 c1 s1 o0 o1 out rps
  o0=$(server_us "$1")
  read -r c0 ct0 < <(busy "$CLI_CPU"); read -r s0 st0 < <(busy "$SRV_CPU")
  out=$(ip netns exec "$CLI" taskset -c "$CLI_CPU" wrk -t1 -c "$CONNECTIONS" -d "${MEASURE_S}s" --timeout 5s http://198.18.0.2/tiny)
  read -r c1 ct1 < <(busy "$CLI_CPU"); read -r s1 st1 < <(busy "$SRV_CPU")
  o1=$(server_us "$1")
  echo "$out" > "$work/wrk.$1.$2.log"
  if grep -qE 'Non-2xx|Socket errors' <<< "$out"; then echo "wrk against $1 saw errors:" >&2; echo "$out" >&2; exit 1; fi
  rps=$(awk '/^Requests\/sec:/ { printf "%d", $2 }' <<< "$out")
  echo "$rps $(share "$c0" "$ct0" "$c1" "$ct1") $(share "$s0" "$st0" "$s1" "$st1") $(per_request "$s0" "$s1" $(( rps * MEASURE_S ))) $(own_per_unit "$1" "$o0" "$o1" $(( rps * MEASURE_S )) "$(per_request "$s0" "$s1" $(( rps * MEASURE_S )))")"
}
# active_opens: the client namespace's TCP ActiveOpens (connections it has opened so far).
active_opens() {
  ip netns exec "$CLI" awk '$1 == "Tcp:" && $6 ~ /^[0-9]+$/ { print $6 }' /proc/net/snmp
}
connections() {
  local c0 s0 c1 s1 o0 o1 out cps failed opens0 opens1 total
  o0=$(server_us "$1")
  opens0=$(active_opens)
  read -r c0 ct0 < <(busy "$CLI_CPU"); read -r s0 st0 < <(busy "$SRV_CPU")
  if [ "$CONN_CLIENT" = wrk ]; then
    out=$(ip netns exec "$CLI" taskset -c "$CLI_CPU" wrk -t1 -c "$CONNECTIONS" -d "${MEASURE_S}s" --timeout 5s -H "Connection: close" http://198.18.0.2/tiny)
  else
    out=$(ip netns exec "$CLI" taskset -c "$CLI_CPU" ab -q -t "$MEASURE_S" -n 100000000 -c "$CONNECTIONS" -s 10 http://198.18.0.2/tiny 2>&1)
  fi
  read -r c1 ct1 < <(busy "$CLI_CPU"); read -r s1 st1 < <(busy "$SRV_CPU")
  o1=$(server_us "$1")
  opens1=$(active_opens)
  echo "$out" > "$work/$CONN_CLIENT.close.$1.$2.log"
  if [ "$CONN_CLIENT" = wrk ]; then
    if grep -qE 'Non-2xx|Socket errors' <<< "$out"; then echo "wrk (Connection: close) against $1 saw errors:" >&2; echo "$out" >&2; exit 1; fi
    cps=$(awk '/^Requests\/sec:/ { printf "%d", $2 }' <<< "$out")
    total=$(awk '/ requests in / { print $1 }' <<< "$out")
    # Each request must have had a connection of its own: the server closed every one.
    if [ $(( opens1 - opens0 )) -lt "$total" ]; then
      echo "wrk against $1: $total requests over only $(( opens1 - opens0 )) connections" >&2; exit 1
    fi
  else
    failed=$(awk '/^Failed requests:/ { print $3 }' <<< "$out")
    if [ "${failed:-1}" != 0 ] || grep -q 'Non-2xx' <<< "$out"; then echo "ab against $1 saw errors:" >&2; echo "$out" >&2; exit 1; fi
    cps=$(awk '/^Requests per second:/ { printf "%d", $4 }' <<< "$out")
  fi
  echo "$cps $(share "$c0" "$ct0" "$c1" "$ct1") $(share "$s0" "$st0" "$s1" "$st1") $(per_request "$s0" "$s1" $(( cps * MEASURE_S ))) $(own_per_unit "$1" "$o0" "$o1" $(( cps * MEASURE_S )) "$(per_request "$s0" "$s1" $(( cps * MEASURE_S )))")"
}
bulk() {
  local c0 s0 c1 s1 o0 o1 out speed size
  rm -f "$work/got"
  o0=$(server_us "$1")
  read -r c0 ct0 < <(busy "$CLI_CPU"); read -r s0 st0 < <(busy "$SRV_CPU")
  out=$(ip netns exec "$CLI" taskset -c "$CLI_CPU" curl -sS --max-time 120 -o "$work/got" -w '%{speed_download} %{size_download}' http://198.18.0.2:8080/bulk)
  read -r c1 ct1 < <(busy "$CLI_CPU"); read -r s1 st1 < <(busy "$SRV_CPU")
  o1=$(server_us "$1")
  read -r speed size <<< "$out"
  if [ "$size" != "$BULK_BYTES" ] || ! cmp -s "$work/got" "$work/www/bulk"; then echo "bulk from $1: $size octets, not the $BULK_BYTES expected, or different" >&2; exit 1; fi
  rm -f "$work/got"
  # MB/s (10^6 octets), and the server CPU's microseconds per MiB.
  echo "$(python3 -c "import sys; print(f'{float(sys.argv[1]) / 1e6:.0f}')" "$speed") $(share "$c0" "$ct0" "$c1" "$ct1") $(share "$s0" "$st0" "$s1" "$st1") $(per_request "$s0" "$s1" "$BULK_MB") $(own_per_unit "$1" "$o0" "$o1" "$BULK_MB" "$(per_request "$s0" "$s1" "$BULK_MB")")"
}

echo "lab: $CLI/$CI <-veth-> $SRV/$SI; wrk, $CONN_CLIENT, curl and $CI's NAPI thread ($CLI_NAPI) on CPU $CLI_CPU; the server (xdpstack's"
echo "     worker, or nginx's one worker) and $SI's NAPI thread on CPU $SRV_CPU; $CONNECTIONS connections, ${MEASURE_S} s, $ROUNDS rounds, bulk $BULK_MB MiB"
declare -A sum own
printf '%-9s %5s | %11s %4s %4s %8s %8s | %8s %4s %4s %8s %8s | %9s %4s %4s %10s %10s\n' contender round \
  "keepalive/s" "cli%" "srv%" "cpu-us/r" "own-us/r" "conns/s" "cli%" "srv%" "cpu-us/c" "own-us/c" "bulk MB/s" "cli%" "srv%" "cpu-us/MiB" "own-us/MiB"
for round in $(seq "$ROUNDS"); do
  for who in ${CONTENDERS:-xdpstack nginx}; do
    start_server "$who" "$work/$who.$round.log"
    read -r ka kac kas kau kao < <(keepalive "$who" "$round")
    read -r cn cnc cns cnu cno < <(connections "$who" "$round")
    read -r bk bkc bks bku bko < <(bulk "$who" "$round")
    stop_server "$who"
    printf '%-9s %5s | %11s %4s %4s %8s %8s | %8s %4s %4s %8s %8s | %9s %4s %4s %10s %10s\n' "$who" "$round" \
      "$ka" "$kac" "$kas" "$kau" "$kao" "$cn" "$cnc" "$cns" "$cnu" "$cno" "$bk" "$bkc" "$bks" "$bku" "$bko"
    sum[$who.ka]=$(( ${sum[$who.ka]:-0} + ka )); sum[$who.cn]=$(( ${sum[$who.cn]:-0} + cn )); sum[$who.bk]=$(( ${sum[$who.bk]:-0} + bk ))
    own[$who.ka]="${own[$who.ka]:-} $kao"; own[$who.cn]="${own[$who.cn]:-} $cno"; own[$who.bk]="${own[$who.bk]:-} $bko"
  done
done
for who in ${CONTENDERS:-xdpstack nginx}; do
  mean() { python3 -c "import sys; v = list(map(float, sys.argv[1:])); print(f'{sum(v) / len(v):.2f}')" $1; }
  printf '%-9s %5s | %11s %4s %4s %8s %8s | %8s %4s %4s %8s %8s | %9s %4s %4s %10s %10s\n' "$who" mean \
    "$(( sum[$who.ka] / ROUNDS ))" "" "" "" "$(mean "${own[$who.ka]}")" "$(( sum[$who.cn] / ROUNDS ))" "" "" "" "$(mean "${own[$who.cn]}")" \
    "$(( sum[$who.bk] / ROUNDS ))" "" "" "" "$(mean "${own[$who.bk]}")"
done
if [ -n "${sum[nginx.ka]:-}" ] && [ -n "${sum[xdpstack.ka]:-}" ]; then
  python3 - "${sum[xdpstack.ka]}" "${sum[nginx.ka]}" "${sum[xdpstack.cn]}" "${sum[nginx.cn]}" "${sum[xdpstack.bk]}" "${sum[nginx.bk]}" <<'PY'
import sys
x_ka, n_ka, x_cn, n_cn, x_bk, n_bk = map(int, sys.argv[1:])
r = lambda a, b: f"{a / b:.2f}" if b else "n/a"
print(f"ratio xdpstack/nginx: keep-alive {r(x_ka, n_ka)} (target >= 2), new connections {r(x_cn, n_cn)} (target >= 3), "
      f"bulk against Linux-to-Linux {r(x_bk, n_bk)} (target >= 1.0)")
PY
  python3 - ${own[xdpstack.ka]} / ${own[nginx.ka]} / ${own[xdpstack.cn]} / ${own[nginx.cn]} / ${own[xdpstack.bk]} / ${own[nginx.bk]} <<'PY'
import sys
groups, cur = [], []
for a in sys.argv[1:] + ["/"]:
    if a == "/":
        groups.append(sum(map(float, cur)) / max(len(cur), 1)); cur = []
    else:
        cur.append(a)
x_ka, n_ka, x_cn, n_cn, x_bk, n_bk = groups
r = lambda a, b: f"{b / a:.2f}" if a else "n/a"
print(f"server's own CPU per unit, nginx/xdpstack (at least; xdpstack's is its whole CPU's): keep-alive request "
      f"{r(x_ka, n_ka)}, new connection {r(x_cn, n_cn)}, MiB of bulk {r(x_bk, n_bk)}")
PY
fi
exit 0
