/* A paced UDP generator for the perf/e2e labs: one frame, sent again and again out of a device through the
 * kernel's XDP "live frames" test run (BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES, as xdp-trafficgen
 * does), IPv4 or IPv6, at a given rate or as fast as it can.
 *
 * Why not testpmd txonly: over AF_XDP in copy mode its frames are skbs whose destructor (the AF_XDP completion,
 * taken under an IRQ-saving lock) runs where the receiver frees them, that is on the device under test's CPU, and
 * its rate follows how fast that CPU frees them. Live frames are xdp_frames handed to the veth peer's NAPI with no
 * skb and no socket, so the generator's work stays on its own CPU; and a rate that holds while other work shares
 * the generator's CPU is what a "rate during X against rate without X" figure needs.
 * Why not xdp-trafficgen: it sends IPv6 only and has no rate limit.
 *
 * Usage: xdp_livegen DEV DST_MAC SRC_IP DST_IP [options]   (in the generator's namespace; runs until SIGTERM/SIGINT)
 *   --rate PPS     frames per second (0, the default: no limit)
 *   --size BYTES   frame size without FCS (default 60: the 64-byte minimum frame on the wire)
 *   --sport N / --dport N   UDP ports (40000 / 9)
 *   --ttl N        TTL or hop limit (64)
 * Prints "xdp_livegen: sending on DEV" once it sends, "xdp_livegen: sent N at T" (frames redirected so far, and
 * CLOCK_MONOTONIC seconds) on SIGUSR1,
 * and the total at exit. The count is the generator's own: a veth's counters for redirected frames include ones its
 * peer's ring had no room for. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <net/if.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef BPF_F_TEST_XDP_LIVE_FRAMES
#define BPF_F_TEST_XDP_LIVE_FRAMES (1U << 1)
#endif

static volatile sig_atomic_t stop, report;
static void on_signal(int sig) { if (sig == SIGUSR1) report = 1; else stop = 1; }

static int bpf(int cmd, union bpf_attr *attr) { return (int)syscall(__NR_bpf, cmd, attr, sizeof *attr); }

static uint32_t sum16(const void *data, size_t len, uint32_t sum)
{
    const uint8_t *p = data;
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        sum += (uint32_t)(p[len - 1] << 8);
    return sum;
}

static uint16_t fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static void put16(uint8_t *p, unsigned v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

/* Ethernet + IPv4/IPv6 + UDP, payload zero, both checksums valid. Returns the frame length or -1. */
static int build_frame(uint8_t *f, int size, const uint8_t *dmac, const uint8_t *smac, const char *src,
                       const char *dst, unsigned sport, unsigned dport, unsigned ttl)
{
    memset(f, 0, (size_t)size);
    memcpy(f, dmac, 6);
    memcpy(f + 6, smac, 6);
    uint8_t *l3 = f + 14;
    struct in_addr s4, d4;
    struct in6_addr s6, d6;
    if (inet_pton(AF_INET, src, &s4) == 1 && inet_pton(AF_INET, dst, &d4) == 1) {
        if (size < 14 + 20 + 8)
            return -1;
        put16(f + 12, ETH_P_IP);
        int ip_len = size - 14, udp_len = ip_len - 20;
        l3[0] = 0x45;
        put16(l3 + 2, (unsigned)ip_len);
        l3[8] = (uint8_t)ttl;
        l3[9] = IPPROTO_UDP;
        memcpy(l3 + 12, &s4, 4);
        memcpy(l3 + 16, &d4, 4);
        put16(l3 + 10, fold(sum16(l3, 20, 0)));
        uint8_t *udp = l3 + 20;
        put16(udp, sport);
        put16(udp + 2, dport);
        put16(udp + 4, (unsigned)udp_len);
        uint32_t pseudo = sum16(l3 + 12, 8, 0) + IPPROTO_UDP + (uint32_t)udp_len;
        uint16_t c = fold(sum16(udp, (size_t)udp_len, pseudo));
        put16(udp + 6, c ? c : 0xffff);
        return size;
    }
    if (inet_pton(AF_INET6, src, &s6) == 1 && inet_pton(AF_INET6, dst, &d6) == 1) {
        if (size < 14 + 40 + 8)
            return -1;
        put16(f + 12, ETH_P_IPV6);
        int udp_len = size - 14 - 40;
        l3[0] = 0x60;
        put16(l3 + 4, (unsigned)udp_len);
        l3[6] = IPPROTO_UDP;
        l3[7] = (uint8_t)ttl;
        memcpy(l3 + 8, &s6, 16);
        memcpy(l3 + 24, &d6, 16);
        uint8_t *udp = l3 + 40;
        put16(udp, sport);
        put16(udp + 2, dport);
        put16(udp + 4, (unsigned)udp_len);
        uint32_t pseudo = sum16(l3 + 8, 32, 0) + IPPROTO_UDP + (uint32_t)udp_len;
        uint16_t c = fold(sum16(udp, (size_t)udp_len, pseudo));
        put16(udp + 6, c ? c : 0xffff);
        return size;
    }
    return -1;
}

