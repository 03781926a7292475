#!/usr/bin/env bash
# The README's test command: builds everything and runs every test project.
# Tests that need root (namespaces, veths, AF_XDP) run too when invoked as root, as CI does.
set -euo pipefail
cd "$(dirname "$0")"
dotnet build XdpStack.sln -c Release --nologo -clp:ErrorsOnly
results=$(mktemp -d)
status=0
dotnet test XdpStack.sln -c Release --no-build --nologo \
  --logger "trx;LogFilePrefix=r" --results-directory "$results" || status=$?
# One closing line over all projects, counted from the TRX files.
python3 - "$results" <<'PY' || true
import sys, glob, xml.etree.ElementTree as ET
p = f = s = 0
for path in glob.glob(sys.argv[1] + "/*.trx"):
    c = ET.parse(path).getroot().find(".//{*}Counters")
    if c is None: continue
    p += int(c.get("passed", 0)); f += int(c.get("failed", 0)); s += int(c.get("notExecuted", 0))
print(f"{p} passed, {f} failed, {s} skipped")
PY
rm -rf "$results"
exit $status
