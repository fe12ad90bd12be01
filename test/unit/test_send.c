/* SPDX-License-Identifier: MIT */
/* test_send.c: egress/send.c, the send path, with the viewer's side of test_media.h: a viewer
 * starts at the latest keyframe and catches up to live (with and without UDP GSO) with
 * continuous sequence numbers and timestamps, a lapped reader restarts at a keyframe, a viewer
 * restarted after a lost DTLS flight gets the keyframe again under new numbers, a replaced
 * ring continues every viewer's numbering (also after the SRTP rollover counter moved on), a
 * grown ring is followed without a pause, a path without viewers is neither woken for nor read
 * (its writer told by a lease, which a viewer or a wait for the keyframe takes), frames numbered at
 * another MTU are not sent, the per-wakeup budget, a codec change on a track, and a track declared
 * after the viewer started. */
#include "egress/tcpq.h"
#include "test/unit/test_media.h"

static void catchup_then_live(struct fx *f);

static void test_catchup_then_live(void **state)
{
    catchup_then_live(*state);
}

/* The same without UDP GSO: one datagram per sendmmsg message. */
static void test_catchup_then_live_no_gso(void **state)
{
    struct fx *f = *state;
    set_gso(f, false);
    catchup_then_live(f);
}

static void catchup_then_live(struct fx *f)
{
    static struct rx_pkt rx[2048];
    write_video(f, true, 20000); /* 17 packets */
    for (int i = 0; i < 5; i++)
        write_video(f, false, 3000 + (size_t)i * 500);
    write_audio(f);
    media_test_send_run(f->w); /* the path cursor reaches the live edge */
    start_viewer(f, true);
    assert_int_equal(f->v.rec.state, MEDIA_VIEWER_CATCHUP);

    unsigned n = 0;
    for (int i = 0; i < 3 && f->v.rec.state != MEDIA_VIEWER_LIVE; i++) {
        media_test_send_run(f->w);
        n += drain(f, rx + n, 2048 - n);
    }
    assert_int_equal(f->v.rec.state, MEDIA_VIEWER_LIVE);
    unsigned n_cu = n;
    for (int i = 0; i < 3; i++)
        write_video(f, false, 2500);
    write_audio(f);
    media_test_send_run(f->w);
    n += drain(f, rx + n, 2048 - n);

    /* Every video packet: our SSRC and PT, consecutive sequence numbers, the extension. */
    uint32_t vssrc = f->v.rec.tracks[0].ssrc;
    unsigned nv = 0, na = 0;
    uint16_t seq = 0;
    for (unsigned i = 0; i < n; i++) {
        if (rx[i].h.pt == APT) {
            assert_int_equal(rx[i].h.ssrc, f->v.rec.tracks[1].ssrc);
            assert_true(i >= n_cu); /* audio joins at the live edge */
            na++;
            continue;
        }
        assert_int_equal(rx[i].h.pt, VPT);
        assert_int_equal(rx[i].h.ssrc, vssrc);
        if (nv++)
            assert_int_equal(rx[i].h.seq, (uint16_t)(seq + 1));
        seq = rx[i].h.seq;
        /* RFC 8285: 0xBEDE, playout-delay (id 6, 3 bytes of zeros), mid (id 4) "0". */
        static const uint8_t ext[] = {0xbe, 0xde, 0, 2, 0x62, 0, 0, 0, 0x40, '0', 0, 0};
        assert_true(rx[i].b[0] & 0x10);
        assert_memory_equal(rx[i].b + 12, ext, sizeof(ext));
    }
    assert_int_equal(na, 1);
    feed(f, rx, n);
    /* Nine access units, byte for byte the ring's, the first a keyframe. */
    assert_int_equal(f->n_aus, 9);
    assert_true(f->aus[0].key);
    for (unsigned i = 0; i < 9; i++) {
        assert_int_equal(f->aus[i].len, f->frame_len[i]);
        assert_memory_equal(f->aus[i].data, f->frames[i], f->frame_len[i]);
    }
    /* Catch-up frames play 8x faster; live frames at the ring's spacing; no step between. */
    for (unsigned i = 1; i < 6; i++)
        assert_int_equal(f->aus[i].ts - f->aus[i - 1].ts, 3000 / MEDIA_CATCHUP_COMPRESS);
    for (unsigned i = 6; i < 9; i++)
        assert_int_equal(f->aus[i].ts - f->aus[i - 1].ts, 3000);
    assert_int_equal(ctl_read(&f->cnt->pkts_sent), n);
    assert_int_equal(ctl_read(&f->cnt->send_drops), 0);
}

