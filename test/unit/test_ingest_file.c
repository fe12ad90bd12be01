/* SPDX-License-Identifier: MIT */
/* test_ingest_file.c: the ingest pipeline and the file source against the ring reader.
 *  - the file source's access-unit splitter agrees with ffmpeg's H.264 parser (ffprobe) on
 *    etc/demo.h264, unit for unit;
 *  - in process: parameter sets put in front of keyframes lacking them (after an AUD),
 *    parameter changes flagged, packet counts from codec/pack.h, RTP input, counters; a file
 *    source resuming its pace after a stall, and writing in batches while nobody watches;
 *  - with RCT_MODE live|snapshot|after (set by test/integration/test_ingest_file, which runs
 *    ringcast-ingest, with RCT_RING and RCT_STATE):
 *    the ring a real ringcast-ingest fills holds the clip's units byte for byte, looping,
 *    keyframes flagged with parameter sets in front, 90 kHz timestamps stepping by
 *    90000/fps, continuous packet numbers, real-time pace; and that a restarted ingest
 *    continues the ring's frame sequence, timestamps and packet numbers;
 *  - RCT_MODE=supervised: ringcast-ingest --ctl-slot N in a control segment made here writes
 *    its pid, heartbeats, counts frames_written and rings the control doorbell. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "codec/codec.h"
#include "codec/pack.h"
#include "ingest/file.h"
#include "ingest/ingest.h"
#include "shm/doorbell.h"
#include "shm/ring.h"

#define MAX_AUS 4096

/* The clip and its units as ffmpeg's parser sees them. */
struct clip {
    uint8_t *data;
    size_t len;
    size_t n;
    struct {
        size_t pos, size;
        bool key;
    } au[MAX_AUS];
};

static struct clip clip;

static const char *clip_path(void)
{
    const char *p = getenv("RCT_CLIP");
    return p ? p : "etc/demo.h264";
}

