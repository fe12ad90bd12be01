/* SPDX-License-Identifier: MIT */
/* test_ring.c: the frame ring in one process: every writer and reader operation, wrap-around
 * of slots and payload bytes, NACK lookups across the 16-bit wrap, laps and resync, writer
 * restarts, refused attachments with their messages, the futex doorbell across fork, and the
 * readers' lease that tells the writer someone waits for each frame. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "shm/doorbell.h"
#include "shm/ring.h"

static char name[64];
static char err[256];

static int setup(void **state)
{
    (void)state;
    snprintf(name, sizeof(name), "rct-unit-%d", (int)getpid());
    err[0] = '\0';
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

static struct ring_writer *open_writer_mtu(uint32_t slots, uint64_t data, uint32_t mtu)
{
    struct ring_writer_opts o = {.slot_count = slots, .data_size = data, .mtu = mtu};
    struct ring_writer *w = NULL;
    int e = ring_writer_open(&w, name, &o, err, sizeof(err));
    if (e < 0)
        fail_msg("ring_writer_open: %d %s", e, err);
    return w;
}

static struct ring_writer *open_writer(uint32_t slots, uint64_t data)
{
    return open_writer_mtu(slots, data, 1200);
}

static struct ring_reader *open_reader(void)
{
    struct ring_reader *r = NULL;
    int e = ring_reader_open(&r, name, err, sizeof(err));
    if (e < 0)
        fail_msg("ring_reader_open: %d %s", e, err);
    return r;
}

static void declare_video(struct ring_writer *w, unsigned idx)
{
    struct ring_track t = {.codec = RING_CODEC_H264, .clock_rate = 90000, .channels = 1};
    assert_int_equal(ring_writer_set_track(w, idx, &t), 0);
}

/* Frame payloads are a pattern derived from their length and a tag, so any overwrite or
 * misplaced byte shows. */
static void fill(uint8_t *buf, size_t len, uint32_t tag)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(tag * 31 + i * 7 + (i >> 8));
}

static void assert_pattern(const uint8_t *p, size_t len, uint32_t tag)
{
    static uint8_t want[1 << 16];
    assert_true(len <= sizeof(want));
    fill(want, len, tag);
    assert_memory_equal(p, want, len);
}

static int64_t write_tagged(struct ring_writer *w, unsigned track, uint32_t flags, uint32_t ts,
                            uint32_t pkts, size_t len, uint32_t tag)
{
    static uint8_t buf[1 << 16];
    assert_true(len <= sizeof(buf));
    fill(buf, len, tag);
    return ring_writer_write(w, track, flags, ts, pkts, buf, len);
}

static void test_write_read(void **state)
{
    (void)state;
    struct ring_writer *w = open_writer(16, 1 << 16);
    declare_video(w, 0);
    struct ring_reader *r = open_reader();
    struct ring_frame f;
    assert_int_equal(ring_reader_next(r, &f), 0);
    assert_int_equal(ring_reader_head(r), 1);
    assert_int_equal(ring_reader_mtu(r), 1200);
    assert_int_equal(ring_reader_generation(r), 1);
    assert_int_equal(ring_reader_writer_pid(r), getpid());
    assert_true(ring_reader_heartbeat(r) > 0);

    assert_int_equal(write_tagged(w, 0, RING_FRAME_KEY, 1000, 3, 3000, 1), 1);
    assert_int_equal(write_tagged(w, 0, 0, 4000, 1, 10, 2), 2);
    assert_int_equal(write_tagged(w, 0, 0, 7000, 2, 0, 3), 3);

    assert_int_equal(ring_reader_next(r, &f), 1);
    assert_int_equal(f.seq, 1);
    assert_int_equal(f.len, 3000);
    assert_int_equal(f.flags, RING_FRAME_KEY);
    assert_int_equal(f.first_pkt, 0);
    assert_int_equal(f.pkt_count, 3);
    assert_int_equal(f.rtp_ts, 1000);
    assert_int_equal(f.track, 0);
    assert_pattern(f.data, f.len, 1);
    assert_true(ring_frame_still_valid(r, &f));
    assert_int_equal(ring_reader_next(r, &f), 1);
    assert_int_equal(f.seq, 2);
    assert_int_equal(f.first_pkt, 3);
    assert_int_equal(f.rtp_ts, 4000);
    assert_pattern(f.data, f.len, 2);
    assert_int_equal(ring_reader_next(r, &f), 1);
    assert_int_equal(f.len, 0);
    assert_int_equal(f.first_pkt, 4);
    assert_int_equal(ring_reader_next(r, &f), 0);

    assert_int_equal(ring_reader_get(r, 1, &f), 1);
    assert_pattern(f.data, f.len, 1);
    assert_int_equal(ring_reader_get(r, 4, &f), 0);
    assert_int_equal(ring_reader_get(r, 0, &f), 0);
    assert_int_equal(ring_reader_latest_keyframe(r, 0), 1);
    assert_int_equal(ring_reader_latest_keyframe(r, 1), 0);
    assert_int_equal(ring_reader_seek_keyframe(r, 0), 1);
    assert_int_equal(ring_reader_next(r, &f), 1);
    assert_int_equal(f.seq, 1);

    ring_reader_close(r);
    ring_writer_close(w, true);
}