static void test_lapped(void **state)
{
    struct fx *f = *state;
    static struct rx_pkt rx[4096];
    write_video(f, true, 3000);
    media_test_send_run(f->w);
    start_viewer(f, false);
    media_test_send_run(f->w);
    unsigned n0 = drain(f, NULL, 0);
    assert_true(n0 > 0);
    /* The worker sleeps through more than a ring's worth of frames. */
    for (int i = 1; i <= SLOTS + 20; i++)
        write_video(f, i % 16 == 0, 300);
    unsigned n = 0;
    for (int i = 0; i < 8; i++) {
        media_test_send_run(f->w);
        n += drain(f, rx + n, 4096 - n);
    }
    assert_true(ctl_read(&f->cnt->ring_laps) >= 1);
    assert_true(n > 0);
    feed(f, rx, n);
    /* It resumed at a keyframe (the latest in the ring), then followed in order. */
    assert_true(f->n_aus >= 2);
    assert_true(f->aus[0].key);
    unsigned last_key = SLOTS + 20 - (SLOTS + 20) % 16;
    assert_int_equal(f->aus[0].len, f->frame_len[last_key]);
    assert_memory_equal(f->aus[0].data, f->frames[last_key], f->frame_len[last_key]);
    assert_int_equal(f->n_aus, SLOTS + 20 - last_key + 1);
}

/* A viewer still catching up when the writer laps it starts over from the latest keyframe
 * (not from wherever the live edge is) and then follows in order. */
static void test_catchup_lapped(void **state)
{
    struct fx *f = *state;
    static struct rx_pkt rx[4096];
    write_video(f, true, 3000);
    for (int i = 0; i < 3; i++)
        write_video(f, false, 300);
    media_test_send_run(f->w);
    start_viewer(f, false);
    assert_int_equal(f->v.rec.state, MEDIA_VIEWER_CATCHUP);
    for (int i = 1; i <= SLOTS + 20; i++)
        write_video(f, i % 16 == 0, 300);
    unsigned n = 0;
    for (int i = 0; i < 16 && f->v.rec.state != MEDIA_VIEWER_LIVE; i++) {
        media_test_send_run(f->w);
        n += drain(f, rx + n, 4096 - n);
    }
    assert_int_equal(f->v.rec.state, MEDIA_VIEWER_LIVE);
    feed(f, rx, n);
    unsigned last_key = 4 + SLOTS + 20 - (SLOTS + 20) % 16 - 1;
    assert_true(f->aus[0].key);
    assert_int_equal(f->aus[0].len, f->frame_len[last_key]);
    assert_memory_equal(f->aus[0].data, f->frames[last_key], f->frame_len[last_key]);
    assert_int_equal(f->n_aus, f->n_written - last_key);
    for (unsigned i = 1; i < f->n_aus; i++)
        assert_int_equal(f->aus[i].ts - f->aus[i - 1].ts, 3000 / MEDIA_CATCHUP_COMPRESS);
}

/* A keyframe, then the (video-only) viewer, then a delta frame sent live: drains what the
 * viewer received into rx (at least one packet) and returns the count. */
/* A viewer that never got our last DTLS flight dropped everything sent so far: restarted, it
 * gets the latest keyframe and what followed again, with sequence numbers following the last
 * ones sent (libsrtp2 accepts them: no index repeats) and timestamps after the last; a NACK
 * for a packet sent before the restart is not served (its number now names another one). */
