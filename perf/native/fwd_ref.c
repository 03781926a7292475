/*
 * The reference for perf/Benchmarks/Routing/ForwardingBenchmarks.cs: the IPv4 fast-path loop of
 * XdpStack's Ipv4FastForwarder written in C on DPDK's rte_lpm and rte_ip.h/rte_ether.h, as an
 * l3fwd-style router would: validate, gather destinations, rte_lpm_lookupx4 over the batch, then
 * TTL decrement with the RFC 1624 checksum update, MAC rewrite, verdict and egress port.
 *
 * It does the fast path's work and no more or less: pass 1 reads each header once and keeps, beside
 * each destination, the TTL/protocol/checksum word and the total length, so pass 2 writes frames
 * without reading their headers again (with frames 2 KiB apart a chunk's headers share two L1 sets and
 * are gone from L1 by pass 2, so a re-read costs misses the fast path does not pay), and pass 2
 * refuses a hop out of the ingress NIC as the fast path does while ICMP redirects are on.
 *
 * Built by the benchmark at startup:
 *   gcc -O3 $(pkg-config --cflags libdpdk) -march=native -shared -fPIC -o build/fwd_ref.so fwd_ref.c \
 *       $(pkg-config --libs libdpdk)
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_lpm.h>

#include "fwd_layout.h"
#include "lpm_huge_copy.h"
#include "ref_eal.h"

/* See ref_eal.h; 3 GiB (reserved, touched as used): a million prefixes take about 0.4 GiB of tbl8s. */
int fwd_ref_init(int lcore)
{
    return ref_eal_init("fwd_ref", lcore, "3072");
}

struct rte_lpm *fwd_ref_create(const char *name, const uint32_t *ips, const uint8_t *depths, const uint32_t *hops,
                               int n, uint32_t tbl8s, int *error)
{
    struct rte_lpm_config config = { .max_rules = (uint32_t)n, .number_tbl8s = tbl8s, .flags = 0 };
    struct rte_lpm *lpm = rte_lpm_create(name, SOCKET_ID_ANY, &config);
    if (lpm == NULL) {
        *error = rte_errno;
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        int rc = rte_lpm_add(lpm, ips[i], depths[i], hops[i]);
        if (rc < 0) {
            *error = -rc;
            rte_lpm_free(lpm);
            return NULL;
        }
    }
    *error = 0;
    return lpm;
}

void fwd_ref_free(struct rte_lpm *lpm)
{
    rte_lpm_free(lpm);
}

/* For the huge-page rows; see lpm_huge_copy.h. */
struct rte_lpm *fwd_ref_copy_to_huge_pages(const struct rte_lpm *lpm, uint32_t tbl8s, int *error)
{
    return lpm_copy_to_huge_pages(lpm, tbl8s, error);
}

void fwd_ref_free_copy(struct rte_lpm *copy, uint32_t tbl8s)
{
    lpm_free_copy(copy, tbl8s);
}

/* 0/8, loopback, link-local, multicast, class E and broadcast; top - 1 wraps for 0/8, so one unsigned compare
 * covers it and everything from 224 up, as in Ipv4FastForwarder.IsSpecial. */
static inline int is_special(uint32_t a)
{
    uint32_t top = a >> 24;
    return top - 1 >= 223 || top == 127 || (a >> 16) == 0xA9FE;
}

static inline int contains(const uint32_t *values, int n, uint32_t v)
{
    for (int i = 0; i < n; i++)
        if (values[i] == v)
            return 1;
    return 0;
}

/* The header's third word (memory order: TTL, protocol, checksum) after the TTL drops by one. RFC 1624 eqn. 3 on
 * the TTL/protocol word m: HC' = ~(~HC + ~m + m'), and with m' = m - 0x100 (TTL >= 2 here) ~m + m' is 0xFEFF for
 * every m, the same arithmetic as Ipv4FastForwarder.DecrementTimeToLive. */
static inline uint32_t decrement_ttl(uint32_t word)
{
    uint32_t sum = (uint16_t)~rte_be_to_cpu_16((uint16_t)(word >> 16)) + 0xFEFFu;
    sum = (sum & 0xFFFF) + (sum >> 16);
    sum = (sum & 0xFFFF) + (sum >> 16);
    uint16_t checksum = rte_cpu_to_be_16((uint16_t)~sum);
    return (word & 0xFF00) | ((word - 1) & 0xFF) | ((uint32_t)checksum << 16);
}