static void test_writer_errors(void **state)
{
    (void)state;
    struct ring_writer *w = open_writer(16, 1 << 16);
    uint8_t b[1] = {0};
    assert_int_equal(ring_writer_write(w, RING_MAX_TRACKS, 0, 0, 1, b, 1), -EINVAL);
    assert_int_equal(write_tagged(w, 0, 0, 0, 1, (1 << 14) + 1, 1), -EMSGSIZE);
    assert_int_equal(write_tagged(w, 0, 0, 0, 1, 1 << 14, 1), 1);
    struct ring_writer *w2 = NULL;
    struct ring_writer_opts o = {.slot_count = 16, .data_size = 1 << 16};
    assert_int_equal(ring_writer_open(&w2, name, &o, err, sizeof(err)), -EBUSY);
    assert_non_null(strstr(err, "another writer"));
    o.slot_count = 12;
    assert_int_equal(ring_writer_open(&w2, name, &o, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "bad geometry"));
    assert_int_equal(ring_writer_open(&w2, "a/b", NULL, err, sizeof(err)), -EINVAL);
    ring_writer_close(w, true);
}

static void test_slot_wrap(void **state)
{
    (void)state;
    struct ring_writer *w = open_writer(8, 1 << 16);
    declare_video(w, 0);
    struct ring_reader *r = open_reader();
    struct ring_frame f;
    for (uint32_t i = 1; i <= 50; i++) {
        assert_int_equal(write_tagged(w, 0, 0, i * 3000, 1, 100 + i, i), i);
        assert_int_equal(ring_reader_next(r, &f), 1);
        assert_int_equal(f.seq, i);
        assert_pattern(f.data, f.len, i);
        assert_true(ring_frame_still_valid(r, &f));
    }
    /* Only the last slot_count frames are reachable. */
    assert_int_equal(ring_reader_get(r, 42, &f), 0);
    assert_int_equal(ring_reader_get(r, 43, &f), 1);
    assert_int_equal(ring_reader_get(r, 50, &f), 1);
    ring_reader_close(r);
    ring_writer_close(w, true);
}

static void test_data_wrap(void **state)
{
    (void)state;
    struct ring_writer *w = open_writer(64, 4096);
    declare_video(w, 0);
    struct ring_reader *r = open_reader();
    struct ring_frame f, old;
    uint64_t last_pos = 0;
    for (uint32_t i = 1; i <= 40; i++) {
        assert_true(write_tagged(w, 0, 0, i, 1, 700 + i * 3, i) > 0);
        assert_int_equal(ring_reader_next(r, &f), 1);
        /* Contiguous: the frame never straddles the end of the byte ring. */
        assert_true((f.data_pos & 4095) + f.len <= 4096);
        assert_true(f.data_pos >= last_pos);
        last_pos = f.data_pos + f.len;
        assert_pattern(f.data, f.len, i);
        if (i == 1)
            old = f;
    }
    /* Frame 1's bytes were overwritten although its slot was not reused. */
    assert_false(ring_frame_still_valid(r, &old));
    assert_int_equal(ring_reader_get(r, 1, &f), 0);
    assert_int_equal(ring_reader_get(r, 40, &f), 1);
    ring_reader_close(r);
    ring_writer_close(w, true);
}

