/* SPDX-License-Identifier: MIT */
/* reader.c: a ringstress reader: woken by the ring's doorbell, it verifies every frame it
 * accepts and accounts for every frame it did not: each gap must follow a reported lap (or a
 * frame that turned invalid while being checked). Violations make it exit non-zero. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <uv.h>

#include "pattern.h"
#include "shm/ctl.h"
#include "shm/doorbell.h"
#include "shm/ring.h"
#include "stress.h"

#define DRAIN_BUDGET 1024 /* frames per loop iteration; more continue from an idle handle */

struct counts {
    uint64_t frames, bytes, laps, invalidated, missed, resync_key, resync_edge;
    uint64_t corrupt, unreported, backwards, pkt_gaps, ts_jumps;
};

struct reader {
    const struct stress_opts *o;
    struct stress_pattern p;
    struct ring_reader *r;
    struct doorbell_set *bell;
    uv_loop_t loop;
    uv_idle_t idle;
    uv_timer_t stall;
    struct counts c;
    uint64_t last_seq, next_pkt; /* last accepted frame, and its first_pkt + pkt_count */
    uint32_t last_ts, gen_min, gen_max;
    bool lapped;   /* a lap was reported since the last accepted frame: gaps are excused */
    bool resynced; /* ring_reader_next reported -ESTALE and moved us */
    uint64_t stall_head, stall_since;
    int result;
};

static void reader_report(const struct reader *rd)
{
    const struct counts *c = &rd->c;
    printf("reader %d: frames=%" PRIu64 " MB=%.1f laps=%" PRIu64 " invalidated=%" PRIu64
           " missed=%" PRIu64 " resync_key=%" PRIu64 " resync_edge=%" PRIu64 " corrupt=%" PRIu64
           " unreported=%" PRIu64 " backwards=%" PRIu64 " pkt_gaps=%" PRIu64 " ts_jumps=%" PRIu64
           " generations=%u..%u last_seq=%" PRIu64 "\n",
           rd->o->id, c->frames, (double)c->bytes / 1e6, c->laps, c->invalidated, c->missed,
           c->resync_key, c->resync_edge, c->corrupt, c->unreported, c->backwards, c->pkt_gaps,
           c->ts_jumps, rd->gen_min, rd->gen_max, rd->last_seq);
    fflush(stdout);
}

static bool frame_ok(const struct reader *rd, const struct ring_frame *f)
{
    bool key = (f->flags & RING_FRAME_KEY) != 0;
    return f->track == 0 && key == stress_is_key(f->seq) && f->pkt_count == stress_pkts(f->len) &&
           stress_check(&rd->p, f->seq, f->data, f->len);
}

/* Ordering checks against the previous accepted frame. */
static void reader_sequence(struct reader *rd, const struct ring_frame *f)
{
    struct counts *c = &rd->c;
    if (rd->last_seq && f->seq <= rd->last_seq) {
        c->backwards++;
        return;
    }
    if (rd->last_seq && f->seq != rd->last_seq + 1) {
        c->missed += f->seq - rd->last_seq - 1;
        if (!rd->lapped) {
            c->unreported += f->seq - rd->last_seq - 1;
            fprintf(stderr, "reader %d: frames %" PRIu64 "..%" PRIu64 " skipped without a lap\n",
                    rd->o->id, rd->last_seq + 1, f->seq - 1);
        }
    } else if (rd->last_seq) {
        /* Consecutive: packet numbers follow on, even across a writer restart. */
        if (f->first_pkt != rd->next_pkt)
            c->pkt_gaps++;
        if (f->rtp_ts - rd->last_ts != STRESS_TS_STEP)
            c->ts_jumps++; /* only where a new writer rebased */
        if ((int32_t)(f->rtp_ts - rd->last_ts) <= 0)
            c->backwards++;
    }
    if (rd->resynced) {
        if (f->flags & RING_FRAME_KEY)
            c->resync_key++;
        else
            c->resync_edge++;
    }
    rd->lapped = rd->resynced = false;
    rd->last_seq = f->seq;
    rd->next_pkt = f->first_pkt + f->pkt_count;
    rd->last_ts = f->rtp_ts;
    c->frames++;
    c->bytes += f->len;
}

