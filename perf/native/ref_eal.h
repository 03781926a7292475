/*
 * EAL start-up shared by the DPDK references (lpm_ref.c, fwd_ref.c, fwd6_ref.c). Each is its own shared library,
 * so this is static in each. rte_lpm and rte_lpm6 allocate from rte_malloc, so EAL must be up: no hugepages,
 * `megabytes` of ordinary memory, no PCI scan, no shared config files (--in-memory is refused together with
 * --no-huge), and the main lcore on CPU `lcore`. A second start in the same process (two references loaded) answers
 * EALREADY and is fine, but then the first one's memory size holds. Returns 0 or -rte_errno.
 */
#pragma once

#include <stdio.h>

#include <rte_eal.h>
#include <rte_errno.h>

static int ref_eal_ready;

static int ref_eal_init(const char *name, int lcore, const char *megabytes)
{
    if (ref_eal_ready)
        return 0;
    char lcores[16];
    snprintf(lcores, sizeof lcores, "%d", lcore);
    char *argv[] = {
        (char *)name, "--no-huge", "-m", (char *)megabytes, "--no-pci", "--no-shconf", "--no-telemetry",
        "-l", lcores, "--log-level", "lib.eal:error",
    };
    int rc = rte_eal_init((int)(sizeof argv / sizeof argv[0]), argv);
    if (rc < 0 && rte_errno != EALREADY)
        return -rte_errno;
    ref_eal_ready = 1;
    return 0;
}
