#!/usr/bin/env bash
# The forwarding benchmark under its first name: forward-e2e.sh with the contenders it had (xdpstack, Linux,
# testpmd), IPv4 unless FAMILY says otherwise. Method and options: forward-e2e.sh and README.md here.
#
#   flock -x /tmp/xdpstack-cpu.lock perf/e2e/forward-vs-linux-testpmd.sh
CONTENDERS=${CONTENDERS:-xdpstack linux testpmd} exec "$(dirname "$0")/forward-e2e.sh" "$@"
