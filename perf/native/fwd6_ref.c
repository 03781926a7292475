/*
 * The reference for perf/Benchmarks/Routing/Ipv6ForwardingBenchmarks.cs: the IPv6 fast-path loop of
 * XdpStack's Ipv6FastForwarder written in C on DPDK's rte_lpm6 and rte_ip.h/rte_ether.h: validate, gather
 * destinations, look the chunk up (rte_lpm6_lookup_bulk_func, or rte_lpm6_lookup per packet as l3fwd's
 * scalar IPv6 path does), then hop limit - 1, MAC rewrite, verdict and egress port.
 *
 * Built by the benchmark at startup:
 *   gcc -O3 $(pkg-config --cflags libdpdk) -march=native -shared -fPIC -o build/fwd6_ref.so fwd6_ref.c \
 *       $(pkg-config --libs libdpdk)
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_lpm6.h>

#include "fwd_layout.h"
#include "ref_eal.h"

#define IPV6_HDR_LEN 40

/* See ref_eal.h; 3 GiB (reserved, touched as used): rte_lpm6 needs about 1 GiB of tbl8s at 100,000 prefixes, 2 at 200,000, and whichever reference starts EAL first sets the size for all. */
int fwd6_ref_init(int lcore)
{
    return ref_eal_init("fwd6_ref", lcore, "3072");
}

/* ips: n addresses of 16 bytes each, network order. */
struct rte_lpm6 *fwd6_ref_create(const char *name, const uint8_t *ips, const uint8_t *depths, const uint32_t *hops, int n,
                                 uint32_t tbl8s, int *error)
{
    struct rte_lpm6_config config = { .max_rules = (uint32_t)n, .number_tbl8s = tbl8s, .flags = 0 };
    struct rte_lpm6 *lpm = rte_lpm6_create(name, SOCKET_ID_ANY, &config);
    if (lpm == NULL) {
        *error = rte_errno;
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        int rc = rte_lpm6_add(lpm, ips + 16 * i, depths[i], hops[i]);
        if (rc < 0) {
            *error = -rc;
            rte_lpm6_free(lpm);
            return NULL;
        }
    }
    *error = 0;
    return lpm;
}

void fwd6_ref_free(struct rte_lpm6 *lpm)
{
    rte_lpm6_free(lpm);
}

/* Unspecified, loopback, multicast and link-local unicast, as Ipv6FastForwarder.IsSpecial. */
static inline int is_special(const uint8_t *a)
{
    uint64_t high, low;
    memcpy(&high, a, 8);
    memcpy(&low, a + 8, 8);
    high = rte_be_to_cpu_64(high);
    low = rte_be_to_cpu_64(low);
    return (high >> 56) == 0xFF || (high >> 54) == (0xFE80u >> 6) || (high == 0 && low <= 1);
}

static int forward_chunk(const struct rte_lpm6 *lpm, const struct fwd_hop *hops, int nhops, const uint8_t *ingress_mac,
                         uint8_t *mem, struct fwd_frame *frames, uint8_t *verdicts, int32_t *egress, int n, int bulk)
{
    uint8_t dst[CHUNK][16];
    int32_t hop_ids[CHUNK];
    int cand[CHUNK];
    int m = 0;
    memset(verdicts, 0, (size_t)n);
    for (int i = 0; i < n; i++) {
        struct fwd_frame *f = &frames[i];
        if (f->length < (int)(sizeof(struct rte_ether_hdr) + IPV6_HDR_LEN))
            continue;
        uint8_t *p = mem + f->offset;
        struct rte_ether_hdr *eth = (struct rte_ether_hdr *)p;
        if (memcmp(&eth->dst_addr, ingress_mac, RTE_ETHER_ADDR_LEN) != 0 ||
            eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6))
            continue;
        struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(eth + 1);
        int payload = rte_be_to_cpu_16(ip->payload_len);
        if ((((const uint8_t *)ip)[0] >> 4) != 6 || payload > f->length - (int)(sizeof(struct rte_ether_hdr) + IPV6_HDR_LEN) ||
            ip->proto == 0 || ip->hop_limits <= 1)
            continue;
        if (is_special(ip->src_addr) || is_special(ip->dst_addr))
            continue;
        memcpy(dst[m], ip->dst_addr, 16);
        cand[m] = i;
        m++;
    }
    if (bulk) {
        rte_lpm6_lookup_bulk_func(lpm, dst, hop_ids, (unsigned)m);
    } else {
        for (int i = 0; i < m; i++) {
            uint32_t id;
            hop_ids[i] = rte_lpm6_lookup(lpm, dst[i], &id) == 0 ? (int32_t)id : -1;
        }
    }
    int forwarded = 0;
    for (int k = 0; k < m; k++) {
        int32_t id = hop_ids[k];
        if (id < 0 || id >= nhops)
            continue;
        const struct fwd_hop *hop = &hops[id];
        if (hop->port == 0)
            continue;
        int idx = cand[k];
        struct fwd_frame *f = &frames[idx];
        uint8_t *p = mem + f->offset;
        struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(p + sizeof(struct rte_ether_hdr));
        int length = IPV6_HDR_LEN + rte_be_to_cpu_16(ip->payload_len);
        if (length > hop->mtu)
            continue;
        ip->hop_limits--;
        memcpy(p, hop->macs, 12);
        f->length = (int)sizeof(struct rte_ether_hdr) + length;
        verdicts[idx] = 1;
        egress[idx] = hop->port;
        forwarded++;
    }
    return forwarded;
}

/* One batch, in chunks of CHUNK frames, exactly as Ipv6FastForwarder.Forward; bulk picks rte_lpm6_lookup_bulk_func over
 * one rte_lpm6_lookup per packet. */
int fwd6_ref_forward(const struct rte_lpm6 *lpm, const struct fwd_hop *hops, int nhops, const uint8_t *ingress_mac,
                     uint8_t *mem, struct fwd_frame *frames, uint8_t *verdicts, int32_t *egress, int n, int bulk)
{
    int forwarded = 0;
    for (int start = 0; start < n; start += CHUNK) {
        int count = n - start < CHUNK ? n - start : CHUNK;
        forwarded += forward_chunk(lpm, hops, nhops, ingress_mac, mem, frames + start, verdicts + start, egress + start,
                                   count, bulk);
    }
    return forwarded;
}
