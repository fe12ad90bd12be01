/* SPDX-License-Identifier: MIT */
/* reader.c: a ringbench reader process, shaped like an egress worker: one doorbell waiter
 * feeding a libuv loop, a bounded drain per wake-up, every cache line of a frame touched. */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <uv.h>

#include "bench.h"
#include "shm/ctl.h"
#include "shm/doorbell.h"
#include "shm/ring.h"

#define DRAIN_BUDGET 256

struct bench_reader {
    struct ring_reader *r;
    struct bench_shared *sh;
    struct bench_reader_result *res;
    struct doorbell_set *bell;
    uv_idle_t idle;
};

static void bench_on_idle(uv_idle_t *h);

static void bench_drain(struct bench_reader *br)
{
    uint64_t now = ctl_now_ns();
    struct ring_frame f;
    for (int i = 0; i < DRAIN_BUDGET; i++) {
        int got = ring_reader_next(br->r, &f);
        if (got < 0) {
            br->res->laps++;
            continue;
        }
        if (got == 0) {
            uv_idle_stop(&br->idle);
            if (atomic_load(&br->sh->stop)) {
                doorbell_set_free(br->bell);
                uv_close((uv_handle_t *)&br->idle, NULL);
            }
            return;
        }
        uint64_t sum = 0;
        for (uint32_t off = 0; off < f.len; off += 64)
            sum += f.data[off];
        br->res->sink += sum;
        br->res->frames++;
        if (f.arrival_ns > now)
            now = ctl_now_ns(); /* written during this drain */
        uint64_t lat = now - f.arrival_ns;
        if (br->res->n_lat < BENCH_MAX_SAMPLES)
            br->res->lat_ns[br->res->n_lat++] = lat > UINT32_MAX ? UINT32_MAX : (uint32_t)lat;
    }
    uv_idle_start(&br->idle, bench_on_idle);
}

static void bench_on_idle(uv_idle_t *h)
{
    bench_drain(h->data);
}

static void bench_on_bell(void *arg)
{
    bench_drain(arg);
}

void bench_reader_main(const char *name, struct bench_shared *sh, int idx)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive an interrupted benchmark */
    static struct bench_reader br;
    char err[256];
    uv_loop_t *loop = uv_default_loop();
    br.sh = sh;
    br.res = &sh->r[idx];
    if (ring_reader_open(&br.r, name, err, sizeof(err)) < 0) {
        fprintf(stderr, "ringbench reader %d: %s\n", idx, err);
        _exit(1);
    }
    uv_idle_init(loop, &br.idle);
    br.idle.data = &br;
    if (doorbell_set_init(&br.bell, loop, bench_on_bell, &br, 0) < 0 ||
        doorbell_set_add(br.bell, ring_reader_doorbell(br.r)) < 0)
        _exit(1);
    atomic_fetch_add(&sh->ready, 1);
    syscall(SYS_futex, &sh->ready, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
    uv_run(loop, UV_RUN_DEFAULT);
    ring_reader_close(br.r);
    _exit(0);
}
