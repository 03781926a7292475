/*
 * The next-hop and frame layouts the forwarding references (fwd_ref.c, fwd6_ref.c) share with XdpStack: the benchmark
 * hands them arrays built from the fast path's own snapshot and frame descriptors.
 */
#pragma once

#include <stdint.h>

#define CHUNK 256

struct fwd_hop {
    uint8_t macs[12]; /* destination then source, as written to the frame */
    int32_t port;     /* egress NIC id; 0: hand to the slow path */
    int32_t mtu;
};

struct fwd_frame {
    int32_t offset;
    int32_t length;
    uint8_t action; /* unused here; keeps the layout of XdpStack's Frame */
};