static void test_lap_resync(void **state)
{
    (void)state;
    struct ring_writer *w = open_writer(16, 1 << 16);
    declare_video(w, 1); /* the first video track need not be track 0 */
    struct ring_track audio = {.codec = RING_CODEC_OPUS, .clock_rate = 48000, .channels = 2};
    assert_int_equal(ring_writer_set_track(w, 0, &audio), 0);
    struct ring_reader *r = open_reader();
    struct ring_frame f, held;
    assert_true(write_tagged(w, 1, RING_FRAME_KEY, 0, 1, 100, 1) > 0);
    assert_int_equal(ring_reader_next(r, &f), 1);
    held = f;
    for (uint32_t i = 2; i <= 40; i++) {
        uint32_t flags = (i % 10 == 5) ? RING_FRAME_KEY : 0; /* odd i: video */
        assert_true(write_tagged(w, i % 2, flags, i, 1, 100, i) > 0);
    }
    assert_false(ring_frame_still_valid(r, &held)); /* slot 1 reused by frame 17 and 33 */
    assert_int_equal(ring_reader_next(r, &f), -ESTALE);
    assert_int_equal(ring_reader_next(r, &f), 1);
    assert_int_equal(f.seq, 35);
    assert_int_equal(f.flags, RING_FRAME_KEY);
    assert_int_equal(f.track, 1);
    assert_pattern(f.data, f.len, 35);

    /* Laps by payload bytes alone: big frames overwrite data while slots remain. */
    for (uint32_t i = 41; i <= 44; i++)
        assert_true(write_tagged(w, 1, 0, i, 1, 16384, i) > 0);
    assert_int_equal(ring_reader_next(r, &f), -ESTALE);
    /* The keyframe (35) is gone too, so the reader lands at the live edge. */
    assert_int_equal(ring_reader_next(r, &f), 0);
    assert_int_equal(write_tagged(w, 1, 0, 45, 1, 5, 45), 45);
    assert_int_equal(ring_reader_next(r, &f), 1);
    assert_int_equal(f.seq, 45);
    ring_reader_close(r);
    ring_writer_close(w, true);
}

/* Track 0 video, track 1 Opus. */
static void declare_video_audio(struct ring_writer *w)
{
    declare_video(w, 0);
    struct ring_track audio = {.codec = RING_CODEC_OPUS, .clock_rate = 48000, .channels = 2};
    assert_int_equal(ring_writer_set_track(w, 1, &audio), 0);
}

static void test_find_packet_wrap(void **state)
{
    (void)state;
    struct ring_writer *w = open_writer(64, 1 << 16);
    declare_video_audio(w);
    struct ring_reader *r = open_reader();
    struct ring_frame f;
    uint32_t idx = 99;
    assert_int_equal(ring_reader_find_packet(r, 0, 0, &f, &idx), 0); /* nothing yet */
    /* 35 video frames of 2000 packets (0..69999, crossing 65536) interleaved with audio. */
    for (uint32_t i = 0; i < 35; i++) {
        assert_true(write_tagged(w, 0, 0, i * 3000, 2000, 10, 2 * i) > 0);
        assert_true(write_tagged(w, 1, 0, i * 960, 1, 10, 2 * i + 1) > 0);
    }
    /* Ring holds frames 7..70: video frames 3..34 (seq 7..69, first_pkt 6000..68000). */
    assert_int_equal(ring_reader_find_packet(r, 0, 65535, &f, &idx), 1);
    assert_int_equal(f.first_pkt, 64000);
    assert_int_equal(idx, 1535);
    assert_int_equal(ring_reader_find_packet(r, 0, 0, &f, &idx), 1); /* 65536 */
    assert_int_equal(f.first_pkt, 64000);
    assert_int_equal(idx, 1536);
    assert_int_equal(ring_reader_find_packet(r, 0, (uint16_t)69999, &f, &idx), 1);
    assert_int_equal(f.seq, 69);
    assert_int_equal(idx, 1999);
    assert_int_equal(ring_reader_find_packet(r, 0, 6000, &f, &idx), 1);
    assert_int_equal(f.seq, 7);
    assert_int_equal(idx, 0);
    assert_int_equal(ring_reader_find_packet(r, 0, 5999, &f, &idx), 0);            /* overwritten */
    assert_int_equal(ring_reader_find_packet(r, 0, (uint16_t)70000, &f, &idx), 0); /* future */
    /* Audio keeps its own numbering: packets 0..34, of which 3..34 are in the ring. */
    assert_int_equal(ring_reader_find_packet(r, 1, 34, &f, &idx), 1);
    assert_int_equal(f.seq, 70);
    assert_int_equal(idx, 0);
    assert_int_equal(ring_reader_find_packet(r, 1, 3, &f, &idx), 1);
    assert_int_equal(f.seq, 8);
    assert_int_equal(ring_reader_find_packet(r, 1, 2, &f, &idx), 0);
    assert_int_equal(ring_reader_find_packet(r, 2, 0, &f, &idx), 0);
    ring_reader_close(r);
    ring_writer_close(w, true);
}

