#!/usr/bin/env bash
# Kernel FIB sync load time: `xdpstack run` with [kernel_routes] sync = true in a namespace, then rtnl-feed.py installs
# ROUTES4 IPv4 and ROUTES6 IPv6 routes (proto bird, through the appliance's interface) into that namespace's main
# table, 64 per netlink datagram as a routing daemon writes them (`ip -batch` waits for each acknowledgement and
# held the kernel to a few thousand routes per second); the time from the start of the feeder until the appliance's route table holds all of them (polled every
# 20 ms with `show route-summary` on the control socket), and the appliance's memory before and after. Then the same
# for deleting them again (`ip route flush proto bird`). Last, with the routes installed again, a second appliance
# starts and reports how long its first dump of the table took to be published.
#
#   flock -x /tmp/xdpstack-cpu.lock perf/e2e/kernel-routes-load.sh
#
# Environment: ROUTES4 (100000; at most 262000, the prefixes of lengths 16 to 32 inside 198.18.0.0/15 that leave the
# lab's 198.18.1.0/24 alone), ROUTES6 (0; /80s inside 2001:2::/48), DUT_CPU (1), XDPSTACK_DLL (the built xdpstack.dll).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUTES4=${ROUTES4:-100000}
ROUTES6=${ROUTES6:-0}
DUT_CPU=${DUT_CPU:-1}
XDPSTACK_DLL=${XDPSTACK_DLL:-src/Appliance/bin/Release/net10.0/xdpstack.dll}
source perf/e2e/lib.sh
require_root_and_tools ip python3 taskset
tag=$$
DUT=xkd$tag PEER=xkp$tag DA=xkda$tag PA=xkpa$tag
NAMESPACES="$DUT $PEER"
for ns in "$DUT" "$PEER"; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
ip link add "$DA" netns "$DUT" type veth peer name "$PA" netns "$PEER"
ip -n "$DUT" link set "$DA" up
ip -n "$PEER" link set "$PA" up
# IPv6 routes need IPv6 on the device; with addr_gen_mode none the kernel adds no address and sends nothing on it.
ip netns exec "$DUT" sh -c "echo 1 > /proc/sys/net/ipv6/conf/$DA/addr_gen_mode; echo 0 > /proc/sys/net/ipv6/conf/$DA/router_solicitations; echo 0 > /proc/sys/net/ipv6/conf/$DA/disable_ipv6"

cat > "$work/run.toml" <<TOML
[xdp]
frames_per_worker = 4096
fill_ring = 2048
lpm_huge_pages = false

[management]
listen = ""

[kernel_routes]
sync = true

[[interface]]
name = "$DA"
addresses = ["198.18.1.1/24", "2001:2:0:1::1/64"]
TOML

python3 - "$ROUTES4" "$ROUTES6" "$DA" > "$work/routes.batch" <<'PY'
import ipaddress, sys
n4, n6, dev = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
lab = ipaddress.ip_network("198.18.1.0/24")
out, made = [], 0
# Longest prefixes first, as many as asked: /32s of 198.19.0.0/16, then of 198.18.0.0/16, then /31s, ...
for length in range(32, 15, -1):
    for block in ("198.19.0.0/16", "198.18.0.0/16"):
        for net in ipaddress.ip_network(block).subnets(new_prefix=length):
            if made == n4:
                break
            if net.overlaps(lab):
                continue
            out.append(f"route add {net} via 198.18.1.2 dev {dev} onlink proto bird metric 20")
            made += 1
if made < n4:
    sys.exit(f"only {made} IPv4 prefixes fit in 198.18.0.0/15")
for i in range(n6):
    out.append(f"route add 2001:2:0:{1 + (i >> 16):x}:{i & 0xffff:x}::/80 via 2001:2:0:1::2 dev {dev} onlink proto bird")
print("\n".join(out))
PY

ip netns exec "$DUT" taskset -c "$DUT_CPU" dotnet "$XDPSTACK_DLL" run -c "$work/run.toml" --socket "$work/ctl.sock" > "$work/run.log" 2>&1 &
track_pid $!
wait_for "$work/run.log" "xdpstack: ready" 60
pid=$(pgrep -f -- "--socket $work/ctl.sock" | head -1)

