#!/usr/bin/env bash
# Builds xdp-forward and xdp-trafficgen (xdp-tools) from source into a cache folder, for the perf/e2e scripts.
# Debian's xdp-tools 1.3.1 does not do: its xdp-trafficgen fails on current kernels. Not part of CI or test.sh.
#
#   perf/e2e/build-xdp-tools.sh [SOURCE]
#
# SOURCE: a clone URL or a local git repository (a checkout or a bare mirror) of xdp-tools;
#         default https://github.com/xdp-project/xdp-tools.git.
# Environment:
#   XDP_TOOLS_REF    tag or commit to build (v1.6.3)
#   XDP_TOOLS_CACHE  where the sources and binaries go (/var/cache/xdpstack-perf/xdp-tools); the binaries end up
#                    in $XDP_TOOLS_CACHE/bin, with BUILD-INFO saying what they were built from
#   LIBBPF_SOURCE    clone URL or local repository for xdp-tools' libbpf submodule (default: SOURCE/lib/libbpf
#                    when SOURCE is a local checkout that has it, else the URL in .gitmodules)
#   INSTALL_DEPS=1   apt-get install the build tools that are missing instead of stopping with the line
#   FORCE=1          rebuild even when the binaries are there for the same ref
# libbpf comes from the submodule and both libbpf and libxdp are linked statically, so the binaries need only
# libelf, zlib and libc at run time and do not care which libbpf/libxdp the distribution ships.
set -euo pipefail
SOURCE=${1:-${XDP_TOOLS_SOURCE:-https://github.com/xdp-project/xdp-tools.git}}
REF=${XDP_TOOLS_REF:-v1.6.3}
CACHE=${XDP_TOOLS_CACHE:-/var/cache/xdpstack-perf/xdp-tools}
TOOLS="xdp-forward xdp-trafficgen"

built() { local t; for t in $TOOLS; do [ -x "$CACHE/bin/$t" ] || return 1; done; grep -qx "ref: $REF" "$CACHE/BUILD-INFO"; }
if [ -z "${FORCE:-}" ] && built 2>/dev/null; then
  echo "xdp-tools $REF already built in $CACHE/bin (FORCE=1 rebuilds)"
  exit 0
fi

# Build tools (Debian package names). bpftool is needed: without it xdp-tools skips xdp-forward and
# xdp-trafficgen (their BPF skeletons come from `bpftool gen skeleton`).
missing=()
for pair in git:git make:make gcc:gcc clang:clang llc:llvm m4:m4 pkg-config:pkg-config bpftool:bpftool; do
  command -v "${pair%%:*}" >/dev/null || [ -x "/usr/sbin/${pair%%:*}" ] || missing+=("${pair#*:}")
done
for pair in libelf:libelf-dev zlib:zlib1g-dev libpcap:libpcap-dev; do
  pkg-config --exists "${pair%%:*}" 2>/dev/null || missing+=("${pair#*:}")
done
# BPF programs include <asm/types.h> from the multiarch include folder.
[ -e /usr/include/asm/types.h ] || [ -e "/usr/include/$(gcc -print-multiarch 2>/dev/null)/asm/types.h" ] ||
  missing+=(linux-libc-dev)
if [ ${#missing[@]} -gt 0 ]; then
  if [ -n "${INSTALL_DEPS:-}" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
  else
    echo "missing build tools: apt-get install ${missing[*]}   (or run again with INSTALL_DEPS=1)" >&2
    exit 1
  fi
fi
PATH=$PATH:/usr/sbin   # Debian puts bpftool there

mkdir -p "$CACHE"
src="$CACHE/src"
rm -rf "$src"
echo "cloning $SOURCE at $REF into $src"
git clone -q "$SOURCE" "$src"
git -C "$src" -c advice.detachedHead=false checkout -q "$REF"
if [ -z "${LIBBPF_SOURCE:-}" ] && [ -d "$SOURCE" ] && git -C "$SOURCE/lib/libbpf" rev-parse -q --verify HEAD >/dev/null 2>&1 &&
   [ "$(git -C "$SOURCE/lib/libbpf" rev-parse --show-toplevel)" = "$(cd "$SOURCE/lib/libbpf" && pwd -P)" ]; then
  LIBBPF_SOURCE=$(cd "$SOURCE/lib/libbpf" && pwd -P)
fi
if [ -n "${LIBBPF_SOURCE:-}" ]; then
  name=$(git -C "$src" config -f .gitmodules --get-regexp '^submodule\..*\.path$' | awk '$2 == "lib/libbpf" { print $1 }')
  name=${name#submodule.}; name=${name%.path}
  git -C "$src" submodule init -q
  git -C "$src" config "submodule.$name.url" "$LIBBPF_SOURCE"
fi
git -C "$src" -c protocol.file.allow=always submodule update -q --init
echo "building in $src"
(
  cd "$src"
  FORCE_SUBDIR_LIBBPF=1 ./configure
  make -j"$(nproc)" libxdp $TOOLS
)
mkdir -p "$CACHE/bin"
for t in $TOOLS; do install -m 0755 "$src/$t/$t" "$CACHE/bin/$t"; done
{
  echo "ref: $REF"
  echo "commit: $(git -C "$src" rev-parse HEAD) ($(git -C "$src" describe --tags --always))"
  echo "libbpf: $(git -C "$src/lib/libbpf" rev-parse HEAD) ($(git -C "$src/lib/libbpf" describe --tags --always 2>/dev/null || true))"
  echo "source: $SOURCE"
  echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -r), $(clang --version | head -n 1)"
} > "$CACHE/BUILD-INFO"
cat "$CACHE/BUILD-INFO"
for t in $TOOLS; do echo "$CACHE/bin/$t"; done
