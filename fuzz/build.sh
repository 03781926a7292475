#!/usr/bin/env bash
# Builds what fuzz/run.sh runs, under artifacts/fuzz (or $FUZZ_WORK): the libFuzzer driver (fuzz/libfuzzer-dotnet.c,
# clang -fsanitize=fuzzer), a copy of tests/Fuzz's Release output whose assemblies under test SharpFuzz has
# instrumented, and each target's seed corpus, made from the Linux captures and the example configs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${FUZZ_WORK:-$root/artifacts/fuzz}
cd "$root"
mkdir -p "$work"

clang -O2 -g -fsanitize=fuzzer fuzz/libfuzzer-dotnet.c -o "$work/libfuzzer-dotnet"

dotnet tool restore >/dev/null
dotnet build tests/Fuzz/Fuzz.csproj -c Release --nologo -v quiet -clp:ErrorsOnly >"$work/build.log" || { cat "$work/build.log" >&2; exit 1; }
# SharpFuzz rewrites an assembly in place and refuses one it already did, so it works on a fresh copy each time.
rm -rf "$work/bin"
cp -r tests/Fuzz/bin/Release/net10.0 "$work/bin"
# The code under test: the stack, the AF_XDP library (netlink parsers), the appliance (config, reflector) and Tomlyn,
# whose parser the config target drives. Not the fuzz program itself, whose branches would only add noise.
for assembly in XdpStack.Stack.dll XdpStack.Xdp.dll xdpstack.dll Tomlyn.dll; do
  dotnet tool run sharpfuzz "$work/bin/$assembly" >/dev/null
done

rm -rf "$work/seeds"
"$work/bin/XdpStack.Fuzz" --seeds "$root" "$work/seeds" | paste -sd ' ' | sed 's/^/seeds: /'