static int load_clip(void **state)
{
    (void)state;
    FILE *f = fopen(clip_path(), "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    clip.len = (size_t)ftell(f);
    rewind(f);
    clip.data = malloc(clip.len);
    assert_non_null(clip.data);
    assert_int_equal(fread(clip.data, 1, clip.len, f), clip.len);
    fclose(f);
    char cmd[1200];
    snprintf(cmd, sizeof(cmd),
             "ffprobe -v error -show_packets -show_entries packet=pos,size,flags -of csv=p=0 "
             "'%s'",
             clip_path());
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char line[128];
    while (fgets(line, sizeof(line), p)) {
        unsigned long size, pos;
        char flags[16];
        assert_int_equal(sscanf(line, "%lu,%lu,%15s", &size, &pos, flags), 3);
        assert_true(clip.n < MAX_AUS);
        clip.au[clip.n].pos = pos;
        clip.au[clip.n].size = size;
        clip.au[clip.n].key = flags[0] == 'K';
        clip.n++;
    }
    assert_int_equal(pclose(p), 0);
    assert_true(clip.n > 10);
    return 0;
}

static int free_clip(void **state)
{
    (void)state;
    free(clip.data);
    return 0;
}

struct split_check {
    size_t i;
};

static void on_split(void *arg, const uint8_t *au, size_t len)
{
    struct split_check *c = arg;
    assert_true(c->i < clip.n);
    assert_int_equal((size_t)(au - clip.data), clip.au[c->i].pos);
    assert_int_equal(len, clip.au[c->i].size);
    assert_int_equal(codec_au_is_key(RING_CODEC_H264, au, len), clip.au[c->i].key);
    c->i++;
}

static void test_split_matches_ffprobe(void **state)
{
    (void)state;
    struct split_check c = {0};
    assert_int_equal(file_h264_split(clip.data, clip.len, on_split, &c), (int)clip.n);
    assert_int_equal(c.i, clip.n);
    const uint8_t junk[] = {1, 2, 3};
    assert_int_equal(file_h264_split(junk, sizeof(junk), on_split, &c), -EBADMSG);
}

/* Pacing arithmetic far into a loop: 25 fps coded as SPS timing 1000/50000 (den 2000), whose
 * 64-bit product i * 1e9 * den overflows after 9.2 million frames (4.3 days), and the worst
 * SPS timing accepted (den near 2^32), which overflowed after 5 frames. */
static void test_frame_time_long_run(void **state)
{
    (void)state;
    uint64_t i = 10000000; /* 4.6 days at 25 fps */
    assert_true(file_frame_time(i, 1000000000u, 50000, 2000) == i * 40000000ull);
    assert_int_equal((uint32_t)file_frame_time(i, 90000, 50000, 2000), (uint32_t)(i * 3600));
    uint32_t den = 0xfffffffeu; /* num_units_in_tick 2^31 - 1 at 1 fps */
    assert_true(file_frame_time(6, 1000000000u, den, den) == 6000000000ull);
    assert_true(file_frame_time(i, 1000000000u, 30, 1) == i * 1000000000ull / 30);
}

/* ---- in process ---- */

static const uint8_t params[] = {0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1f, 0xd9,
                                 0, 0, 0, 1, 0x68, 0xcb, 0x8c, 0xb2};

static char unit_ring[64];

/* The ring outlives ingest_close (readers keep it): removed here, even after a failure. */
static int unlink_unit_ring(void **state)
{
    (void)state;
    char shm[80];
    snprintf(shm, sizeof(shm), "/%s", unit_ring);
    shm_unlink(shm);
    return 0;
}

static void test_pipeline_in_process(void **state)
{
    (void)state;
    char err[256];
    const char *name = unit_ring;
    snprintf(unit_ring, sizeof(unit_ring), "rct-ingest-unit-%d", (int)getpid());
    struct ctl ctl;
    assert_int_equal(ctl_init_private(&ctl), 0);
    struct ctl_child *slot = ctl_slot(&ctl, 0);
    struct ingest *ing;
    struct ingest_opts o = {
        .path = "unit", .ring_name = name, .mtu = 1200, .ring_bytes = 1 << 20, .slot = slot};
    assert_int_equal(ingest_open(&ing, &o, err, sizeof(err)), 0);
    struct ring_reader *r;
    assert_int_equal(ring_reader_open(&r, name, err, sizeof(err)), 0);

    ingest_restart(ing);
    struct ingest_track_desc d = {.codec = RING_CODEC_H264,
                                  .clock_rate = 90000,
                                  .fmtp = "packetization-mode=1;sprop-parameter-sets="
                                          "Z0LAH9k=,aMuMsg=="};
    assert_int_equal(ingest_add_track(ing, &d), 0);
    struct ring_track t;
    assert_int_equal(ring_reader_track(r, 0, &t, NULL), 0);
    assert_int_equal(t.params_len, sizeof(params));
    assert_memory_equal(t.params, params, sizeof(params));

    /* A keyframe behind an AUD, without parameter sets: they go in after the AUD. */
    static uint8_t idr[3000];
    memcpy(idr, "\0\0\0\1\x09\xf0\0\0\0\1\x65", 11);
    memset(idr + 11, 0x5a, sizeof(idr) - 11);
    int64_t seq = ingest_au(ing, 0, 1000, idr, sizeof(idr));
    assert_true(seq > 0);
    struct ring_frame f;
    assert_int_equal(ring_reader_get(r, (uint64_t)seq, &f), 1);
    assert_int_equal(f.len, sizeof(idr) + sizeof(params));
    assert_memory_equal(f.data, idr, 6);
    assert_memory_equal(f.data + 6, params, sizeof(params));
    assert_memory_equal(f.data + 6 + sizeof(params), idr + 6, sizeof(idr) - 6);
    assert_true(f.flags & RING_FRAME_KEY);
    assert_int_equal(f.pkt_count, (uint32_t)pack_count(RING_CODEC_H264, f.data, f.len, 1200));
    assert_int_equal(f.pkt_count, 1 + 1 + 3); /* AUD, STAP-A (SPS, PPS), IDR in three FU-A */

    /* A P frame: no flags, no parameter sets added. */
    static const uint8_t p[] = {0, 0, 0, 1, 0x41, 0x9a, 0x11};
    seq = ingest_au(ing, 0, 4000, p, sizeof(p));
    assert_int_equal(ring_reader_get(r, (uint64_t)seq, &f), 1);
    assert_int_equal(f.len, sizeof(p));
    assert_int_equal(f.flags, 0);

    /* New in-band parameter sets: flagged and published in the track. */
    static const uint8_t idr2[] = {0, 0, 0,    1,    0x67, 0x42, 0xc0, 0x28, 0xd9, 0,    0,
                                   0, 1, 0x68, 0xcb, 0x8c, 0xb2, 0,    0,    1,    0x65, 0x88};
    seq = ingest_au(ing, 0, 7000, idr2, sizeof(idr2));
    assert_int_equal(ring_reader_get(r, (uint64_t)seq, &f), 1);
    assert_int_equal(f.len, sizeof(idr2));
    assert_int_equal(f.flags, RING_FRAME_KEY | RING_FRAME_PARAMS_CHANGED);
    assert_int_equal(ring_reader_track(r, 0, &t, NULL), 0);
    assert_int_equal(t.params[7], 0x28);

    /* RTP: a single-NAL IDR packet, then a P frame whose only packet is damaged (FU-A
     * middle without start): one frame written, one dropped and counted. */
    uint8_t pkt[64] = {0x80, 0xe0, 0, 1, 0, 0, 0x30, 0x39, 1, 2, 3, 4, 0x65, 0x88, 0x80};
    assert_int_equal(ingest_rtp(ing, 0, pkt, 15), 0);
    uint8_t frag[] = {0x80, 0xe0, 0, 2, 0, 0, 0x40, 0x00, 1, 2, 3, 4, 0x5c, 0x01, 0x77};
    assert_int_equal(ingest_rtp(ing, 0, frag, sizeof(frag)), 0);
    assert_int_equal(ingest_rtp(ing, 1, frag, sizeof(frag)), -EINVAL);
    assert_int_equal(ingest_frames_written(ing), 4);
    assert_int_equal(ingest_frames_dropped(ing), 1);
    assert_int_equal(ctl_read(&slot->counters.frames_written), 4);
    assert_int_equal(ctl_read(&slot->counters.frames_dropped), 1);
    /* The RTP keyframe carries the current parameter sets in front. */
    assert_int_equal(ring_reader_get(r, ring_reader_head(r) - 1, &f), 1);
    assert_true(f.flags & RING_FRAME_KEY);
    assert_int_equal(f.len, sizeof(params) + 4 + 3);

    /* Reconnects are counted from the second start on. */
    ingest_restart(ing);
    assert_int_equal(ctl_read(&slot->counters.source_reconnects), 1);
    assert_int_equal(ingest_rtp(ing, 0, pkt, 15), -EINVAL); /* tracks are declared again */

    ring_reader_close(r);
    ingest_close(ing);
    ctl_free(&ctl);
}

/* ---- the ring a ringcast-ingest process fills ---- */

struct live {
    struct ring_reader *r;
    const char *name;
    uv_loop_t loop;
    uv_timer_t timeout;
    uv_timer_t follow; /* the ring grows (a new object) while it is read: follow it */
    unsigned grown;
    struct doorbell_set *w;
    uint64_t next, first, want;
    unsigned fps;
    bool after;        /* a restarted writer continues from the snapshot below */
    uint32_t after_ts; /* the previous writer's last timestamp */
    uint32_t last_ts;
    uint64_t next_pkt, first_arrival, last_arrival;
    size_t clip_i;
    bool have_prev, done;
};

static void check_frame(struct live *l, const struct ring_frame *f)
{
    assert_int_equal(f->track, 0);
    size_t i = l->clip_i % clip.n;
    assert_int_equal(f->len, clip.au[i].size);
    assert_memory_equal(f->data, clip.data + clip.au[i].pos, f->len);
    assert_int_equal((f->flags & RING_FRAME_KEY) != 0, clip.au[i].key);
    if (clip.au[i].key) /* parameter sets in front of every keyframe */
        assert_true(codec_params_from_au(RING_CODEC_H264, f->data, f->len, (uint8_t[64]){0}, 64) >
                    0);
    assert_int_equal(f->pkt_count,
                     (uint32_t)pack_count(RING_CODEC_H264, f->data, f->len, ring_reader_mtu(l->r)));
    if (l->have_prev) /* frames are 90000 / fps apart, across loops too */
        assert_int_equal(f->rtp_ts - l->last_ts, 90000 / l->fps);
    else if (l->after) /* after a restart: a pause, never a step back */
        assert_true((int32_t)(f->rtp_ts - l->after_ts) > 0);
    if (l->have_prev || l->after) /* packet numbers continue, across a restart too */
        assert_int_equal(f->first_pkt, l->next_pkt);
    if (!l->have_prev)
        l->first_arrival = f->arrival_ns;
    assert_true(ring_frame_still_valid(l->r, f));
    l->have_prev = true;
    l->last_ts = f->rtp_ts;
    l->next_pkt = f->first_pkt + f->pkt_count;
    l->last_arrival = f->arrival_ns;
    l->clip_i++;
}

static void on_ring(void *arg)
{
    struct live *l = arg;
    struct ring_frame f;
    while (!l->done && ring_reader_get(l->r, l->next, &f) == 1) {
        check_frame(l, &f);
        if (++l->next == l->first + l->want) {
            l->done = true;
            uv_stop(&l->loop);
        }
    }
}

static void on_timeout(uv_timer_t *t)
{
    uv_stop(t->loop);
}

/* The writer grew its ring (ring_writer_resize): read on from the new object, whose frame
 * numbers continue the old one's, as a worker does. */
static void on_follow(uv_timer_t *t)
{
    struct live *l = t->data;
    struct ring_reader *nr;
    char err[256];
    if (!ring_reader_retired(l->r) || ring_reader_open(&nr, l->name, err, sizeof(err)) < 0)
        return;
    doorbell_set_remove(l->w, ring_reader_doorbell(l->r));
    ring_reader_close(l->r);
    l->r = nr;
    l->grown++;
    assert_int_equal(doorbell_set_add(l->w, ring_reader_doorbell(l->r)), 0);
    on_ring(l);
}

/* A variable the integration test sets; its absence is a failure, not a reason to skip. */
static const char *need_env(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v)
        fail_msg("%s is not set: RCT_MODE=%s runs from test/integration/test_ingest_file", name,
                 getenv("RCT_MODE"));
    return v;
}

