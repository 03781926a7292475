# Shared by the perf/e2e scripts (sourced): waiting for a line, pinning NAPI threads, and the clean-up of every
# process, namespace and work folder a script made, also on failure and on SIGINT/SIGTERM.
# A script sets NAMESPACES to the namespaces it creates (read at exit) and appends the processes it starts to pids.

work=$(mktemp -d)
pids=()
NAMESPACES=${NAMESPACES:-}

e2e_cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  sleep 0.5
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  for ns in $NAMESPACES; do ip netns del "$ns" 2>/dev/null || true; done
  if [ -n "${KEEP_WORK:-}" ]; then echo "logs kept in $work" >&2; else rm -rf "$work"; fi
}
trap e2e_cleanup EXIT
trap 'exit 130' INT TERM

# pin_napi DEV CPU: pins every napi/<DEV>-* kernel thread to CPU.
pin_napi() {
  local dev=$1 cpu=$2 found=0
  while read -r pid comm; do
    case "$comm" in "napi/$dev"*) taskset -pc "$cpu" "$pid" >/dev/null; found=1 ;; esac
  done < <(ps -eo pid=,comm=)
  [ $found = 1 ] || echo "warning: no napi thread for $dev" >&2
}

# wait_for FILE TEXT SECONDS: waits until FILE contains TEXT, or prints FILE and fails.
wait_for() {
  for _ in $(seq $(( $3 * 10 ))); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
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
