#!/usr/bin/env bash
# fuzz/run.sh TARGET SECONDS [libFuzzer flags...]: runs one target under libFuzzer for SECONDS with its seed corpus and
# the corpus earlier runs grew (artifacts/fuzz/corpus/TARGET), then prints one line: executions, executions per second,
# corpus size, crashes. A crashing input is saved under artifacts/fuzz/crashes/TARGET/ and the exit status is 1;
# replay it with: artifacts/fuzz/bin/XdpStack.Fuzz TARGET FILE. Builds first (fuzz/build.sh) unless FUZZ_NO_BUILD=1.
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: fuzz/run.sh TARGET SECONDS [libFuzzer flags...]" >&2
  exit 2
fi
target=$1 seconds=$2
shift 2
root=$(cd "$(dirname "$0")/.." && pwd)
work=${FUZZ_WORK:-$root/artifacts/fuzz}
[ "${FUZZ_NO_BUILD:-0}" = 1 ] || "$root/fuzz/build.sh"

max_len=$("$work/bin/XdpStack.Fuzz" --list | awk -v t="$target" '$1 == t { print $2 }')
if [ -z "$max_len" ]; then
  echo "fuzz/run.sh: unknown target '$target'; targets: $("$work/bin/XdpStack.Fuzz" --list | awk '{ print $1 }' | paste -sd ' ')" >&2
  exit 2
fi
corpus="$work/corpus/$target" crashes="$work/crashes/$target" log="$work/logs/$target.log"
mkdir -p "$corpus" "$crashes" "$work/logs"

status=0
# -timeout: an input running past 10 s is a hang, saved like a crash. The .NET program is a child of the driver, so
# libFuzzer's RSS limit does not see it; -malloc_limit_mb would not either.
"$work/libfuzzer-dotnet" --target_path="$work/bin/XdpStack.Fuzz" --target_arg="$target" \
  -max_total_time="$seconds" -max_len="$max_len" -timeout=10 -print_final_stats=1 \
  -artifact_prefix="$crashes/" "$@" "$corpus" "$work/seeds/$target" >"$log" 2>&1 || status=$?

executions=$(awk '/stat::number_of_executed_units/ { print $2 }' "$log" | tail -1)
rate=$(grep -o 'exec/s: [0-9]*' "$log" | tail -1 | awk '{ print $2 }')
found=$(find "$crashes" -type f | wc -l)
printf '%-16s %10s executions in %ss (%s/s), corpus %s, crashes %s\n' "$target" "${executions:-0}" "$seconds" \
  "${rate:-0}" "$(find "$corpus" -type f | wc -l)" "$found"
if [ "$status" -ne 0 ] || [ "$found" -ne 0 ]; then
  echo "fuzz/run.sh: $target failed (exit $status); log: $log" >&2
  grep -E 'Exception|FuzzCheck|libfuzzer-dotnet:|ERROR|SUMMARY|artifact' "$log" | head -20 >&2 || true
  exit 1
fi