static unsigned env_uint(const char *name, unsigned dflt)
{
    const char *v = getenv(name);
    return v ? (unsigned)strtoul(v, NULL, 10) : dflt;
}

/* Waits (doorbell-driven, bounded) until want frames from l->first were checked. */
static void read_live(struct live *l)
{
    assert_int_equal(uv_loop_init(&l->loop), 0);
    uv_timer_init(&l->loop, &l->timeout);
    uv_timer_start(&l->timeout, on_timeout, 20000, 0);
    uv_timer_init(&l->loop, &l->follow);
    l->follow.data = l;
    uv_timer_start(&l->follow, on_follow, 10, 10);
    assert_int_equal(doorbell_set_init(&l->w, &l->loop, on_ring, l, 0), 0);
    assert_int_equal(doorbell_set_add(l->w, ring_reader_doorbell(l->r)), 0);
    on_ring(l); /* frames written before the waiter started */
    if (!l->done)
        uv_run(&l->loop, UV_RUN_DEFAULT);
    doorbell_set_free(l->w);
    uv_close((uv_handle_t *)&l->timeout, NULL);
    uv_close((uv_handle_t *)&l->follow, NULL);
    uv_run(&l->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&l->loop), 0);
    assert_true(l->done);
    /* Real time: want frames took about want / fps seconds (generous: shared CPUs). */
    double secs = (double)(l->last_arrival - l->first_arrival) / 1e9;
    double expect = (double)(l->want - 1) / l->fps;
    printf("# frames %llu..%llu in %.3f s (expected %.3f s)\n", (unsigned long long)l->first,
           (unsigned long long)(l->next - 1), secs, expect);
    assert_true(secs > expect * 0.9 && secs < expect * 1.25);
}

