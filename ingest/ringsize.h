/* SPDX-License-Identifier: MIT */
/* ringsize.h: how big a path's ring must be, from what the ingest observes: the frames and
 * bytes from the oldest frame viewers may still need (the latest keyframe, or ring_seconds
 * back, and the NACK window behind it) to the live edge. Pure decisions, no I/O. */
#ifndef RINGCAST_RINGSIZE_H
#define RINGCAST_RINGSIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shm/ring.h"

#define RINGSIZE_INITIAL_DATA  (256u << 10) /* a new ring: grown within its first GOP */
#define RINGSIZE_INITIAL_SLOTS 128u
#define RINGSIZE_MAX_SLOTS     8192u
#define RINGSIZE_NACK_NS       1000000000ull /* kept behind the latest keyframe for NACKs */
#define RINGSIZE_HOLD_NS       3000000000ull /* held before any keyframe, and for audio only */

struct ringsize {
    uint32_t slots;
    uint64_t data;
};

/* The CLOCK_MONOTONIC time from which frames must stay in the ring at now: ring_seconds back
 * if set (hold_s), else the NACK window before the latest keyframe's arrival (key_ns; 0: no
 * keyframe yet, then RINGSIZE_HOLD_NS back). The latest keyframe itself is kept either way. */
uint64_t ringsize_from_ns(uint64_t now, unsigned hold_s, uint64_t key_ns);

/* Whether a ring of geometry cur must grow before a frame of len bytes is written, given the
 * usage u of what must stay; *next is then the geometry to move to (a quarter of headroom,
 * rounded up to powers of two, at most max_data payload bytes and RINGSIZE_MAX_SLOTS slots).
 * False when cur suffices, or is already at those bounds. */
bool ringsize_plan(const struct ringsize *cur, const struct ring_usage *u, size_t len,
                   uint64_t max_data, struct ringsize *next);

#endif
