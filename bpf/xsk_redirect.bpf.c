// SPDX-License-Identifier: (MIT OR GPL-2.0)
//
// The XDP program XskRedirectProgram assembles at run time (src/Xdp/XskRedirectProgram.cs),
// written in C: each frame goes to the AF_XDP socket registered for its RX queue, or to the
// kernel's stack (XDP_PASS) when that queue has none. It is libxdp's xsk_def_prog.
//
// Build: clang -O2 -g -target bpf -I/usr/include/$(uname -m)-linux-gnu -c xsk_redirect.bpf.c
// The test XskRedirectElfTests compiles this file, loads it through BpfProgram and checks that
// it redirects the same frames as the assembled program.

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} xsks_map SEC(".maps");

SEC("xdp")
int xsk_redirect(struct xdp_md *ctx)
{
	// The low bits of the flags argument are the action when the key has no socket.
	return bpf_redirect_map(&xsks_map, ctx->rx_queue_index, XDP_PASS);
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