static void test_restart(void **state)
{
    struct fx *f = *state;
    static struct rx_pkt rx[512];
    write_video(f, true, 5000);
    write_video(f, false, 2000);
    media_test_send_run(f->w);
    start_viewer(f, false);
    write_video(f, false, 1500);
    media_test_send_run(f->w);
    unsigned n1 = drain(f, rx, 512);
    assert_true(n1 > 0);
    struct rx_pkt before = rx[n1 - 1];
    uint16_t old_first = rx[0].h.seq;
    media_viewer_restart(f->w, &f->v);
    assert_int_equal(f->v.rec.state, MEDIA_VIEWER_CATCHUP);
    write_video(f, false, 1000);
    for (int i = 0; i < 4; i++)
        media_test_send_run(f->w);
    unsigned n2 = drain(f, rx, 512);
    assert_true(n2 > n1); /* the keyframe and its followers again, and the new frame */
    assert_int_equal(rx[0].h.seq, (uint16_t)(before.h.seq + 1));
    assert_true((int32_t)(rx[0].h.ts - before.h.ts) > 0);
    for (unsigned i = 1; i < n2; i++)
        assert_int_equal(rx[i].h.seq, (uint16_t)(rx[i - 1].h.seq + 1));
    feed(f, rx, n2);
    assert_true(f->n_aus >= 4);
    assert_true(f->aus[0].key);
    assert_int_equal(f->aus[0].len, f->frame_len[0]);
    assert_memory_equal(f->aus[0].data, f->frames[0], f->frame_len[0]);
    uint64_t retx = f->v.rec.retransmits;
    send_nack(f, old_first, 0);
    media_test_send_run(f->w);
    assert_int_equal(drain(f, NULL, 0), 0);
    assert_int_equal(f->v.rec.retransmits, retx);
}

static unsigned start_receiving(struct fx *f, struct rx_pkt *rx, unsigned max)
{
    write_video(f, true, 3000);
    media_test_send_run(f->w);
    start_viewer(f, false);
    write_video(f, false, 2000);
    media_test_send_run(f->w);
    unsigned n = drain(f, rx, max);
    assert_true(n > 0);
    return n;
}

/* The ingest's ring is replaced by a new object of another geometry (a reload with another
 * ring size), whose packet numbers start again at 0: the worker notices the old writer's
 * silence, attaches to the new ring, and the viewer carries on at its next keyframe with
 * sequence numbers, timestamps and SRTP indexes continuing (the same receive context decrypts
 * it); NACKs for the old ring's packets miss. last: the last packet the viewer received. */
static void replaced_ring_continues(struct fx *f, const struct rx_pkt *last_rx)
{
    static struct rx_pkt rx[256];
    struct rx_pkt last = *last_rx;
    ring_writer_close(f->wr, true);
    char name[96], err[128];
    snprintf(name, sizeof(name), "%s.cam", f->prefix);
    struct ring_writer_opts o = {.slot_count = 2 * SLOTS, .data_size = 1 << 20, .mtu = 1200};
    assert_int_equal(ring_writer_open(&f->wr, name, &o, err, sizeof(err)), 0);
    struct ring_track t = {.codec = RING_CODEC_H264, .clock_rate = 90000, .channels = 1};
    assert_int_equal(ring_writer_set_track(f->wr, 0, &t), 0);
    f->ts = 777777;

    struct media_test_knobs knobs, saved;
    media_test_knobs_get(f->w, &saved);
    knobs = saved;
    knobs.ring_stale_ns = 0; /* any silence counts: look at once */
    media_test_knobs_set(f->w, &knobs);
    const struct ring_reader *old = path_of(f).r;
    for (int i = 0; i < 10 && path_of(f).r == old; i++)
        uv_run(&f->loop, UV_RUN_ONCE);
    assert_ptr_not_equal(path_of(f).r, old);
    media_test_knobs_set(f->w, &saved);

    write_video(f, false, 2000); /* a delta frame: the viewer waits for a keyframe */
    unsigned key = f->n_written;
    write_video(f, true, 3000);
    write_video(f, false, 2000);
    media_test_send_run(f->w);
    unsigned m = drain(f, rx, 256);
    assert_true(m > 2);
    assert_int_equal(rx[0].h.ssrc, last.h.ssrc);
    assert_int_equal(rx[0].h.seq, (uint16_t)(last.h.seq + 1));
    assert_int_equal(rx[0].h.ts, last.h.ts + 90000 / 50);
    for (unsigned i = 1; i < m; i++)
        assert_int_equal(rx[i].h.seq, (uint16_t)(rx[i - 1].h.seq + 1));
    feed(f, rx, m);
    assert_true(f->n_aus >= 2);
    assert_true(f->aus[0].key);
    assert_int_equal(f->aus[0].len, f->frame_len[key]);
    assert_memory_equal(f->aus[0].data, f->frames[key], f->frame_len[key]);

    uint64_t misses = ctl_read(&f->cnt->nack_misses);
    send_nack(f, last.h.seq, 0);
    assert_int_equal(drain(f, NULL, 0), 0);
    assert_int_equal(ctl_read(&f->cnt->nack_misses), misses + 1);
}

