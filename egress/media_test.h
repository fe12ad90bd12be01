/* SPDX-License-Identifier: MIT */
/* media_test.h: the seam through which unit tests and mediabench drive the egress data plane
 * without a loop of doorbells: running the send path by hand, the knobs they change, the
 * figures they read and the synthetic H.264 they feed it. The worker itself never calls these; its
 * internals stay in media_priv.h. */
#ifndef RINGCAST_MEDIA_TEST_H
#define RINGCAST_MEDIA_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "egress/media.h"

/* What media_worker_init sets; tests change them to reach a case sooner. */
struct media_test_knobs {
    uint64_t ring_stale_ns; /* a writer silent this long: look for a new ring (3 s) */
    unsigned wakeup_pkts;   /* packets queued per wakeup before yielding (8192) */
    bool gso; /* a viewer's equal-sized packets of a frame share a UDP GSO send (on) */
};

void media_test_knobs_get(const struct media_worker *w, struct media_test_knobs *k);
void media_test_knobs_set(struct media_worker *w, const struct media_test_knobs *k);

/* Runs the send path once, as a doorbell or the idle handle does: live frames, then
 * catch-up, per path. True when frames are left over (the wakeup's budget ran out). */
bool media_test_send_run(struct media_worker *w);

/* What the worker holds for the path a viewer watches. */
struct media_test_path {
    const struct ring_reader *r; /* the ring it reads: another one once it was replaced */
    uint64_t next_frame;         /* live cursor: the next frame the reader returns */
    bool has_pending;            /* a live frame not yet sent to every viewer */
    uint32_t rtx_rate;           /* measured payload bytes per second, floored */
    uint32_t codec[MEDIA_MAX_TRACKS];
    bool watched; /* its ring's doorbell wakes the worker (it has viewers) */
};
void media_test_path_of(const struct media_viewer *v, struct media_test_path *out);
/* The same for path name, watched or not. 0, or -ENOENT when the worker never attached to it. */
int media_test_path_named(const struct media_worker *w, const char *name,
                          struct media_test_path *out);

/* sendmmsg calls made so far. */
uint64_t media_test_batches(const struct media_worker *w);

/* The feed tests and mediabench write into a ring: H.264 access units in Annex B. These are
 * its parameter sets (SPS, PPS), a ring track's params. */
extern const uint8_t media_test_h264_params[37];
/* Writes one access unit to out: the parameter sets and an IDR slice when key, else a non-IDR
 * slice, with body payload bytes that vary with seed and never hold 00 00 (no accidental start
 * code). Returns its length, body + 5 (+ the parameter sets), which out must hold. */
size_t media_test_frame(uint8_t *out, bool key, size_t body, unsigned seed);

#endif
