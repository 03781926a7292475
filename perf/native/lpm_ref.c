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
#include <sys/mman.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lpm.h>

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

static int eal_ready;

/* rte_lpm allocates from rte_malloc, so EAL must be up: no hugepages, 512 MiB of ordinary memory, no PCI scan,
 * no files in /var/run (in-memory), and the main lcore on CPU `lcore`. Returns 0 or -rte_errno. */
int lpm_ref_init(int lcore)
{
    if (eal_ready)
        return 0;
    char lcores[16];
    snprintf(lcores, sizeof lcores, "%d", lcore);
    char *argv[] = {
        "lpm_ref", "--no-huge", "-m", "512", "--no-pci", "--in-memory", "--no-telemetry",
        "-l", lcores, "--log-level", "lib.eal:error",
    };
    int rc = rte_eal_init((int)(sizeof argv / sizeof argv[0]), argv);
    if (rc < 0)
        return -rte_errno;
    eal_ready = 1;
    return 0;
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

static int advise_range(void *start, size_t length)
{
    uintptr_t lo = ((uintptr_t)start + (2u << 20) - 1) & ~(uintptr_t)((2u << 20) - 1);
    uintptr_t hi = ((uintptr_t)start + length) & ~(uintptr_t)((2u << 20) - 1);
    if (hi <= lo)
        return 0;
    if (madvise((void *)lo, hi - lo, MADV_HUGEPAGE) != 0)
        return -errno;
    /* The table is already written, so ask for a synchronous collapse into 2 MiB pages (Linux 6.1+). */
    if (madvise((void *)lo, hi - lo, MADV_COLLAPSE) != 0)
        return -errno;
    return 0;
}

/* Moves tbl24 and the tbl8 groups onto transparent huge pages, to compare with Ipv4Lpm on equal pages. */
int lpm_ref_use_huge_pages(struct rte_lpm *lpm, uint32_t tbl8s)
{
    int rc = advise_range(lpm->tbl24, sizeof lpm->tbl24);
    if (rc == 0)
        rc = advise_range(lpm->tbl8, (size_t)tbl8s * RTE_LPM_TBL8_GROUP_NUM_ENTRIES * sizeof(struct rte_lpm_tbl_entry));
    return rc;
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