/* find_packet against a brute-force answer: two interleaved tracks of frames of 1..40
 * packets (video three frames in four, runs of one track), three times around a 64-slot ring,
 * every packet number from long overwritten to the newest, as the 16-bit NACK carries it. */
static void test_find_packet_search(void **state)
{
    (void)state;
    struct ring_writer *w = open_writer(64, 1 << 16);
    declare_video_audio(w);
    struct ring_reader *r = open_reader();
    enum { N = 200 };
    static struct {
        uint64_t seq, first;
        uint32_t track, count;
    } wr[N];
    uint64_t next[2] = {0, 0};
    unsigned rnd = 12345;
    for (unsigned i = 0; i < N; i++) {
        rnd = rnd * 1103515245u + 12345u;
        uint32_t t = (rnd >> 16) % 4 == 0, count = t ? 1 : 1 + (rnd >> 8) % 40;
        int64_t seq = write_tagged(w, t, 0, i * 3000, count, 10, i);
        assert_true(seq > 0);
        wr[i].seq = (uint64_t)seq;
        wr[i].track = t;
        wr[i].first = next[t];
        wr[i].count = count;
        next[t] += count;
    }
    uint64_t head = ring_reader_head(r);
    for (uint32_t t = 0; t < 2; t++) {
        for (uint64_t want = 0; want < next[t]; want++) {
            int expect = -1;
            for (unsigned i = 0; i < N; i++)
                if (wr[i].track == t && head - wr[i].seq <= 64 && wr[i].first <= want &&
                    want < wr[i].first + wr[i].count)
                    expect = (int)i;
            struct ring_frame f;
            uint32_t idx = 0;
            int got = ring_reader_find_packet(r, t, (uint16_t)want, &f, &idx);
            assert_int_equal(got, expect >= 0);
            if (expect >= 0) {
                assert_int_equal(f.seq, wr[expect].seq);
                assert_int_equal(idx, want - wr[expect].first);
            }
        }
    }
    ring_reader_close(r);
    ring_writer_close(w, true);
}

static void test_reopen_continues(void **state)
{
    (void)state;
    struct ring_writer *w = open_writer(16, 1 << 16);
    declare_video(w, 0);
    struct ring_reader *r = open_reader();
    struct ring_frame f;
    assert_true(write_tagged(w, 0, RING_FRAME_KEY, 5000, 4, 10, 1) > 0);
    assert_true(write_tagged(w, 0, 0, 8000, 4, 10, 2) > 0);
    uint64_t beat = ring_reader_heartbeat(r);
    ring_writer_heartbeat(w);
    assert_true(ring_reader_heartbeat(r) > beat);
    ring_writer_close(w, false); /* as if the ingest died: the object stays */
    assert_int_equal(ring_reader_writer_pid(r), 0);

    w = open_writer(16, 1 << 16);
    assert_int_equal(ring_reader_generation(r), 2);
    declare_video(w, 0);
    /* The new source starts its timestamps anywhere; the ring continues past 8000. */
    assert_int_equal(write_tagged(w, 0, RING_FRAME_KEY, 123, 4, 10, 3), 3);
    assert_int_equal(write_tagged(w, 0, 0, 3123, 4, 10, 4), 4);
    assert_int_equal(ring_reader_next(r, &f), 1);
    assert_int_equal(f.seq, 1);
    assert_int_equal(ring_reader_next(r, &f), 1);
    assert_int_equal(f.rtp_ts, 8000);
    assert_int_equal(ring_reader_next(r, &f), 1);
    assert_int_equal(f.seq, 3);
    assert_int_equal(f.first_pkt, 8);
    uint32_t after = f.rtp_ts;
    assert_true((int32_t)(after - 8000) >= 1);
    assert_true((int32_t)(after - 8000) < 90000 * 5); /* the wall-clock gap, not a jump */
    assert_pattern(f.data, f.len, 3);
    assert_int_equal(ring_reader_next(r, &f), 1);
    assert_int_equal(f.rtp_ts, after + 3000);

    /* An explicit rebase (file loop) also continues: src_ts jumps back to 0. */
    ring_writer_rebase(w, 0);
    assert_int_equal(write_tagged(w, 0, 0, 0, 4, 10, 5), 5);
    assert_int_equal(ring_reader_next(r, &f), 1);
    assert_true((int32_t)(f.rtp_ts - (after + 3000)) >= 1);
    assert_int_equal(f.first_pkt, 16);
    ring_writer_close(w, false);

    /* Another geometry replaces the ring: a fresh generation, and old readers learn it. */
    assert_int_equal(ring_reader_replaced(r), 0);
    w = open_writer(32, 1 << 16);
    assert_int_equal(ring_reader_replaced(r), 1);
    struct ring_reader *r2 = open_reader();
    assert_int_equal(ring_reader_replaced(r2), 0);
    assert_int_equal(ring_reader_generation(r2), 1);
    assert_int_equal(ring_reader_head(r2), 1);
    ring_writer_close(w, true); /* orderly shutdown removes it */
    assert_int_equal(ring_reader_replaced(r2), 1);
    ring_reader_close(r2);
    ring_reader_close(r);
}

