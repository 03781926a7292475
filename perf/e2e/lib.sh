# Shared by the perf/e2e scripts (sourced): waiting for a line, pinning NAPI threads, and the clean-up of every
# process, namespace and work folder a script made, also on failure and on SIGINT/SIGTERM.
# A script sets NAMESPACES to the namespaces it creates (read at exit) and appends the processes it starts to pids,
# or hands them to track_pid where it starts them in a subshell (a process substitution), whose pids the script's
# shell never sees.

work=$(mktemp -d)
pids=()
NAMESPACES=${NAMESPACES:-}

e2e_cleanup() {
  local p
  [ -f "$work/pids" ] && mapfile -t -O "${#pids[@]}" pids < "$work/pids"
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  sleep 0.5
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  for ns in $NAMESPACES; do ip netns del "$ns" 2>/dev/null || true; done
  if [ -n "${KEEP_WORK:-}" ]; then echo "logs kept in $work" >&2; else rm -rf "$work"; fi
}
trap e2e_cleanup EXIT
trap 'exit 130' INT TERM

# track_pid PID: a process to end at exit, also when started in a subshell.
# untrack_pid PID: once it has been waited for (its number may be reused after that).
track_pid() { pids+=("$1"); echo "$1" >> "$work/pids"; }
untrack_pid() { sed -i "/^$1\$/d" "$work/pids" 2>/dev/null || true; }

# pin_napi DEV CPU: pins every napi/<DEV>-* kernel thread to CPU.
pin_napi() {
  local dev=$1 cpu=$2 found=0
  while read -r pid comm; do
    case "$comm" in "napi/$dev"*) taskset -pc "$cpu" "$pid" >/dev/null; found=1 ;; esac
  done < <(ps -eo pid=,comm=)
  [ $found = 1 ] || echo "warning: no napi thread for $dev" >&2
}

# wait_for FILE TEXT SECONDS [PID]: waits until FILE contains TEXT, or prints FILE and fails; with PID, fails as soon
# as that process has exited (a generator that stopped at once says why in FILE).
wait_for() {
  for _ in $(seq $(( $3 * 10 ))); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    if [ -n "${4:-}" ] && ! kill -0 "$4" 2>/dev/null; then
      echo "exited before '$2' appeared in $1:" >&2; cat "$1" >&2; return 1
    fi
    sleep 0.1
  done
  echo "timed out waiting for '$2' in $1:" >&2; cat "$1" >&2; return 1
}

# require_root_and_tools TOOL...: stops with the apt-get line when something is missing.
require_root_and_tools() {
  [ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
  [ -f "$XDPSTACK_DLL" ] || { echo "build first: dotnet build src/Appliance -c Release ($XDPSTACK_DLL missing)" >&2; exit 1; }
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install dpdk-dev librte-net-af-xdp23 ethtool util-linux gcc python3" >&2; exit 1; }
  done
}

# need_xdp_tools: makes sure $XDP_TOOLS_BIN has xdp-forward and xdp-trafficgen, building them with
# build-xdp-tools.sh (from XDP_TOOLS_SOURCE, default the upstream repository) into its cache when it is the default.
XDP_TOOLS_BIN=${XDP_TOOLS_BIN:-${XDP_TOOLS_CACHE:-/var/cache/xdpstack-perf/xdp-tools}/bin}
need_xdp_tools() {
  [ -x "$XDP_TOOLS_BIN/xdp-forward" ] && [ -x "$XDP_TOOLS_BIN/xdp-trafficgen" ] && return 0
  if [ "$XDP_TOOLS_BIN" != "${XDP_TOOLS_CACHE:-/var/cache/xdpstack-perf/xdp-tools}/bin" ]; then
    echo "no xdp-forward and xdp-trafficgen in XDP_TOOLS_BIN=$XDP_TOOLS_BIN" >&2; exit 1
  fi
  echo "xdp-forward and xdp-trafficgen are missing: building them with perf/e2e/build-xdp-tools.sh" >&2
  perf/e2e/build-xdp-tools.sh ${XDP_TOOLS_SOURCE:+"$XDP_TOOLS_SOURCE"} >&2
}
