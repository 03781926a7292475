/*
 * The reference for perf/Benchmarks/Routing/LpmBenchmarks.cs: DPDK's rte_lpm (DIR-24-8), built from the same
 * rules and queried with the same addresses as XdpStack's Ipv4Lpm.
 *
 * Built by the benchmark at startup:
 *   gcc -O3 $(pkg-config --cflags libdpdk) -march=native -shared -fPIC -o build/lpm_ref.so lpm_ref.c \
 *       $(pkg-config --libs libdpdk)
 * (-march=native comes after pkg-config's -march=corei7 so that it wins.) rte_lpm's lookups are inline
 * functions, so they are compiled here with these flags.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lpm.h>

#include "lpm_huge_copy.h"
#include "ref_eal.h"

/* See ref_eal.h. */
int lpm_ref_init(int lcore)
{
    return ref_eal_init("lpm_ref", lcore, "3072");
}

/* Creates a table and adds n rules (host-order prefixes). Returns NULL and sets *error on failure. */
struct rte_lpm *lpm_ref_create(const char *name, const uint32_t *ips, const uint8_t *depths, const uint32_t *hops,
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

/* See lpm_huge_copy.h. */
struct rte_lpm *lpm_ref_copy_to_huge_pages(const struct rte_lpm *lpm, uint32_t tbl8s, int *error)
{
    return lpm_copy_to_huge_pages(lpm, tbl8s, error);
}

void lpm_ref_free_copy(struct rte_lpm *copy, uint32_t tbl8s)
{
    lpm_free_copy(copy, tbl8s);
}

/* l3fwd's way: four lookups per rte_lpm_lookupx4 (SSE), then single lookups for the tail. Misses give -1. */
void lpm_ref_lookup_x4(const struct rte_lpm *lpm, const uint32_t *ips, int32_t *results, int n)
{
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        xmm_t ip = _mm_loadu_si128((const __m128i *)(ips + i));
        rte_lpm_lookupx4(lpm, ip, (uint32_t *)(results + i), UINT32_MAX);
    }
    for (; i < n; i++) {
        uint32_t hop;
        results[i] = rte_lpm_lookup(lpm, ips[i], &hop) == 0 ? (int32_t)hop : -1;
    }
}

/* rte_lpm_lookup_bulk in chunks of 64, whose results carry RTE_LPM_LOOKUP_SUCCESS; converted to -1 on a miss. */
void lpm_ref_lookup_bulk(const struct rte_lpm *lpm, const uint32_t *ips, int32_t *results, int n)
{
    uint32_t hops[64];
    for (int i = 0; i < n; i += 64) {
        int chunk = n - i < 64 ? n - i : 64;
        rte_lpm_lookup_bulk(lpm, ips + i, hops, (unsigned)chunk);
        for (int j = 0; j < chunk; j++)
            results[i + j] = (hops[j] & RTE_LPM_LOOKUP_SUCCESS) ? (int32_t)(hops[j] & 0x00FFFFFF) : -1;
    }
}

/* One rte_lpm_lookup per address. */
void lpm_ref_lookup(const struct rte_lpm *lpm, const uint32_t *ips, int32_t *results, int n)
{
    for (int i = 0; i < n; i++) {
        uint32_t hop;
        results[i] = rte_lpm_lookup(lpm, ips[i], &hop) == 0 ? (int32_t)hop : -1;
    }
}

void lpm_ref_free(struct rte_lpm *lpm)
{
    rte_lpm_free(lpm);
}