/* RCT_MODE=live: a fresh ring from frame 1; snapshot: the stopped writer's last frame
 * into RCT_STATE; after: a restarted writer continues the snapshot in RCT_STATE. */
static void on_stop_loop(uv_timer_t *t)
{
    uv_stop(t->loop);
}

/* Runs loop for ms milliseconds of wall time. */
static void run_for(uv_loop_t *loop, uv_timer_t *t, uint64_t ms)
{
    uv_update_time(loop); /* the loop's clock stood still during a stall */
    uv_timer_start(t, on_stop_loop, ms, 0);
    uv_run(loop, UV_RUN_DEFAULT);
}

static void on_source_closed(void *arg)
{
    *(int *)arg = 1;
}

/* An in-process file source at fps writing ring unit_ring ("rct-ingest-NAME-PID"). */
struct file_run {
    struct ingest *ing;
    uv_loop_t loop;
    uv_timer_t stop;
    struct source *src;
};

static void file_run_start(struct file_run *fr, const char *name, unsigned fps)
{
    char err[256];
    snprintf(unit_ring, sizeof(unit_ring), "rct-ingest-%s-%d", name, (int)getpid());
    struct ingest_opts o = {.path = name, .ring_name = unit_ring, .ring_bytes = 1 << 22};
    assert_int_equal(ingest_open(&fr->ing, &o, err, sizeof(err)), 0);
    struct config_path path = {.fps = fps};
    snprintf(path.name, sizeof(path.name), "%s", name);
    snprintf(path.source, sizeof(path.source), "file:%s", clip_path());
    assert_int_equal(uv_loop_init(&fr->loop), 0);
    uv_timer_init(&fr->loop, &fr->stop);
    assert_int_equal(file_source_create(&fr->src, &fr->loop, fr->ing, &path), 0);
    assert_int_equal(source_start(fr->src), 0);
}