static int parse_mac(const char *s, uint8_t *mac)
{
    unsigned b[6];
    if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
        return -1;
    for (int i = 0; i < 6; i++)
        mac[i] = (uint8_t)b[i];
    return 0;
}

static int device_mac(const char *dev, uint8_t *mac)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", dev);
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int rc = fd < 0 ? -1 : ioctl(fd, SIOCGIFHWADDR, &ifr);
    if (fd >= 0)
        close(fd);
    if (rc < 0)
        return -1;
    memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
    return 0;
}

#define INSN(c, d, s_, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s_), .off = (o), .imm = (i) })

/* The pacing state the program keeps in its one-entry array map (times from bpf_ktime_get_ns). */
struct pace {
    uint64_t next_ns;     /* when the next frame is due */
    uint64_t interval_ns; /* 1e9 / rate */
    uint64_t slack_ns;    /* how far the schedule may fall behind before frames are skipped: bounds a catch-up burst */
    uint64_t sent;        /* frames redirected */
};

static int load(struct bpf_insn *insns, unsigned count)
{
    static char log[65536];
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.prog_type = BPF_PROG_TYPE_XDP;
    attr.insns = (uint64_t)(uintptr_t)insns;
    attr.insn_cnt = count;
    attr.license = (uint64_t)(uintptr_t)"GPL";
    attr.log_buf = (uint64_t)(uintptr_t)log;
    attr.log_size = sizeof log;
    attr.log_level = 1;
    int fd = bpf(BPF_PROG_LOAD, &attr);
    if (fd < 0)
        fprintf(stderr, "xdp_livegen: BPF_PROG_LOAD: %s\n%s", strerror(errno), log);
    return fd;
}

/* Bytes of the frame the program writes back before each send: the Ethernet header and the IP header (TTL or hop
 * limit, IPv4 checksum) fit in them. The test run initialises a page with the frame only once and then recycles it,
 * so a receiver that rewrites the frame in place (Linux forwarding it: MACs, TTL) would otherwise have its rewrite
 * sent again on the next round: after the first two batches Linux would see its own output, addressed to the sink. */
#define HEADER_REWRITE 56

/* The test run spins through frames as fast as the CPU allows, and the program lets one through (redirect) only
 * when it is due, dropping the rest back into the test run's page pool; with no rate every frame is due, and the
 * program counts what it sent either way. Per-call set-up of a live-frames test run costs hundreds of
 * microseconds, so pacing from user space with small calls cannot reach a million frames per second; a
 * frame-by-frame decision in the program has no burst beyond the slack. */
