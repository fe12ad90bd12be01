/* SPDX-License-Identifier: MIT */
/* test_ringsize.c: rings sized by time: the sizing decisions (ingest/ringsize.c) for a 2 Mbit/s
 * camera with a 2 s GOP, a big keyframe, the ring_mb bound, lost frames; the ring's usage count
 * and its resize (shm/ring.c): frames, numbering and tracks carried over, a new generation,
 * the old object retired, a restarted writer keeping the grown geometry. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "ingest/ringsize.h"
#include "shm/ring.h"

#define S 1000000000ull

static void test_from_ns(void **state)
{
    (void)state;
    uint64_t now = 100 * S;
    /* auto: the NACK window behind the latest keyframe */
    assert_int_equal(ringsize_from_ns(now, 0, 98 * S), 97 * S);
    /* auto before any keyframe: RINGSIZE_HOLD_NS */
    assert_int_equal(ringsize_from_ns(now, 0, 0), 97 * S);
    /* ring_seconds = 10 */
    assert_int_equal(ringsize_from_ns(now, 10, 98 * S), 90 * S);
    assert_int_equal(ringsize_from_ns(5 * S, 10, 0), 0);
}

/* 2 Mbit/s, 30 fps, a 2 s GOP: the most ever held is the GOP plus the second behind its
 * keyframe, 3 s = 750 kB in 90 frames: a 1 MiB ring of 128 slots, from the initial one. */
static void test_camera_2mbit(void **state)
{
    (void)state;
    struct ringsize cur = {RINGSIZE_INITIAL_SLOTS, RINGSIZE_INITIAL_DATA}, next;
    struct ring_usage u = {.bytes = 750000, .frames = 90};
    assert_true(ringsize_plan(&cur, &u, 8000, 16u << 20, &next));
    assert_int_equal(next.data, 1u << 20);
    assert_int_equal(next.slots, 128);
    /* Then it fits: no further growth at the same rate. */
    assert_false(ringsize_plan(&next, &u, 8000, 16u << 20, &cur));
    /* Halfway through a GOP it fitted the initial ring. */
    struct ring_usage half = {.bytes = 200000, .frames = 40};
    cur = (struct ringsize){RINGSIZE_INITIAL_SLOTS, RINGSIZE_INITIAL_DATA};
    assert_false(ringsize_plan(&cur, &half, 8000, 16u << 20, &next));
}

/* A longer GOP (10 s at 30 fps, 300 frames) needs more slots and bytes. */
static void test_long_gop(void **state)
{
    (void)state;
    struct ringsize cur = {128, 1u << 20}, next;
    struct ring_usage u = {.bytes = 1100000, .frames = 300};
    assert_true(ringsize_plan(&cur, &u, 8000, 16u << 20, &next));
    assert_int_equal(next.slots, 512);
    assert_int_equal(next.data, 2u << 20);
}

/* A frame above a quarter of the ring (its frame limit) grows it first. */
static void test_big_keyframe(void **state)
{
    (void)state;
    struct ringsize cur = {128, 256u << 10}, next;
    struct ring_usage u = {.bytes = 10000, .frames = 2};
    assert_true(ringsize_plan(&cur, &u, 300000, 16u << 20, &next));
    assert_true(next.data >= 4 * 300000);
    assert_int_equal(next.slots, 128);
}

/* ring_mb bounds the growth; at the bound there is nothing to do. */
static void test_bounded(void **state)
{
    (void)state;
    struct ringsize cur = {128, 1u << 20}, next;
    struct ring_usage u = {.bytes = 3000000, .frames = 100};
    assert_true(ringsize_plan(&cur, &u, 8000, 2u << 20, &next));
    assert_int_equal(next.data, 2u << 20);
    assert_false(ringsize_plan(&next, &u, 8000, 2u << 20, &cur));
    /* Slots stop at RINGSIZE_MAX_SLOTS. */
    struct ringsize many = {RINGSIZE_MAX_SLOTS, 16u << 20};
    struct ring_usage f = {.bytes = 1000, .frames = RINGSIZE_MAX_SLOTS + 5};
    assert_false(ringsize_plan(&many, &f, 100, 16u << 20, &next));
}