/* A new writer with another MTU (a reload that changed it) replaces the ring rather than
 * continue it: frames are numbered by their packet count at the ring's MTU, and readers
 * attached before packetize at the MTU they read then. */
static void test_reopen_other_mtu(void **state)
{
    (void)state;
    struct ring_writer *w = open_writer(16, 1 << 16);
    declare_video(w, 0);
    assert_true(write_tagged(w, 0, RING_FRAME_KEY, 5000, 4, 10, 1) > 0);
    struct ring_reader *r = open_reader();
    ring_writer_close(w, false);

    w = open_writer_mtu(16, 1 << 16, 1000);
    assert_int_equal(ring_writer_generation(w), 1);
    assert_int_equal(ring_writer_next_seq(w), 1);
    assert_int_equal(ring_reader_replaced(r), 1);
    assert_int_equal(ring_reader_mtu(r), 1200); /* the old mapping is left as it was */
    struct ring_reader *r2 = open_reader();
    assert_int_equal(ring_reader_mtu(r2), 1000);
    ring_writer_close(w, false);

    w = open_writer_mtu(16, 1 << 16, 1000); /* the same MTU again: continued */
    assert_int_equal(ring_writer_generation(w), 2);
    assert_int_equal(ring_reader_replaced(r2), 0);
    ring_writer_close(w, true);
    ring_reader_close(r2);
    ring_reader_close(r);
}

/* A writer SIGKILLed inside ring_writer_write may have advanced next_pkt and latest_key
 * for a frame it never published; its successor continues from the published frames. */
