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
#include <sys/mman.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lpm.h>

static int eal_ready;

/* rte_lpm allocates from rte_malloc, so EAL must be up: no hugepages, 512 MiB of ordinary memory, no PCI scan, no
 * shared config files (--in-memory is refused together with --no-huge), and the main lcore on CPU `lcore`.
 * Returns 0 or -rte_errno. */
int lpm_ref_init(int lcore)
{
    if (eal_ready)
        return 0;
    char lcores[16];
    snprintf(lcores, sizeof lcores, "%d", lcore);
    char *argv[] = {
        "lpm_ref", "--no-huge", "-m", "512", "--no-pci", "--no-shconf", "--no-telemetry",
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

#define HUGE_PAGE ((size_t)2 << 20)

static size_t round_up_huge(size_t n)
{
    return (n + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
}

static size_t huge_copy_size(uint32_t tbl8s)
{
    return round_up_huge(sizeof(struct rte_lpm)) +
        round_up_huge((size_t)tbl8s * RTE_LPM_TBL8_GROUP_NUM_ENTRIES * sizeof(struct rte_lpm_tbl_entry));
}

/*
 * EAL's --no-huge memory is a shared memfd, and shmem THP is off on this machine, so rte_lpm's own tables cannot be
 * moved onto huge pages. Instead this copies tbl24 and the tbl8 groups into private anonymous memory advised with
 * MADV_HUGEPAGE before it is written, the same treatment Ipv4Lpm gets. The lookups (rte_lpm_lookup, _bulk, x4) read
 * only lpm->tbl24 and lpm->tbl8, so they run unchanged on the copy. Returns NULL and sets *error on failure.
 */
struct rte_lpm *lpm_ref_copy_to_huge_pages(const struct rte_lpm *lpm, uint32_t tbl8s, int *error)
{
    size_t size = huge_copy_size(tbl8s);
    uint8_t *raw = mmap(NULL, size + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) {
        *error = errno;
        return NULL;
    }
    uint8_t *base = (uint8_t *)(((uintptr_t)raw + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
    /* Trim the slack so that the copy is exactly [base, base + size) and lpm_ref_free_copy can unmap it. */
    if (base > raw)
        munmap(raw, (size_t)(base - raw));
    if (raw + size + HUGE_PAGE > base + size)
        munmap(base + size, (size_t)(raw + size + HUGE_PAGE - (base + size)));
    if (madvise(base, size, MADV_HUGEPAGE) != 0) {
        *error = errno;
        munmap(base, size);
        return NULL;
    }
    struct rte_lpm *copy = (struct rte_lpm *)base;
    memcpy(copy->tbl24, lpm->tbl24, sizeof lpm->tbl24);
    copy->tbl8 = (struct rte_lpm_tbl_entry *)(base + round_up_huge(sizeof(struct rte_lpm)));
    memcpy(copy->tbl8, lpm->tbl8, (size_t)tbl8s * RTE_LPM_TBL8_GROUP_NUM_ENTRIES * sizeof(struct rte_lpm_tbl_entry));
    *error = 0;
    return copy;
}

void lpm_ref_free_copy(struct rte_lpm *copy, uint32_t tbl8s)
{
    munmap(copy, huge_copy_size(tbl8s));
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