static void file_run_end(struct file_run *fr)
{
    int closed = 0;
    source_close(fr->src, on_source_closed, &closed);
    uv_close((uv_handle_t *)&fr->stop, NULL);
    uv_run(&fr->loop, UV_RUN_DEFAULT);
    assert_int_equal(closed, 1);
    assert_int_equal(uv_loop_close(&fr->loop), 0);
    ingest_close(fr->ing);
}

/* After a stall (a stopped process, an overloaded machine) the file source resumes its pace
 * instead of writing every frame it missed as fast as the loop turns: a 1 s stall at 100 fps
 * used to burst 100 frames into the ring, lapping every viewer. The sleep is the stall being
 * tested, not a wait for an event. */
static void test_file_stall_no_burst(void **state)
{
    (void)state;
    struct file_run fr;
    file_run_start(&fr, "stall", 100);
    run_for(&fr.loop, &fr.stop, 50);
    uint64_t before = ingest_frames_written(fr.ing);
    assert_true(before >= 1);
    usleep(1000 * 1000);
    run_for(&fr.loop, &fr.stop, 100);
    uint64_t after = ingest_frames_written(fr.ing) - before;
    /* 100 ms at 100 fps is 10 frames; the catch-up of at most 8 and scheduling slack on a
     * busy machine stay far below the 100 a burst would add. */
    assert_true(after >= 5);
    assert_true(after <= 40);
    file_run_end(&fr);
}

/* Of the frames written since *next, the groups written in one wake-up (arrivals within 2 ms
 * of the one before): frames / groups is how many frames a wake-up wrote on average. */
static void count_writes(struct ring_reader **r, uint64_t *next, unsigned *frames, unsigned *groups)
{
    struct ring_frame f;
    uint64_t prev = 0;
    char err[256];
    if (ring_reader_retired(*r)) { /* grown: the new object continues the numbering */
        ring_reader_close(*r);
        assert_int_equal(ring_reader_open(r, unit_ring, err, sizeof(err)), 0);
    }
    *frames = *groups = 0;
    for (; ring_reader_get(*r, *next, &f) == 1; (*next)++) {
        if (!prev || f.arrival_ns - prev > 2000000)
            (*groups)++;
        (*frames)++;
        prev = f.arrival_ns;
    }
}

/* A path nobody watches is written a few frames per wake-up (at 30 fps, 3 every 100 ms); once
 * a reader holds a lease on its ring (ring_reader_keep_watched, as a worker with viewers
 * does), each frame as it is due; when the lease lapses, in batches again. */