static void test_ring_replaced(void **state)
{
    struct fx *f = *state;
    static struct rx_pkt rx[256];
    unsigned n = start_receiving(f, rx, 256);
    replaced_ring_continues(f, &rx[n - 1]);
}

/* The same after the viewer was sent more than 2^16 packets (its SRTP rollover counter has
 * moved on): the new ring's numbering, restarting at 0, lies far below the old one's. */
static void test_ring_replaced_after_rollover(void **state)
{
    struct fx *f = *state;
    static struct rx_pkt rx[256];
    static uint8_t buf[200064];
    unsigned n = start_receiving(f, rx, 256), total = n;
    while (total <= 70000) {
        size_t len = media_test_frame(buf, false, 200000, f->counter++);
        int pk = pack_count(RING_CODEC_H264, buf, len, 1200);
        assert_true(ring_writer_write(f->wr, 0, 0, f->ts, (uint32_t)pk, buf, len) > 0);
        f->ts += 3000;
        media_test_send_run(f->w);
        n = drain(f, rx, 256);
        assert_int_equal(n, pk);
        total += n;
    }
    assert_int_equal(ctl_read(&f->cnt->send_drops), 0);
    replaced_ring_continues(f, &rx[n - 1]);
    assert_int_equal(ctl_read(&f->cnt->send_drops), 0);
}

/* The ingest grows its ring (ring_writer_resize: a new object, numbering continued): the
 * worker follows the retired ring as soon as it has read it to the end, in the same wake-up
 * (not at its next tick, which would hold the frames written meanwhile back for up to
 * MEDIA_RING_CHECK_NS), and the viewer carries on at once, no keyframe awaited: the frame
 * written into the new ring follows with consecutive sequence numbers, and a NACK for a packet
 * sent from the old ring is served from the new one. */
static void test_ring_grown(void **state)
{
    struct fx *f = *state;
    static struct rx_pkt rx[256];
    unsigned n = start_receiving(f, rx, 256);
    struct rx_pkt last = rx[n - 1];
    char err[128];
    const struct ring_reader *old = path_of(f).r;
    assert_int_equal(ring_writer_resize(f->wr, 2 * SLOTS, 2 << 20, err, sizeof(err)), 0);
    write_video(f, false, 2000); /* into the new ring before the worker notices */
    media_test_send_run(f->w);   /* the old ring's doorbell, rung by the resize */
    assert_ptr_not_equal(path_of(f).r, old);
    unsigned m = drain(f, rx, 256);
    assert_true(m >= 2);
    assert_int_equal(rx[0].h.ssrc, last.h.ssrc);
    assert_int_equal(rx[0].h.seq, (uint16_t)(last.h.seq + 1));
    for (unsigned i = 1; i < m; i++)
        assert_int_equal(rx[i].h.seq, (uint16_t)(rx[i - 1].h.seq + 1));
    uint64_t retx = ctl_read(&f->cnt->retransmits);
    srtp_dealloc(f->srx); /* a receiver that lost it: its replay check has not seen it */
    f->srx = viewer_srtp(f->keying, true);
    send_nack(f, last.h.seq, 0);
    assert_int_equal(drain(f, rx, 256), 1);
    assert_int_equal(rx[0].h.seq, last.h.seq);
    assert_int_equal(rx[0].len, last.len);
    assert_memory_equal(rx[0].b, last.b, last.len);
    assert_int_equal(ctl_read(&f->cnt->retransmits), retx + 1);
}