static void reader_frame(struct reader *rd, const struct ring_frame *f)
{
    bool ok = frame_ok(rd, f);
    if (!ring_frame_still_valid(rd->r, f)) {
        rd->c.invalidated++; /* overwritten while we looked: a lap, whatever we saw */
        rd->lapped = true;
        return;
    }
    if (!ok) {
        if (rd->c.corrupt++ < 5)
            fprintf(stderr, "reader %d: frame %" PRIu64 " (len %u) is corrupt\n", rd->o->id, f->seq,
                    f->len);
        return;
    }
    reader_sequence(rd, f);
    uint32_t gen = ring_reader_generation(rd->r);
    if (!rd->gen_min || gen < rd->gen_min)
        rd->gen_min = gen;
    if (gen > rd->gen_max)
        rd->gen_max = gen;
    if (rd->o->slow_us) {
        struct timespec ts = {0, (long)rd->o->slow_us * 1000};
        nanosleep(&ts, NULL); /* the deliberately slow consumer */
    }
}

static void reader_finish(struct reader *rd)
{
    doorbell_set_free(rd->bell);
    rd->bell = NULL;
    uv_close((uv_handle_t *)&rd->idle, NULL);
    uv_close((uv_handle_t *)&rd->stall, NULL);
}

static void on_idle(uv_idle_t *h);

/* Bounded drain: at most DRAIN_BUDGET frames, then yield to the loop (idle continues). */
static void reader_drain(struct reader *rd)
{
    struct ring_frame f;
    for (int i = 0; i < DRAIN_BUDGET; i++) {
        int got = ring_reader_next(rd->r, &f);
        if (got == -ESTALE) {
            rd->c.laps++;
            rd->lapped = rd->resynced = true;
            continue;
        }
        if (got == -EBADMSG) {
            rd->c.corrupt++;
            continue;
        }
        if (got == 0) {
            uv_idle_stop(&rd->idle);
            if (ring_reader_head(rd->r) > rd->o->until)
                reader_finish(rd);
            return;
        }
        reader_frame(rd, &f);
        if (rd->o->slow_us && ring_reader_head(rd->r) > rd->o->until) {
            reader_finish(rd); /* the slow reader never catches up: stop with the writer */
            return;
        }
    }
    uv_idle_start(&rd->idle, on_idle);
}

static void on_idle(uv_idle_t *h)
{
    reader_drain(h->data);
}

static void on_bell(void *arg)
{
    struct reader *rd = arg;
    if (rd->bell)
        reader_drain(rd);
}

static void on_stall_check(uv_timer_t *t)
{
    struct reader *rd = t->data;
    uint64_t head = ring_reader_head(rd->r), now = ctl_now_ns();
    if (head != rd->stall_head) {
        rd->stall_head = head;
        rd->stall_since = now;
    } else if (now - rd->stall_since > (uint64_t)rd->o->stall_ms * 1000000) {
        fprintf(stderr, "reader %d: no new frame for %u ms (head %" PRIu64 ")\n", rd->o->id,
                rd->o->stall_ms, head);
        rd->result = -ETIMEDOUT;
        reader_finish(rd);
    }
}

int stress_read(const struct stress_opts *o)
{
    static struct reader rd;
    rd.o = o;
    char err[256];
    int e = stress_pattern_init(&rd.p, o->seed, o->max_len);
    if (e < 0)
        return e;
    e = ring_reader_open(&rd.r, o->name, err, sizeof(err));
    if (e < 0) {
        fprintf(stderr, "ringstress read %d: %s\n", o->id, err);
        return e;
    }
    uv_loop_init(&rd.loop);
    uv_idle_init(&rd.loop, &rd.idle);
    rd.idle.data = &rd;
    uv_timer_init(&rd.loop, &rd.stall);
    rd.stall.data = &rd;
    rd.stall_since = ctl_now_ns();
    uv_timer_start(&rd.stall, on_stall_check, 200, 200);
    e = doorbell_set_init(&rd.bell, &rd.loop, on_bell, &rd, 0);
    if (e == 0)
        e = doorbell_set_add(rd.bell, ring_reader_doorbell(rd.r));
    if (e < 0) {
        fprintf(stderr, "ringstress read %d: doorbell: %s\n", o->id, uv_strerror(e));
        return e;
    }
    printf("reader %d attached at seq %" PRIu64 "\n", o->id, ring_reader_head(rd.r));
    fflush(stdout);
    reader_drain(&rd); /* frames written before the waiter started */
    uv_run(&rd.loop, UV_RUN_DEFAULT);
    uv_loop_close(&rd.loop);
    reader_report(&rd);
    ring_reader_close(rd.r);
    stress_pattern_free(&rd.p);
    const struct counts *c = &rd.c;
    if (c->corrupt || c->unreported || c->backwards || c->pkt_gaps)
        return -EPROTO;
    return rd.result;
}
