/* SPDX-License-Identifier: MIT */
/* bench.h: what ringbench's forked reader processes share with the parent (one anonymous
 * MAP_SHARED area created before fork). */
#ifndef RINGBENCH_BENCH_H
#define RINGBENCH_BENCH_H

#include <stdatomic.h>
#include <stdint.h>

#define BENCH_MAX_READERS 8
#define BENCH_MAX_SAMPLES 4096

struct bench_reader_result {
    uint64_t frames, laps, sink;
    uint32_t n_lat;
    uint32_t lat_ns[BENCH_MAX_SAMPLES]; /* doorbell-to-callback latency of each frame */
};

struct bench_shared {
    _Atomic uint32_t ready; /* readers attached and waiting (a futex word) */
    _Atomic uint32_t stop;  /* set by the parent before its last frame */
    struct bench_reader_result r[BENCH_MAX_READERS];
};

/* Child process body: attaches to ring name, counts (and touches) every frame, records
 * latencies, exits when shared->stop is seen. Never returns. */
void bench_reader_main(const char *name, struct bench_shared *sh, int idx)
    __attribute__((noreturn));

#endif
