#!/usr/bin/env bash
# fuzz/run-all.sh SECONDS: builds once, then runs every target for SECONDS each (fuzz/run.sh); exit status 1 if any
# target crashed. ./test.sh runs it briefly as the CI smoke; docs/fuzzing.md has the long run.
set -euo pipefail
if [ $# -lt 1 ]; then
  echo "usage: fuzz/run-all.sh SECONDS [libFuzzer flags...]" >&2
  exit 2
fi
root=$(cd "$(dirname "$0")/.." && pwd)
work=${FUZZ_WORK:-$root/artifacts/fuzz}
"$root/fuzz/build.sh"
failed=()
for target in $("$work/bin/XdpStack.Fuzz" --list | awk '{ print $1 }'); do
  FUZZ_NO_BUILD=1 "$root/fuzz/run.sh" "$target" "$@" || failed+=("$target")
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: crashes in ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: every target ran without a crash"