static void test_reopen_after_crash(void **state)
{
    (void)state;
    struct ring_writer *w = open_writer(16, 1 << 16);
    declare_video(w, 0);
    assert_true(write_tagged(w, 0, RING_FRAME_KEY, 0, 5, 10, 1) > 0);
    assert_true(write_tagged(w, 0, 0, 3000, 5, 10, 2) > 0);
    ring_writer_close(w, false);
    char shm[80];
    snprintf(shm, sizeof(shm), "/%s", name);
    int fd = shm_open(shm, O_RDWR, 0);
    assert_true(fd >= 0);
    struct ring_hdr *h = mmap(NULL, sizeof(*h), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    assert_true(h != MAP_FAILED);
    atomic_store(&h->track_state[0].next_pkt, 15); /* frame 3 half-written: not published */
    atomic_store(&h->track_state[0].latest_key, 3);
    atomic_store(&h->track_state[0].desc_seq, 7); /* died inside set_track */

    w = open_writer(16, 1 << 16);
    struct ring_reader *r = open_reader();
    struct ring_track t;
    assert_int_equal(ring_reader_track(r, 0, &t, NULL), 0);
    assert_int_equal(ring_reader_latest_keyframe(r, 0), 1);
    assert_int_equal(ring_writer_next_seq(w), 3);
    assert_int_equal(ring_writer_generation(w), 2);
    assert_int_equal(write_tagged(w, 0, 0, 0, 5, 10, 3), 3);
    struct ring_frame f;
    assert_int_equal(ring_reader_get(r, 3, &f), 1);
    assert_int_equal(f.first_pkt, 10);
    assert_true((int32_t)(f.rtp_ts - 3000) >= 1);
    munmap(h, sizeof(*h));
    ring_reader_close(r);
    ring_writer_close(w, true);
}

static void test_tracks(void **state)
{
    (void)state;
    struct ring_writer *w = open_writer(16, 1 << 16);
    struct ring_reader *r = open_reader();
    struct ring_track t;
    uint32_t v1 = 0, v2 = 0;
    assert_int_equal(ring_reader_track(r, 0, &t, NULL), -ENOENT);
    assert_int_equal(ring_reader_track(r, RING_MAX_TRACKS, &t, NULL), -EINVAL);
    struct ring_track in = {.codec = RING_CODEC_H265, .clock_rate = 90000, .channels = 1};
    snprintf(in.fmtp, sizeof(in.fmtp), "profile-id=1");
    in.params_len = 4;
    memcpy(in.params, "\0\0\0\1", 4);
    assert_int_equal(ring_writer_set_track(w, 2, &in), 0);
    assert_int_equal(ring_reader_track(r, 2, &t, &v1), 0);
    assert_int_equal(t.codec, RING_CODEC_H265);
    assert_string_equal(t.fmtp, "profile-id=1");
    assert_int_equal(t.params_len, 4);
    const uint8_t sps[] = {0, 0, 0, 1, 0x42, 0, 0, 0, 1, 0x44};
    assert_int_equal(ring_writer_set_params(w, 2, sps, sizeof(sps)), 0);
    assert_int_equal(ring_reader_track(r, 2, &t, &v2), 0);
    assert_int_not_equal(v1, v2);
    assert_int_equal(t.params_len, sizeof(sps));
    assert_memory_equal(t.params, sps, sizeof(sps));
    assert_int_equal(ring_writer_set_params(w, 2, sps, RING_PARAMS_MAX + 1), -EINVAL);
    in.params_len = RING_PARAMS_MAX + 1;
    assert_int_equal(ring_writer_set_track(w, 0, &in), -EINVAL);

    assert_int_equal(ring_writer_take_keyframe_requests(w), 0);
    ring_reader_request_keyframe(r);
    ring_reader_request_keyframe(r);
    assert_int_equal(ring_writer_take_keyframe_requests(w), 2);
    assert_int_equal(ring_writer_take_keyframe_requests(w), 0);
    ring_reader_close(r);
    ring_writer_close(w, true);
}

/* A slot whose fields point outside the ring (a broken writer) is skipped, not trusted. */
static void test_malformed_slot(void **state)
{
    (void)state;
    struct ring_writer *w = open_writer(16, 1 << 16);
    struct ring_reader *r = open_reader();
    assert_true(write_tagged(w, 0, 0, 0, 1, 10, 1) > 0);
    assert_true(write_tagged(w, 0, 0, 0, 1, 10, 2) > 0);
    char shm[80];
    snprintf(shm, sizeof(shm), "/%s", name);
    int fd = shm_open(shm, O_RDWR, 0);
    assert_true(fd >= 0);
    size_t len = sizeof(struct ring_hdr) + RING_MAX_TRACKS * sizeof(struct ring_track_desc) +
                 16 * sizeof(struct ring_slot);
    uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    assert_true(p != MAP_FAILED);
    struct ring_slot *slots =
        (struct ring_slot *)(p + sizeof(struct ring_hdr) +
                             RING_MAX_TRACKS * sizeof(struct ring_track_desc));
    atomic_store(&slots[1].data_pos, (1 << 16) - 4); /* 10 bytes from there leave the ring */
    struct ring_frame f;
    assert_int_equal(ring_reader_get(r, 1, &f), 0);
    assert_int_equal(ring_reader_seek_keyframe(r, 0), 0);
    assert_int_equal(ring_reader_head(r), 3);
    ring_reader_close(r);
    r = open_reader();
    assert_true(write_tagged(w, 0, 0, 0, 1, 10, 3) > 0);
    atomic_store(&slots[3].data_pos, (1 << 16) - 4);
    assert_int_equal(ring_reader_next(r, &f), -EBADMSG);
    assert_int_equal(ring_reader_next(r, &f), 0);
    munmap(p, len);
    ring_reader_close(r);
    ring_writer_close(w, true);
}

static int make_object(const void *bytes, size_t len, size_t size)
{
    char shm[80];
    snprintf(shm, sizeof(shm), "/%s", name);
    shm_unlink(shm);
    int fd = shm_open(shm, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd < 0 || ftruncate(fd, (off_t)size) < 0 || pwrite(fd, bytes, len, 0) != (ssize_t)len)
        return -1;
    close(fd);
    return 0;
}

/* The refusal's errno and its whole message, which the caller logs as is. */
static void expect_refused(int want, const char *fmt)
{
    struct ring_reader *r = NULL;
    char text[256];
    snprintf(text, sizeof(text), fmt, name);
    err[0] = '\0';
    assert_int_equal(ring_reader_open(&r, name, err, sizeof(err)), want);
    assert_null(r);
    assert_string_equal(err, text);
}

static void test_attach_refused(void **state)
{
    (void)state;
    expect_refused(-ENOENT, "ring /%s does not exist (no ingest yet?)");
    assert_int_equal(make_object("x", 1, 100), 0);
    expect_refused(-EBADMSG, "ring /%s: truncated (100 bytes)");

    struct ring_writer *w = open_writer(16, 1 << 16);
    ring_writer_close(w, false);
    char shm[80];
    snprintf(shm, sizeof(shm), "/%s", name);
    int fd = shm_open(shm, O_RDWR, 0);
    assert_true(fd >= 0);
    struct ring_hdr h;
    assert_int_equal(pread(fd, &h, sizeof(h), 0), sizeof(h));

    struct ring_hdr bad = h;
    bad.magic ^= 1;
    assert_int_equal(pwrite(fd, &bad, sizeof(bad), 0), sizeof(bad));
    expect_refused(-EPROTO, "ring /%s: not a ring (bad magic 0x31474e4952435201)");
    bad = h;
    bad.version = RING_VERSION + 1;
    assert_int_equal(pwrite(fd, &bad, sizeof(bad), 0), sizeof(bad));
    expect_refused(-EPROTONOSUPPORT, "ring /%s: layout version 2, expected 1");
    bad = h;
    bad.slot_count = 32; /* claims more than the object holds */
    assert_int_equal(pwrite(fd, &bad, sizeof(bad), 0), sizeof(bad));
    expect_refused(-EBADMSG, "ring /%s: geometry (32 slots, 65536 bytes) does not match its "
                             "size 78848");
    assert_int_equal(pwrite(fd, &h, sizeof(h), 0), sizeof(h));
    assert_int_equal(ftruncate(fd, 8192 + 4096), 0);
    expect_refused(-EBADMSG, "ring /%s: geometry (16 slots, 65536 bytes) does not match its "
                             "size 12288");
    close(fd);
}

static void on_ring(void *arg)
{
    uv_stop(arg);
}

static void on_timeout(uv_timer_t *t)
{
    uv_stop(t->loop);
    fail_msg("doorbell callback not called within 5 s");
}

/* Another process rings a word in a shared mapping; the waiter wakes this loop. */
static void test_doorbell_cross_process(void **state)
{
    (void)state;
    _Atomic uint32_t *word =
        mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(word != MAP_FAILED);
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    uv_timer_t timer;
    uv_timer_init(&loop, &timer);
    uv_timer_start(&timer, on_timeout, 5000, 0);
    struct doorbell_set *dw = NULL;
    assert_int_equal(doorbell_set_init(&dw, &loop, on_ring, &loop, 0), 0);
    assert_int_equal(doorbell_set_add(dw, word), 0);
    for (int round = 0; round < 3; round++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            doorbell_ring(word);
            _exit(0);
        }
        uv_run(&loop, UV_RUN_DEFAULT);
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_int_equal(doorbell_count(atomic_load(word)), round + 1);
    }
    doorbell_set_free(dw);
    doorbell_set_free(NULL);
    uv_close((uv_handle_t *)&timer, NULL);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&loop), 0);
    munmap((void *)word, 4096);
}

