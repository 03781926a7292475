#!/usr/bin/env bash
# Runs one probe file against Linux and against xdpstack (tools/linux-diff/lab.sh) and prints the difference of what
# hosts A and B saw on the wire, with what always differs (IDs, checksums, ports, timestamps, flow labels, MLD/NDP chatter)
# masked. An empty diff means the appliance answered as Linux did.
#
#   dotnet build src/Appliance -c Release && sudo tools/linux-diff/compare.sh tools/linux-diff/probes/tcp-flags.txt
set -u
cd "$(dirname "$0")/../.."
PROBES=$1
OUT=$(mktemp -d /tmp/linux-diff.XXXXXX)
tools/linux-diff/lab.sh linux "$PROBES" "$OUT" > /dev/null 2>&1
tools/linux-diff/lab.sh xdp "$PROBES" "$OUT" > /dev/null 2>&1
mask() {
  grep -v 'ff02::16\|multicast listener\|neighbor sol\|neighbor adv\|router sol\|link-address\|^\s*$' "$1" | sed -E \
    -e 's/^[0-9:.]+ //; s/id [0-9]+/id N/g; s/cksum 0x[0-9a-f]+/cksum X/g; s/flowlabel 0x[0-9a-f]+, //' \
    -e 's/\.[0-9]+ > /.P > /; s/> ([0-9.]+)\.[0-9]+:/> \1.P:/; s/[0-9]{7,8}@/T@/g; s/TS\{[^}]*\}/TS{..}/g' \
    -e 's/frag \(0x[0-9a-f]+/frag (ID/; s/, bad cksum [0-9a-f]+ \(->[0-9a-f]+\)!/, bad cksum/; s/fe80::[0-9a-f:]+/fe80::X/g' \
    -e 's/\(incorrect -> 0x[0-9a-f]+\)/(correct)/; s/(seq|ack) [0-9]{6,}(:[0-9]{6,})?/\1 N/g' \
    -e 's/([0-9a-f]{2}:){5}[0-9a-f]{2}/MAC/g'
}
same=1
diff <(mask "$OUT/linux.txt") <(mask "$OUT/xdp.txt") || same=0
echo "--- B's link"
diff <(mask "$OUT/linux-b.txt") <(mask "$OUT/xdp-b.txt") || same=0
[ $same = 1 ] && echo "same answers on the wire ($OUT)"
echo "probe output: $OUT/linux.out, $OUT/xdp.out"
