#!/usr/bin/env bash
# The README's test command: installs what the tests need on Debian (as root), builds everything, runs every test
# project, then a short smoke of every fuzz target. Tests that need root (namespaces, veths, AF_XDP) run too when
# invoked as root, as CI does.
set -euo pipefail
cd "$(dirname "$0")"
source .ci/setup
xdpstack_setup
dotnet restore XdpStack.sln --nologo -v quiet
dotnet build XdpStack.sln -c Release --no-restore --nologo -clp:ErrorsOnly
log=$(mktemp)
status=0
dotnet test XdpStack.sln -c Release --no-build --nologo 2>&1 | tee "$log" || status=$?
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
# A short coverage-guided run of every fuzz target (docs/fuzzing.md): a few seconds each, any crash fails the run.
# A fixed seed, so that the smoke mutates the same way on every machine (the long runs of docs/fuzzing.md do not fix it).
fuzz/run-all.sh 3 -seed=1 || status=1
# One closing line summed over all test projects ("Passed!  - Failed: 0, Passed: 2, Skipped: 0, ...").
awk -F'[:,]' '/(Passed|Failed)! +- Failed:/ { f += $2; p += $4; s += $6 }
  END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$log"
rm -f "$log"
exit $status