static void test_file_batches_unwatched(void **state)
{
    (void)state;
    char err[256];
    struct file_run fr;
    file_run_start(&fr, "lazy", 30);
    struct ring_reader *r;
    assert_int_equal(ring_reader_open(&r, unit_ring, err, sizeof(err)), 0);
    uint64_t next = 1;
    unsigned frames, groups;

    run_for(&fr.loop, &fr.stop, 1000);
    count_writes(&r, &next, &frames, &groups);
    printf("# unwatched: %u frames in %u writes\n", frames, groups);
    assert_true(frames >= 20 && groups * 2 <= frames);

    ring_reader_keep_watched(r, ctl_now_ns() + 600000000ull);
    run_for(&fr.loop, &fr.stop, 150); /* the batch under way when the lease came */
    count_writes(&r, &next, &frames, &groups);
    run_for(&fr.loop, &fr.stop, 400);
    count_writes(&r, &next, &frames, &groups);
    printf("# watched: %u frames in %u writes\n", frames, groups);
    assert_true(frames >= 8 && groups * 10 >= frames * 9);

    run_for(&fr.loop, &fr.stop, 300); /* the lease lapses */
    count_writes(&r, &next, &frames, &groups);
    run_for(&fr.loop, &fr.stop, 1000);
    count_writes(&r, &next, &frames, &groups);
    printf("# lapsed: %u frames in %u writes\n", frames, groups);
    assert_true(frames >= 20 && groups * 2 <= frames);

    ring_reader_close(r);
    file_run_end(&fr);
}

/* Attaches to the ring another process writes, which may be growing it right now (ring.h):
 * tried for up to a second. */
static struct ring_reader *open_ring_of_process(const char *name)
{
    struct ring_reader *r;
    char err[256];
    int e;
    for (int i = 0; (e = ring_reader_open(&r, name, err, sizeof(err))) < 0 && i < 100; i++)
        usleep(10000);
    if (e < 0)
        fail_msg("%s", err);
    return r;
}

static void test_ring_from_process(void **state)
{
    (void)state;
    const char *name = need_env("RCT_RING"), *mode = need_env("RCT_MODE");
    const char *file = need_env("RCT_STATE");
    struct live l = {
        .name = name, .fps = env_uint("RCT_FPS", 30), .want = env_uint("RCT_FRAMES", 400)};
    l.r = open_ring_of_process(name);
    assert_int_equal(ring_reader_mtu(l.r), 1200);
    struct ring_track t;
    assert_int_equal(ring_reader_track(l.r, 0, &t, NULL), 0);
    assert_int_equal(t.codec, RING_CODEC_H264);
    assert_int_equal(t.clock_rate, 90000);
    assert_true(t.params_len > 8);
    if (strcmp(mode, "snapshot") == 0) {
        assert_int_equal(ring_reader_writer_pid(l.r), 0); /* closed in order */
        struct ring_frame f;
        uint64_t last = ring_reader_head(l.r) - 1;
        assert_int_equal(ring_reader_get(l.r, last, &f), 1);
        FILE *out = fopen(file, "w");
        assert_non_null(out);
        fprintf(out, "%llu %u %llu %u\n", (unsigned long long)last, f.rtp_ts,
                (unsigned long long)(f.first_pkt + f.pkt_count), ring_reader_generation(l.r));
        fclose(out);
    } else if (strcmp(mode, "after") == 0) {
        FILE *in = fopen(file, "r");
        assert_non_null(in);
        unsigned long long last, next_pkt;
        unsigned gen;
        assert_int_equal(fscanf(in, "%llu %u %llu %u", &last, &l.after_ts, &next_pkt, &gen), 4);
        fclose(in);
        /* The restarted writer continues the ring at the size it grew to: one generation on
         * (more if it grows further). */
        assert_true(ring_reader_generation(l.r) > gen);
        l.after = true;
        l.first = l.next = last + 1;
        l.next_pkt = next_pkt;
        read_live(&l);
    } else {
        /* A fresh ring from frame 1; its generations so far are its growths (ringsize.h). */
        assert_true(ring_reader_generation(l.r) >= 1);
        l.first = l.next = 1;
        read_live(&l);
        printf("# the ring grew %u times while read\n", l.grown);
    }
    ring_reader_close(l.r);
}

/* ---- the control-slot contract (RCT_MODE=supervised) ---- */