/* Needed frames already overwritten: their size is unknown, the ring doubles. */
static void test_lost(void **state)
{
    (void)state;
    struct ringsize cur = {128, 1u << 20}, next;
    struct ring_usage u = {.bytes = 900000, .frames = 100, .lost = true};
    assert_true(ringsize_plan(&cur, &u, 8000, 16u << 20, &next));
    assert_int_equal(next.data, 2u << 20);
    assert_int_equal(next.slots, 256);
}

static char name[64];

static int setup(void **state)
{
    (void)state;
    snprintf(name, sizeof(name), "rct-rsize-%d", (int)getpid());
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char shm[80];
    snprintf(shm, sizeof(shm), "/%s", name);
    shm_unlink(shm);
    return 0;
}

static int64_t put(struct ring_writer *w, bool key, size_t len, uint32_t ts)
{
    static uint8_t buf[70000];
    memset(buf, (int)(ts & 0xff), len);
    return ring_writer_write(w, 0, key ? RING_FRAME_KEY : 0, ts, (uint32_t)(len / 1000 + 1), buf,
                             len);
}

/* Usage counts from the older of the keep frame and the first frame since from_ns. */
static void test_usage(void **state)
{
    (void)state;
    char err[160];
    struct ring_writer *w;
    struct ring_writer_opts o = {.slot_count = 16, .data_size = 64u << 10, .mtu = 1200};
    assert_int_equal(ring_writer_open(&w, name, &o, err, sizeof(err)), 0);
    struct ring_track t = {.codec = RING_CODEC_H264, .clock_rate = 90000, .channels = 1};
    assert_int_equal(ring_writer_set_track(w, 0, &t), 0);
    for (int i = 0; i < 10; i++)
        assert_true(put(w, i == 2, 1000, (uint32_t)i * 3000) > 0);
    struct ring_usage u;
    ring_writer_usage(w, UINT64_MAX, 3, &u); /* keep frame 3 (the keyframe): 8 frames */
    assert_int_equal(u.frames, 8);
    assert_int_equal(u.bytes, 8000);
    assert_false(u.lost);
    ring_writer_usage(w, 0, 0, &u); /* everything since time 0 */
    assert_int_equal(u.frames, 10);
    ring_writer_usage(w, UINT64_MAX, 0, &u); /* nothing needed */
    assert_int_equal(u.frames, 0);
    for (int i = 0; i < 10; i++) /* 20 frames written into 16 slots: frame 3 is gone */
        assert_true(put(w, false, 1000, (uint32_t)(10 + i) * 3000) > 0);
    ring_writer_usage(w, UINT64_MAX, 3, &u);
    assert_true(u.lost);
    assert_int_equal(u.frames, 16);
    ring_writer_close(w, true);
}

/* A resize moves every frame to a larger object under the same name: the reader of the old
 * one sees it retired, a new reader finds the same frames (numbers, packet numbers, bytes),
 * the track, a new generation; writing continues the numbering; a restarted writer asked for
 * a smaller ring keeps the grown geometry (keep_up_to). */