static int bell_calls;

static void count_bell(void *arg)
{
    (void)arg;
    bell_calls++;
}

/* Bounded wait for the waiter thread to go to sleep on the word (top bit set). */
static bool sleeper_within(_Atomic uint32_t *word, int ms)
{
    const struct timespec tick = {0, 1000000};
    for (int i = 0; i < ms; i++) {
        if (atomic_load(word) & 0x80000000u)
            return true;
        nanosleep(&tick, NULL);
    }
    return false;
}

/* Rings while the loop is busy cost no wake-ups and coalesce into one callback; the waiter
 * sleeps again only after the callback ran. */
static void test_doorbell_coalesces(void **state)
{
    (void)state;
    _Atomic uint32_t word = 0;
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct doorbell_set *dw = NULL;
    bell_calls = 0;
    assert_int_equal(doorbell_set_init(&dw, &loop, count_bell, NULL, 0), 0);
    assert_int_equal(doorbell_set_add(dw, &word), 0);
    assert_true(sleeper_within(&word, 2000));
    for (int i = 0; i < 1000; i++)
        doorbell_ring(&word);
    /* The first ring cleared the sleepers bit; nobody set it again: no more FUTEX_WAKEs. */
    assert_int_equal(atomic_load(&word), 1000);
    assert_false(sleeper_within(&word, 20));
    assert_int_equal(bell_calls, 0);
    uv_run(&loop, UV_RUN_ONCE);
    assert_int_equal(bell_calls, 1);
    assert_true(sleeper_within(&word, 2000)); /* re-armed after the callback */
    doorbell_ring(&word);
    uv_run(&loop, UV_RUN_ONCE);
    assert_int_equal(bell_calls, 2);
    assert_int_equal(doorbell_count(atomic_load(&word)), 1001);
    doorbell_set_free(dw);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* One set waits on many words (futex_waitv takes 127 and a control word per thread: 300 make
 * three threads): rings of words of all of them while the loop is busy make one callback per
 * thread at most, and a removed word is no longer slept on nor delivered. */
static void test_doorbell_set(void **state)
{
    (void)state;
    enum { N = 300 };
    static _Atomic uint32_t words[N];
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct doorbell_set *set = NULL;
    bell_calls = 0;
    assert_int_equal(doorbell_set_init(&set, &loop, count_bell, NULL, 1000000), 0);
    for (int i = 0; i < N; i++)
        assert_int_equal(doorbell_set_add(set, &words[i]), 0);
    for (int i = 0; i < N; i++)
        assert_true(sleeper_within(&words[i], 2000));
    for (int i = 0; i < N; i += 7) /* 43 rings */
        doorbell_ring(&words[i]);
    /* A thread delivers what it found rung, then (after the callback) what was rung since its
     * scan: at most two calls per thread, and then every word is slept on again. */
    const struct timespec settle = {0, 20000000};
    int armed = 0;
    for (int round = 0; round < 100 && armed < N; round++) {
        nanosleep(&settle, NULL);
        uv_run(&loop, UV_RUN_NOWAIT);
        armed = 0;
        for (int i = 0; i < N; i++)
            armed += (atomic_load(&words[i]) & 0x80000000u) != 0;
    }
    assert_int_equal(armed, N);
    assert_true(bell_calls >= 1 && bell_calls <= 6);
    doorbell_set_remove(set, &words[150]);
    uint32_t v = doorbell_count(atomic_load(&words[150]));
    atomic_store(&words[150], v); /* its sleepers bit cleared: nobody sets it again */
    int calls = bell_calls;
    doorbell_ring(&words[150]);
    nanosleep(&settle, NULL);
    uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(bell_calls, calls);
    assert_false(sleeper_within(&words[150], 20));
    doorbell_ring(&words[299]); /* the others still deliver */
    for (int i = 0; i < 200 && bell_calls == calls; i++) {
        nanosleep(&settle, NULL);
        uv_run(&loop, UV_RUN_NOWAIT);
    }
    assert_int_equal(bell_calls, calls + 1);
    doorbell_set_free(set);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* The writer rings both its own doorbell and the extra (control segment) one. */
static void test_writer_rings_doorbells(void **state)
{
    (void)state;
    _Atomic uint32_t ctl_word = 0;
    struct ring_writer *w = open_writer(16, 1 << 16);
    ring_writer_set_doorbell(w, &ctl_word);
    struct ring_reader *r = open_reader();
    uint32_t before = atomic_load(ring_reader_doorbell(r));
    assert_true(write_tagged(w, 0, 0, 0, 1, 1, 1) > 0);
    assert_true(write_tagged(w, 0, 0, 0, 1, 1, 2) > 0);
    assert_int_equal(atomic_load(ring_reader_doorbell(r)), before + 2);
    assert_int_equal(atomic_load(&ctl_word), 2);
    ring_reader_close(r);
    ring_writer_close(w, true);
}

/* A reader's lease tells the writer someone waits for each frame; two readers' leases do not
 * shorten each other; a lease survives the ring growing (the new object starts with it), and
 * a lapsed one (a reader that crashed) says nobody. */
static void test_watch_lease(void **state)
{
    (void)state;
    struct ring_writer *w = open_writer(16, 1 << 16);
    struct ring_reader *a = open_reader(), *b = open_reader();
    uint64_t now = 1000000000000ull;
    assert_false(ring_writer_watched(w, now));
    ring_reader_keep_watched(a, now + 2000);
    ring_reader_keep_watched(b, now + 1000);
    assert_true(ring_writer_watched(w, now + 1500));
    assert_true(ring_reader_generation(a) == 1);
    assert_int_equal(ring_writer_resize(w, 32, 1 << 17, err, sizeof(err)), 0);
    assert_true(ring_writer_watched(w, now + 1999));
    assert_false(ring_writer_watched(w, now + 2000));
    ring_reader_close(b);
    ring_reader_close(a);
    ring_writer_close(w, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_write_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slot_wrap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_data_wrap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lap_resync, setup, teardown),
        cmocka_unit_test_setup_teardown(test_find_packet_wrap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_find_packet_search, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_continues, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_other_mtu, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_after_crash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tracks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_slot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_attach_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_doorbell_cross_process, setup, teardown),
        cmocka_unit_test_setup_teardown(test_doorbell_coalesces, setup, teardown),
        cmocka_unit_test_setup_teardown(test_doorbell_set, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_rings_doorbells, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watch_lease, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