python3 - "$work/ctl.sock" "$DUT" "$work/routes.batch" "$ROUTES4" "$ROUTES6" "$pid" <<'PY'
import json, socket, subprocess, sys, time
path, ns, batch, n4, n6, pid = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
s = socket.socket(socket.AF_UNIX); s.connect(path); f = s.makefile("rwb")
def summary():
    f.write(b"show route-summary\n"); f.flush()
    return json.loads(f.readline())
def memory():
    status = dict(l.split(":", 1) for l in open(f"/proc/{pid}/status"))
    return int(status["VmRSS"].split()[0]) // 1024, int(status["VmHWM"].split()[0]) // 1024
def until(done, what, limit=600):
    start = time.monotonic()
    while not done(summary()):
        if time.monotonic() - start > limit:
            sys.exit(f"timed out: {what}: {summary()}")
        time.sleep(0.02)
base = summary()
rss0, _ = memory()
print(f"before: {base['ipv4_routes']} IPv4 and {base['ipv6_routes']} IPv6 routes in the table "
      f"({base['kernel_ipv4_routes']} and {base['kernel_ipv6_routes']} of them from the kernel), RSS {rss0} MiB")

t0 = time.monotonic()
ip = subprocess.Popen(["ip", "netns", "exec", ns, "/usr/bin/python3", "perf/e2e/rtnl-feed.py", "batch", batch], stdout=subprocess.DEVNULL)
ip_done = None
def loaded(r):
    global ip_done
    if ip_done is None and ip.poll() is not None:
        ip_done = time.monotonic() - t0
    return r["kernel_ipv4_routes"] >= base["kernel_ipv4_routes"] + n4 and r["kernel_ipv6_routes"] >= base["kernel_ipv6_routes"] + n6 \
        and r["ipv4_routes"] >= base["ipv4_routes"] + n4 and r["ipv6_routes"] >= base["ipv6_routes"] + n6
until(loaded, "load")
t_load = time.monotonic() - t0
if ip.wait() != 0:
    sys.exit("the feeder failed")
if ip_done is None:
    ip_done = time.monotonic() - t0
r = summary(); k = r["kernel_sync"]
rss1, hwm1 = memory()
print(f"load: {n4} IPv4 + {n6} IPv6 routes: the feeder done after {ip_done:.2f} s, all in the appliance's table after {t_load:.2f} s "
      f"({(n4 + n6) / t_load:,.0f} routes/s); {k['publications']} publications, {k['resyncs']} dumps ({k['overruns']} overruns), "
      f"{k['messages']} messages; RSS {rss1} MiB (+{rss1 - rss0} MiB), peak {hwm1} MiB")

t0 = time.monotonic()
for family in ["-4"] + (["-6"] if n6 else []):
    subprocess.check_call(["ip", "-n", ns, family, "route", "flush", "proto", "bird"])
t_ip = time.monotonic() - t0
until(lambda r: r["kernel_ipv4_routes"] == base["kernel_ipv4_routes"] and r["kernel_ipv6_routes"] == base["kernel_ipv6_routes"] and r["ipv4_routes"] == base["ipv4_routes"] and r["ipv6_routes"] == base["ipv6_routes"], "flush", limit=120)
t_flush = time.monotonic() - t0
k = summary()["kernel_sync"]
print(f"flush: ip route flush done after {t_ip:.2f} s, all gone from the appliance's table after {t_flush:.2f} s; "
      f"{k['publications']} publications, {k['resyncs']} dumps ({k['overruns']} overruns) in all")
PY

# The dump at start: the routes are in the kernel before the appliance starts.
kill -TERM "$pid"
while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
ip netns exec "$DUT" /usr/bin/python3 perf/e2e/rtnl-feed.py batch "$work/routes.batch" >/dev/null
ip netns exec "$DUT" taskset -c "$DUT_CPU" dotnet "$XDPSTACK_DLL" run -c "$work/run.toml" --socket "$work/ctl.sock" > "$work/run2.log" 2>&1 &
track_pid $!
wait_for "$work/run2.log" "xdpstack: ready" 300
echo "start: $(grep -o 'kernel routes: following.*' "$work/run2.log")"