/* An on-demand offer waits for a path's keyframe (media_path_key_arrival): from then on its
 * writer is asked to write each frame as it comes, so the keyframe is not held in a batch. */
static void test_key_wait_takes_lease(void **state)
{
    struct fx *f = *state;
    uint64_t arrival;
    write_video(f, true, 3000);
    assert_false(ring_writer_watched(f->wr, ctl_now_ns()));
    assert_int_equal(media_path_key_arrival(f->w, "cam", &arrival), 0);
    assert_true(arrival > 0);
    assert_true(ring_writer_watched(f->wr, ctl_now_ns()));
}

/* A path whose last viewer left costs nothing: its ring's doorbell no longer wakes the worker
 * and its frames are not read (the cursor stays). The next viewer starts at the keyframe
 * written meanwhile, the path's cursor moved to the live edge, its doorbell watched again. */
static void test_unwatched_path(void **state)
{
    struct fx *f = *state;
    static struct rx_pkt rx[256];
    (void)start_receiving(f, rx, 256);
    struct media_test_path p;
    assert_int_equal(media_test_path_named(f->w, "cam", &p), 0);
    assert_true(p.watched);
    /* its writer knows: each frame as it comes (the lease lapses on its own, not here) */
    assert_true(ring_writer_watched(f->wr, ctl_now_ns()));
    assert_false(ring_writer_watched(f->wr, ctl_now_ns() + 10000000000ull));
    media_viewer_stop(f->w, &f->v);
    assert_int_equal(media_test_path_named(f->w, "cam", &p), 0);
    assert_false(p.watched);
    uint64_t cursor = p.next_frame;
    unsigned key = f->n_written;
    write_video(f, true, 3000);
    write_video(f, false, 2000);
    media_test_send_run(f->w);
    assert_int_equal(media_test_path_named(f->w, "cam", &p), 0);
    assert_int_equal(p.next_frame, cursor); /* not read */
    assert_int_equal(drain(f, NULL, 0), 0);

    srtp_dealloc(f->srx); /* the new session's receiver */
    f->srx = viewer_srtp(f->keying, true);
    start_viewer(f, false);
    assert_int_equal(media_test_path_named(f->w, "cam", &p), 0);
    assert_true(p.watched);
    assert_int_equal(p.next_frame, f->written[f->n_written - 1] + 1); /* the live edge */
    unsigned n = 0;
    for (int i = 0; i < 4; i++) {
        media_test_send_run(f->w);
        n += drain(f, rx + n, 256 - n);
    }
    assert_true(n > 0);
    unsigned before = f->n_aus;
    feed(f, rx, n);
    assert_true(f->n_aus >= before + 2);
    assert_true(f->aus[before].key);
    assert_int_equal(f->aus[before].len, f->frame_len[key]);
    assert_memory_equal(f->aus[before].data, f->frames[key], f->frame_len[key]);
}

/* Writes a delta frame whose packet count in the ring is off by diff from what it packetizes
 * into at the worker's MTU (as if written at another MTU). Returns the frame's real count. */
static int write_miscounted(struct fx *f, int diff)
{
    static uint8_t buf[8064];
    size_t len = media_test_frame(buf, false, 8000, f->counter++);
    int pk = pack_count(RING_CODEC_H264, buf, len, 1200);
    assert_true(pk > 1);
    assert_true(ring_writer_write(f->wr, 0, 0, f->ts, (uint32_t)(pk + diff), buf, len) > 0);
    f->ts += 3000;
    return pk;
}

/* A frame that packetizes here into another count than the ring numbered it with is not sent
 * (its packets would take the SRTP indexes of the next frame's): counted once, also when a
 * NACK comes back to it, and the frames after it go out as usual. */
