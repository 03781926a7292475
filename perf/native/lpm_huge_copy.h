/*
 * The huge-page copy of an rte_lpm, shared by lpm_ref.c and fwd_ref.c (static in each shared library).
 *
 * EAL's --no-huge memory is a shared memfd, and shmem THP is off on this machine, so rte_lpm's own tables cannot be
 * moved onto huge pages. Instead tbl24 and the tbl8 groups are copied into private anonymous memory advised with
 * MADV_HUGEPAGE before it is written, the same treatment Ipv4Lpm gets. rte_lpm_lookup, _bulk and _x4 read only
 * lpm->tbl24 and lpm->tbl8, so they run unchanged on the copy.
 */
#pragma once

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include <rte_lpm.h>

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

/* Returns the copy, or NULL with *error set. */
static struct rte_lpm *lpm_copy_to_huge_pages(const struct rte_lpm *lpm, uint32_t tbl8s, int *error)
{
    size_t size = huge_copy_size(tbl8s);
    uint8_t *raw = mmap(NULL, size + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) {
        *error = errno;
        return NULL;
    }
    uint8_t *base = (uint8_t *)(((uintptr_t)raw + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
    /* Trim the slack so that the copy is exactly [base, base + size) and lpm_free_copy can unmap it. */
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

static void lpm_free_copy(struct rte_lpm *copy, uint32_t tbl8s)
{
    munmap(copy, huge_copy_size(tbl8s));
}