static void test_resize(void **state)
{
    (void)state;
    char err[160];
    struct ring_writer *w;
    struct ring_writer_opts o = {.slot_count = 16, .data_size = 64u << 10, .mtu = 1200};
    assert_int_equal(ring_writer_open(&w, name, &o, err, sizeof(err)), 0);
    struct ring_track t = {.codec = RING_CODEC_H264, .clock_rate = 90000, .channels = 1};
    assert_int_equal(ring_writer_set_track(w, 0, &t), 0);
    for (int i = 0; i < 20; i++) /* wraps the 16 slots */
        assert_true(put(w, i % 8 == 0, 3000, (uint32_t)i * 3000) > 0);
    struct ring_reader *old;
    assert_int_equal(ring_reader_open(&old, name, err, sizeof(err)), 0);
    uint64_t key = ring_reader_latest_keyframe(old, 0), next_pkt = ring_reader_next_pkt(old, 0);
    assert_int_equal(key, 17);
    assert_false(ring_reader_retired(old));

    assert_int_equal(ring_writer_resize(w, 8, 1u << 20, err, sizeof(err)), -EINVAL); /* shrink */
    assert_int_equal(ring_writer_resize(w, 64, 1u << 20, err, sizeof(err)), 0);
    assert_true(ring_reader_retired(old));
    assert_int_equal(ring_reader_replaced(old), 1);
    assert_int_equal(ring_writer_slot_count(w), 64);
    assert_int_equal(ring_writer_data_size(w), 1u << 20);

    struct ring_reader *r;
    assert_int_equal(ring_reader_open(&r, name, err, sizeof(err)), 0);
    assert_false(ring_reader_retired(r));
    assert_int_equal(ring_reader_generation(r), ring_reader_generation(old) + 1);
    assert_int_equal(ring_reader_head(r), 21);
    assert_int_equal(ring_reader_latest_keyframe(r, 0), key);
    assert_int_equal(ring_reader_next_pkt(r, 0), next_pkt);
    struct ring_track rt;
    assert_int_equal(ring_reader_track(r, 0, &rt, NULL), 0);
    assert_int_equal(rt.codec, RING_CODEC_H264);
    for (uint64_t seq = 5; seq <= 20; seq++) { /* the 16 frames the old ring still held */
        struct ring_frame a, b;
        assert_int_equal(ring_reader_get(old, seq, &a), 1);
        assert_int_equal(ring_reader_get(r, seq, &b), 1);
        assert_int_equal(a.first_pkt, b.first_pkt);
        assert_int_equal(a.rtp_ts, b.rtp_ts);
        assert_int_equal(a.arrival_ns, b.arrival_ns);
        assert_int_equal(a.flags, b.flags);
        assert_int_equal(a.len, b.len);
        assert_memory_equal(a.data, b.data, a.len);
    }
    assert_true(ring_reader_seek(r, 17));
    assert_int_equal(put(w, false, 3000, 20 * 3000), 21);
    struct ring_frame f;
    for (uint64_t seq = 17; seq <= 21; seq++) {
        assert_int_equal(ring_reader_next(r, &f), 1);
        assert_int_equal(f.seq, seq);
    }
    assert_int_equal(f.first_pkt, next_pkt);
    assert_int_equal(ring_reader_head(old), 21); /* the old object got nothing more */
    ring_reader_close(old);

    ring_writer_close(w, false);
    o.keep_up_to = 16u << 20;
    assert_int_equal(ring_writer_open(&w, name, &o, err, sizeof(err)), 0);
    assert_int_equal(ring_writer_slot_count(w), 64);
    assert_int_equal(ring_writer_data_size(w), 1u << 20);
    assert_int_equal(ring_writer_next_seq(w), 22);
    ring_writer_close(w, false);
    o.keep_up_to = 512u << 10; /* ring_mb lowered below it: replaced */
    assert_int_equal(ring_writer_open(&w, name, &o, err, sizeof(err)), 0);
    assert_int_equal(ring_writer_data_size(w), 64u << 10);
    ring_writer_close(w, true);
    ring_reader_close(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_from_ns),
        cmocka_unit_test(test_camera_2mbit),
        cmocka_unit_test(test_long_gop),
        cmocka_unit_test(test_big_keyframe),
        cmocka_unit_test(test_bounded),
        cmocka_unit_test(test_lost),
        cmocka_unit_test_setup_teardown(test_usage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resize, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