static void test_pkt_count_mismatch(void **state)
{
    struct fx *f = *state;
    static struct rx_pkt rx[256];
    unsigned n = start_receiving(f, rx, 256);
    uint16_t last = rx[n - 1].h.seq;
    write_miscounted(f, -1); /* the worker makes one packet more than the ring numbered */
    media_test_send_run(f->w);
    assert_int_equal(drain(f, NULL, 0), 0);
    assert_int_equal(ctl_read(&f->cnt->pkt_count_mismatches), 1);
    write_miscounted(f, 1); /* one fewer */
    media_test_send_run(f->w);
    assert_int_equal(drain(f, NULL, 0), 0);
    assert_int_equal(ctl_read(&f->cnt->pkt_count_mismatches), 2);

    write_video(f, false, 2000);
    media_test_send_run(f->w);
    unsigned m = drain(f, rx, 256);
    assert_true(m > 0);
    send_nack(f, (uint16_t)(last + 1), 0); /* the first miscounted frame's first packet */
    assert_int_equal(drain(f, NULL, 0), 0);
    assert_int_equal(ctl_read(&f->cnt->retransmits), 0);
    assert_int_equal(ctl_read(&f->cnt->pkt_count_mismatches), 2);
    assert_int_equal(ctl_read(&f->cnt->send_drops), 0);
}

/* A wakeup stops queueing once its packet budget is spent, between viewers; the next one
 * resumes the same frame for the viewers not yet served, who get it exactly once. */
static void test_wakeup_budget(void **state)
{
    struct fx *f = *state;
    static struct rx_pkt rx[256];
    static struct media_viewer more[2];
    write_video(f, true, 20000); /* 18 packets: STAP-A (SPS, PPS) and 17 FU-A */
    media_test_send_run(f->w);
    start_viewer(f, false);
    f->v.rec.next_frame = path_of(f).next_frame; /* all three live, no catch-up */
    f->v.rec.state = MEDIA_VIEWER_LIVE;
    for (int i = 0; i < 2; i++) {
        start_other_viewer(f, &more[i], 0, VPT);
        more[i].rec.next_frame = path_of(f).next_frame;
        more[i].rec.state = MEDIA_VIEWER_LIVE;
    }
    struct media_test_knobs knobs;
    media_test_knobs_get(f->w, &knobs);
    knobs.wakeup_pkts = 20;
    media_test_knobs_set(f->w, &knobs);
    write_video(f, true, 20000);
    assert_true(media_test_send_run(f->w)); /* two viewers served (18 + 18 > 20), one left */
    assert_int_equal(drain(f, rx, 256), 36);
    assert_true(path_of(f).has_pending);
    assert_false(media_test_send_run(f->w));
    unsigned n = drain(f, rx, 256);
    assert_int_equal(n, 18);
    for (unsigned i = 1; i < n; i++)
        assert_int_equal(rx[i].h.ssrc, rx[0].h.ssrc);
    assert_false(path_of(f).has_pending);
    assert_false(media_test_send_run(f->w));
    assert_int_equal(drain(f, NULL, 0), 0);
    for (int i = 0; i < 2; i++)
        media_viewer_stop(f->w, &more[i]);
}

/* An H.265 keyframe: VPS, SPS, PPS (2-byte NAL headers, types 32-34) and an IDR slice. */
static size_t make_h265_key(uint8_t *out, size_t body)
{
    static const uint8_t params[] = {0,    0, 0, 1, 0x40, 1, 0xc, 1, 0xff, 0xff, 0, 0,    0,   1,
                                     0x42, 1, 1, 1, 0x60, 0, 0,   0, 1,    0x44, 1, 0xc1, 0x72};
    memcpy(out, params, sizeof(params));
    size_t n = sizeof(params);
    memcpy(out + n, "\0\0\0\1\x26\x01", 6);
    n += 6;
    for (size_t i = 0; i < body; i++)
        out[n++] = (uint8_t)(i % 251 + 1);
    return n;
}