static int forward_chunk(const struct rte_lpm *lpm, const struct fwd_hop *hops, int nhops, const uint8_t *ingress_mac,
                         const uint32_t *refused, int nrefused, int32_t refused_egress, uint8_t *mem,
                         struct fwd_frame *frames, uint8_t *verdicts, int32_t *egress, int n, int bulk)
{
    uint32_t dst[CHUNK];
    uint32_t hop_ids[CHUNK];
    int cand[CHUNK];
    uint32_t words[CHUNK];
    int totals[CHUNK];
    int m = 0;
    memset(verdicts, 0, (size_t)n);
    /* Pass 1: validate, gather destinations, and keep what pass 2 needs from the header. */
    for (int i = 0; i < n; i++) {
        struct fwd_frame *f = &frames[i];
        if (f->length < (int)(sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr)))
            continue;
        uint8_t *p = mem + f->offset;
        struct rte_ether_hdr *eth = (struct rte_ether_hdr *)p;
        if (memcmp(&eth->dst_addr, ingress_mac, RTE_ETHER_ADDR_LEN) != 0 ||
            eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4))
            continue;
        struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
        if (ip->version_ihl != RTE_IPV4_VHL_DEF)
            continue;
        int total = rte_be_to_cpu_16(ip->total_length);
        if (total < 20 || total > f->length - (int)sizeof(struct rte_ether_hdr) || ip->time_to_live <= 1)
            continue;
        if (rte_raw_cksum(ip, sizeof *ip) != 0xFFFF)
            continue;
        uint32_t s = rte_be_to_cpu_32(ip->src_addr), d = rte_be_to_cpu_32(ip->dst_addr);
        if (is_special(s) || is_special(d) || contains(refused, nrefused, s))
            continue;
        dst[m] = d;
        cand[m] = i;
        memcpy(&words[m], (const uint8_t *)ip + offsetof(struct rte_ipv4_hdr, time_to_live), sizeof words[m]);
        totals[m] = total;
        m++;
    }
    int i = 0;
    if (bulk) {
        for (int j = 0; j < m; j += 64) {
            int len = m - j < 64 ? m - j : 64;
            rte_lpm_lookup_bulk(lpm, dst + j, hop_ids + j, (unsigned)len);
            for (int q = j; q < j + len; q++)
                hop_ids[q] = (hop_ids[q] & RTE_LPM_LOOKUP_SUCCESS) ? (hop_ids[q] & 0x00FFFFFF) : UINT32_MAX;
        }
        i = m;
    }
    for (; i + 4 <= m; i += 4) {
        xmm_t ip4 = _mm_loadu_si128((const __m128i *)(dst + i));
        rte_lpm_lookupx4(lpm, ip4, hop_ids + i, UINT32_MAX);
    }
    for (; i < m; i++) {
        if (rte_lpm_lookup(lpm, dst[i], &hop_ids[i]) != 0)
            hop_ids[i] = UINT32_MAX;
    }
    /* Pass 2: rewrite what has a resolved next hop that fits, from what pass 1 kept; no header is read again. */
    int forwarded = 0;
    for (int k = 0; k < m; k++) {
        uint32_t id = hop_ids[k];
        if (id >= (uint32_t)nhops)
            continue;
        const struct fwd_hop *hop = &hops[id];
        if (hop->port == 0 || hop->port == refused_egress)
            continue;
        int total = totals[k];
        if (total > hop->mtu)
            continue;
        int idx = cand[k];
        struct fwd_frame *f = &frames[idx];
        uint8_t *p = mem + f->offset;
        uint32_t word = decrement_ttl(words[k]);
        memcpy(p + sizeof(struct rte_ether_hdr) + offsetof(struct rte_ipv4_hdr, time_to_live), &word, sizeof word);
        memcpy(p, hop->macs, 12);
        f->length = (int)sizeof(struct rte_ether_hdr) + total;
        verdicts[idx] = 1;
        egress[idx] = hop->port;
        forwarded++;
    }
    return forwarded;
}

/* One batch, in chunks of CHUNK frames, exactly as Ipv4FastForwarder.Forward; bulk picks rte_lpm_lookup_bulk
 * (in runs of 64) instead of l3fwd's rte_lpm_lookupx4. refused_egress: the NIC no frame may leave by (the
 * ingress NIC while ICMP redirects are on), or -1. */
int fwd_ref_forward(const struct rte_lpm *lpm, const struct fwd_hop *hops, int nhops, const uint8_t *ingress_mac,
                    const uint32_t *refused, int nrefused, int32_t refused_egress, uint8_t *mem, struct fwd_frame *frames,
                    uint8_t *verdicts, int32_t *egress, int n, int bulk)
{
    int forwarded = 0;
    for (int start = 0; start < n; start += CHUNK) {
        int count = n - start < CHUNK ? n - start : CHUNK;
        forwarded += forward_chunk(lpm, hops, nhops, ingress_mac, refused, nrefused, refused_egress, mem, frames + start,
                                   verdicts + start, egress + start, count, bulk);
    }
    return forwarded;
}