static int load_paced(unsigned ifindex, int map, const uint8_t *frame)
{
    struct bpf_insn insns[64];
    int n = 0, drops[4], ndrops = 0;
#define EMIT(c, d, s_, o, i) (insns[n++] = INSN(c, d, s_, o, i))
#define JUMP_TO_DROP(c, d, s_, i) (drops[ndrops++] = n, EMIT(c, d, s_, 0, i))
    EMIT(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_9, BPF_REG_1, 0, 0);               /* r9 = ctx */
    EMIT(BPF_ST | BPF_MEM | BPF_W, BPF_REG_10, 0, -4, 0);                        /* key 0 */
    EMIT(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_1, BPF_PSEUDO_MAP_FD, 0, map);
    EMIT(0, 0, 0, 0, 0);
    EMIT(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_10, 0, 0);
    EMIT(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, -4);
    EMIT(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem);
    JUMP_TO_DROP(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_0, 0, 0);
    EMIT(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_6, BPF_REG_0, 0, 0);               /* r6 = struct pace */
    EMIT(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_ktime_get_ns);                    /* r0 = now */
    EMIT(BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_7, BPF_REG_6, 0, 0);                /* r7 = next */
    JUMP_TO_DROP(BPF_JMP | BPF_JGT | BPF_X, BPF_REG_7, BPF_REG_0, 0);            /* not due yet */
    EMIT(BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_8, BPF_REG_6, 8, 0);
    EMIT(BPF_ALU64 | BPF_ADD | BPF_X, BPF_REG_7, BPF_REG_8, 0, 0);               /* r7 = next + interval */
    EMIT(BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_1, BPF_REG_6, 16, 0);
    EMIT(BPF_ALU64 | BPF_SUB | BPF_X, BPF_REG_0, BPF_REG_1, 0, 0);               /* r0 = now - slack */
    EMIT(BPF_JMP | BPF_JGE | BPF_X, BPF_REG_7, BPF_REG_0, 1, 0);
    EMIT(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_7, BPF_REG_0, 0, 0);               /* skip what fell behind */
    EMIT(BPF_STX | BPF_MEM | BPF_DW, BPF_REG_6, BPF_REG_7, 0, 0);
    EMIT(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_9, 0, 0);                 /* r2 = data */
    EMIT(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_3, BPF_REG_9, 4, 0);                 /* r3 = data_end */
    EMIT(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_4, BPF_REG_2, 0, 0);
    EMIT(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_4, 0, 0, HEADER_REWRITE);
    JUMP_TO_DROP(BPF_JMP | BPF_JGT | BPF_X, BPF_REG_4, BPF_REG_3, 0);
    for (int off = 0; off < HEADER_REWRITE; off += 8) {
        uint64_t word;
        memcpy(&word, frame + off, 8);
        EMIT(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_5, 0, 0, (int)(uint32_t)word);
        EMIT(0, 0, 0, 0, (int)(uint32_t)(word >> 32));
        EMIT(BPF_STX | BPF_MEM | BPF_DW, BPF_REG_2, BPF_REG_5, (short)off, 0);
    }
    EMIT(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_1, 0, 0, 1);
    EMIT(BPF_STX | BPF_ATOMIC | BPF_DW, BPF_REG_6, BPF_REG_1, 24, BPF_ADD);      /* sent++ */
    EMIT(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_1, 0, 0, (int)ifindex);
    EMIT(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_2, 0, 0, 0);
    EMIT(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_redirect);
    EMIT(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
    int drop = n;
    EMIT(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1 /* XDP_DROP */);
    EMIT(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
    for (int i = 0; i < ndrops; i++)
        insns[drops[i]].off = (short)(drop - drops[i] - 1);
#undef EMIT
#undef JUMP_TO_DROP
    return load(insns, (unsigned)n);
}

static int pace_map(double rate)
{
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.map_type = BPF_MAP_TYPE_ARRAY;
    attr.key_size = 4;
    attr.value_size = sizeof(struct pace);
    attr.max_entries = 1;
    int fd = bpf(BPF_MAP_CREATE, &attr);
    if (fd < 0) {
        fprintf(stderr, "xdp_livegen: BPF_MAP_CREATE: %s\n", strerror(errno));
        return -1;
    }
    uint32_t key = 0;
    struct pace p = { .interval_ns = rate > 0 ? (uint64_t)(1e9 / rate) : 0 };
    p.slack_ns = 32 * p.interval_ns;
    memset(&attr, 0, sizeof attr);
    attr.map_fd = (uint32_t)fd;
    attr.key = (uint64_t)(uintptr_t)&key;
    attr.value = (uint64_t)(uintptr_t)&p;
    if (bpf(BPF_MAP_UPDATE_ELEM, &attr) < 0) {
        fprintf(stderr, "xdp_livegen: BPF_MAP_UPDATE_ELEM: %s\n", strerror(errno));
        return -1;
    }
    return fd;
}

static uint64_t paced_sent(int map)
{
    uint32_t key = 0;
    struct pace p = { 0 };
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.map_fd = (uint32_t)map;
    attr.key = (uint64_t)(uintptr_t)&key;
    attr.value = (uint64_t)(uintptr_t)&p;
    bpf(BPF_MAP_LOOKUP_ELEM, &attr);
    return p.sent;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int test_run(int prog, const uint8_t *frame, int size, struct xdp_md *ctx, uint32_t repeat)
{
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.test.prog_fd = (uint32_t)prog;
    attr.test.data_in = (uint64_t)(uintptr_t)frame;
    attr.test.data_size_in = (uint32_t)size;
    attr.test.ctx_in = (uint64_t)(uintptr_t)ctx;
    attr.test.ctx_size_in = sizeof *ctx;
    attr.test.repeat = repeat;
    attr.test.flags = BPF_F_TEST_XDP_LIVE_FRAMES;
    return bpf(BPF_PROG_TEST_RUN, &attr);
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: %s DEV DST_MAC SRC_IP DST_IP [--rate PPS] [--size BYTES] [--sport N] [--dport N] [--ttl N]\n", argv[0]);
        return 2;
    }
    const char *dev = argv[1];
    double rate = 0;
    int size = 60;
    unsigned sport = 40000, dport = 9, ttl = 64;
    for (int i = 5; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--rate")) rate = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--size")) size = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--sport")) sport = (unsigned)atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--dport")) dport = (unsigned)atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--ttl")) ttl = (unsigned)atoi(argv[i + 1]);
        else { fprintf(stderr, "xdp_livegen: unknown option %s\n", argv[i]); return 2; }
    }
    unsigned ifindex = if_nametoindex(dev);
    uint8_t dmac[6], smac[6], frame[9000];
    if (!ifindex || device_mac(dev, smac) < 0) { fprintf(stderr, "xdp_livegen: no device %s here\n", dev); return 2; }
    if (parse_mac(argv[2], dmac) < 0) { fprintf(stderr, "xdp_livegen: bad MAC %s\n", argv[2]); return 2; }
    if (size < 60 || size > (int)sizeof frame ||
        build_frame(frame, size, dmac, smac, argv[3], argv[4], sport, dport, ttl) < 0) {
        fprintf(stderr, "xdp_livegen: bad addresses %s %s or size %d\n", argv[3], argv[4], size);
        return 2;
    }
    int map = pace_map(rate);
    int prog = map < 0 ? -1 : load_paced(ifindex, map, frame);
    if (prog < 0)
        return 1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: a signal ends the test run at once */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);

    struct xdp_md ctx = { .data_end = (uint32_t)size };
    /* One frame first, so that a kernel that refuses live frames is named before "sending" is printed: some
     * kernel builds answer BPF_F_TEST_XDP_LIVE_FRAMES with EPERM even as root (seen on 6.18.44 here), and
     * xdp-trafficgen fails there the same way. */
    if (test_run(prog, frame, size, &ctx, 1) < 0) {
        fprintf(stderr, "xdp_livegen: this kernel refuses XDP live-frames test runs (BPF_PROG_TEST_RUN with "
                        "BPF_F_TEST_XDP_LIVE_FRAMES: %s); use the scripts' GENERATOR=testpmd instead\n", strerror(errno));
        return 1;
    }
    double start = now_s();
    printf("xdp_livegen: sending on %s (ifindex %u), %d-byte frames, %s\n", dev, ifindex, size,
           rate > 0 ? "paced" : "no rate limit");
    fflush(stdout);
    while (!stop) {
        if (report) {
            report = 0;
            printf("xdp_livegen: sent %llu at %.6f\n", (unsigned long long)paced_sent(map), now_s());
            fflush(stdout);
        }
        /* Short runs: a signal is seen between runs, and a run (a few hundred microseconds of set-up) is short
         * enough that a report is prompt and long enough that the set-up costs about 1% of the paced rate. */
        if (test_run(prog, frame, size, &ctx, 1u << 18) < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "xdp_livegen: BPF_PROG_TEST_RUN: %s\n", strerror(errno));
            return 1;
        }
    }
    double elapsed = now_s() - start;
    uint64_t sent = paced_sent(map);
    printf("xdp_livegen: %llu frames in %.1f s (%.0f/s)\n", (unsigned long long)sent, elapsed, sent / elapsed);
    close(prog);
    return 0;
}