/* The source comes back with another codec on the same track (an RTSP reconnect to another
 * stream). A running viewer, whose answer named H.264, gets none of the H.265 frames (they
 * would arrive under its H.264 payload type), and its NACKs for the old frames are not
 * rebuilt with the new codec's packetizer. */
static void test_codec_changed(void **state)
{
    struct fx *f = *state;
    static struct rx_pkt rx[256];
    start_receiving(f, rx, 256);

    struct ring_track t = {.codec = RING_CODEC_H265, .clock_rate = 90000, .channels = 1};
    assert_int_equal(ring_writer_set_track(f->wr, 0, &t), 0);
    static uint8_t au[4096];
    size_t len = make_h265_key(au, 3000);
    int pk = pack_count(RING_CODEC_H265, au, len, 1200);
    assert_true(pk > 1);
    assert_true(ring_writer_write(f->wr, 0, RING_FRAME_KEY, f->ts, (uint32_t)pk, au, len) > 0);
    f->ts += 3000;
    media_test_send_run(f->w);
    assert_int_equal(path_of(f).codec[0], RING_CODEC_H265);
    assert_int_equal(drain(f, NULL, 0), 0);

    uint64_t misses = ctl_read(&f->cnt->nack_misses);
    send_nack(f, rx[0].h.seq, 0);
    assert_int_equal(drain(f, NULL, 0), 0);
    assert_int_equal(ctl_read(&f->cnt->nack_misses), misses + 1);
}

/* A track the source declares after the path was opened (an RTSP source that reconnects
 * with one more track): its first frame makes the worker re-read the track table, and a
 * viewer that starts afterwards and takes that track receives it. */
static void test_track_declared_later(void **state)
{
    struct fx *f = *state;
    start_receiving(f, NULL, 0);
    struct ring_track t = {.codec = RING_CODEC_PCMU, .clock_rate = 8000, .channels = 1};
    assert_int_equal(ring_writer_set_track(f->wr, 2, &t), 0);
    uint8_t pcm[160];
    memset(pcm, 0xff, sizeof(pcm));
    assert_true(ring_writer_write(f->wr, 2, RING_FRAME_KEY, 0, 1, pcm, sizeof(pcm)) > 0);
    media_test_send_run(f->w);
    assert_int_equal(path_of(f).codec[2], RING_CODEC_PCMU);
    assert_int_equal(drain(f, NULL, 0), 0); /* f->v did not take track 2 */

    static struct media_viewer late;
    start_other_viewer(f, &late, 2, 0);
    assert_true(ring_writer_write(f->wr, 2, RING_FRAME_KEY, 160, 1, pcm, sizeof(pcm)) > 0);
    media_test_send_run(f->w);
    static struct rx_pkt rx[8];
    assert_int_equal(drain(f, rx, 8), 1);
    assert_int_equal(rx[0].h.pt, 0);
    media_viewer_stop(f->w, &late);
}

static void tcp_stalled(struct tcpq *q)
{
    (void)q; /* the peer never reads: what stays queued is the point */
}

/* An ICE-TCP viewer whose queue overflows while it catches up (a keyframe larger than the
 * queue; its peer reads nothing): it stops the catch-up and waits at the live edge for the next
 * keyframe (counted in tcp_skips) instead of being sent the rest of the GOP broken. */