static pid_t child;

static int kill_child(void **state)
{
    (void)state;
    if (child > 0) {
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        child = 0;
    }
    return 0;
}

struct bell {
    uv_loop_t loop;
    uv_timer_t timeout;
    struct ctl_child *slot;
    uint64_t want;
    int rings;
};

static void on_ctl_bell(void *arg)
{
    struct bell *b = arg;
    b->rings++;
    if (ctl_read(&b->slot->counters.frames_written) >= b->want)
        uv_stop(&b->loop);
}

static void test_supervised_slot(void **state)
{
    (void)state;
    const char *bin = need_env("RCT_BIN"), *conf = need_env("RCT_CONF");
    const char *prefix = need_env("RCT_PREFIX");
    struct ctl ctl;
    assert_int_equal(ctl_create(&ctl, prefix), 0);
    const unsigned slot_no = 5;
    struct ctl_child *slot = ctl_slot(&ctl, slot_no);
    child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive a failed test */
        execl(bin, bin, "-c", conf, "--path", "demo", "--ctl-slot", "5", (char *)NULL);
        _exit(127);
    }
    /* Wait on the control doorbell (not the ring's) until 60 frames were counted. */
    struct bell b = {.slot = slot, .want = 60};
    struct doorbell_set *w;
    assert_int_equal(uv_loop_init(&b.loop), 0);
    uv_timer_init(&b.loop, &b.timeout);
    uv_timer_start(&b.timeout, on_timeout, 10000, 0);
    assert_int_equal(doorbell_set_init(&w, &b.loop, on_ctl_bell, &b, 0), 0);
    assert_int_equal(doorbell_set_add(w, &ctl.hdr->doorbell), 0);
    uv_run(&b.loop, UV_RUN_DEFAULT);
    doorbell_set_free(w);
    uv_close((uv_handle_t *)&b.timeout, NULL);
    uv_run(&b.loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&b.loop), 0);
    assert_true(ctl_read(&slot->counters.frames_written) >= b.want);
    assert_true(b.rings > 0);
    assert_int_equal(atomic_load(&slot->pid), child);
    uint64_t hb = atomic_load(&slot->heartbeat_ns), now = ctl_now_ns();
    assert_true(hb > 0 && now - hb < 2000000000ull); /* beats every 500 ms */
    assert_int_equal(ctl_read(&slot->counters.frames_dropped), 0);
    /* The slot's count matches the ring's frames. */
    char name[96];
    snprintf(name, sizeof(name), "%s.demo", prefix);
    struct ring_reader *r = open_ring_of_process(name);
    assert_int_equal(kill(child, SIGTERM), 0);
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    child = 0;
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    if (ring_reader_retired(r)) { /* grown since: the new object holds the count */
        ring_reader_close(r);
        r = open_ring_of_process(name);
    }
    assert_int_equal(ctl_read(&slot->counters.frames_written), ring_reader_head(r) - 1);
    ring_reader_close(r);
    ctl_free(&ctl);
}

/* Without RCT_MODE: the in-process tests. With it, only the check of a real ringcast-ingest
 * that test/integration/test_ingest_file asked for, which then fails on a missing variable. */
int main(void)
{
    const struct CMUnitTest unit[] = {
        cmocka_unit_test(test_split_matches_ffprobe),
        cmocka_unit_test(test_frame_time_long_run),
        cmocka_unit_test_teardown(test_pipeline_in_process, unlink_unit_ring),
        cmocka_unit_test_teardown(test_file_stall_no_burst, unlink_unit_ring),
        cmocka_unit_test_teardown(test_file_batches_unwatched, unlink_unit_ring),
    };
    const struct CMUnitTest process[] = {cmocka_unit_test(test_ring_from_process)};
    const struct CMUnitTest supervised[] = {
        cmocka_unit_test_teardown(test_supervised_slot, kill_child)};
    const char *mode = getenv("RCT_MODE");
    if (!mode)
        return cmocka_run_group_tests(unit, load_clip, free_clip);
    if (strcmp(mode, "supervised") == 0)
        return cmocka_run_group_tests(supervised, load_clip, free_clip);
    return cmocka_run_group_tests(process, load_clip, free_clip);
}