static void test_tcp_catchup_overflow(void **state)
{
    struct fx *f = *state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    struct tcpq_pool pool = {0};
    struct tcpq q;
    tcpq_init(&q, sv[0], 16 << 10, &pool);
    q.stalled = tcp_stalled;
    write_video(f, true, 60000); /* about 50 packets: more than the 16 KiB queue holds */
    for (int i = 0; i < 4; i++)
        write_video(f, false, 2000);
    media_test_send_run(f->w);
    media_viewer_init(&f->v);
    struct media_viewer_params p = {.path = "cam",
                                    .remote = (struct sockaddr *)&f->raddr,
                                    .remote_len = sizeof(f->raddr),
                                    .tcp = &q,
                                    .srtp_profile = ESRTP_AEAD_AES_128_GCM,
                                    .keying = f->keying,
                                    .keying_len = sizeof(f->keying)};
    p.tracks[0] = (struct media_track_params){.flags = MEDIA_TRACK_SEND, .pt = VPT};
    assert_int_equal(media_viewer_start(f->w, &f->v, &p), 0);
    assert_int_equal(f->v.rec.state, MEDIA_VIEWER_CATCHUP);
    uint64_t skips = ctl_read(&f->cnt->tcp_skips);
    media_test_send_run(f->w);
    assert_int_equal(ctl_read(&f->cnt->tcp_skips), skips + 1);
    assert_int_equal(f->v.rec.state, MEDIA_VIEWER_LIVE);
    assert_int_equal(f->v.rec.wait_key, 1);
    /* Delta frames at live are not queued while it waits for the keyframe. */
    uint32_t queued = q.len;
    write_video(f, false, 2000);
    media_test_send_run(f->w);
    assert_int_equal(q.len, queued);
    media_viewer_stop(f->w, &f->v);
    tcpq_free(&q);
    tcpq_pool_free(&pool);
    close(sv[0]);
    close(sv[1]);
}

/* A keyframe to many ICE-TCP viewers that keep up: their queues are written once they took
 * MEDIA_TCP_CHUNKS (32) chunks, so the pool never held a copy of the frame per viewer at once (it
 * keeps, free, as many chunks as were ever in use together), and each viewer gets it whole. */
static void test_tcp_keyframe_memory(void **state)
{
    struct fx *f = *state;
    enum { N = 16 };
    static struct media_viewer v[N];
    static struct tcpq q[N];
    int sv[N][2];
    struct tcpq_pool pool = {0};
    write_video(f, true, 3000);
    media_test_send_run(f->w);
    for (int i = 0; i < N; i++) {
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv[i]), 0);
        tcpq_init(&q[i], sv[i][0], TCPQ_CAP, &pool);
        q[i].stalled = tcp_stalled;
        media_viewer_init(&v[i]);
        struct media_viewer_params p = {.path = "cam",
                                        .remote = (struct sockaddr *)&f->raddr,
                                        .remote_len = sizeof(f->raddr),
                                        .tcp = &q[i],
                                        .srtp_profile = ESRTP_AEAD_AES_128_GCM,
                                        .keying = f->keying,
                                        .keying_len = sizeof(f->keying)};
        p.tracks[0] = (struct media_track_params){.flags = MEDIA_TRACK_SEND, .pt = VPT};
        assert_int_equal(media_viewer_start(f->w, &v[i], &p), 0);
        struct media_test_path tp;
        media_test_path_of(&v[i], &tp);
        v[i].rec.next_frame = tp.next_frame; /* live, no catch-up */
        v[i].rec.state = MEDIA_VIEWER_LIVE;
    }
    write_video(f, true, 60000); /* 4 chunks per viewer: 64 in all */
    media_test_send_run(f->w);
    assert_int_equal(pool.held, 0);     /* every queue written whole */
    assert_true(pool.n_free <= 32 + 1); /* MEDIA_TCP_CHUNKS, and the push that crossed it */
    static uint8_t got[N][80000];
    ssize_t n[N];
    for (int i = 0; i < N; i++) {
        n[i] = read(sv[i][1], got[i], sizeof(got[i]));
        assert_true(n[i] > 60000);
        assert_int_equal(n[i], n[0]);
        media_viewer_stop(f->w, &v[i]);
        tcpq_free(&q[i]);
        close(sv[i][0]);
        close(sv[i][1]);
    }
    tcpq_pool_free(&pool);
}

int main(void)
{
    if (srtp_init() != srtp_err_status_ok) /* libsrtp2 is the viewer's side only */
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_catchup_then_live, setup, teardown),
        cmocka_unit_test_setup_teardown(test_catchup_then_live_no_gso, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lapped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_catchup_lapped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ring_replaced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ring_replaced_after_rollover, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ring_grown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unwatched_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_wait_takes_lease, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wakeup_budget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pkt_count_mismatch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_codec_changed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_track_declared_later, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_catchup_overflow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_keyframe_memory, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
