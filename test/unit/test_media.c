/* SPDX-License-Identifier: MIT */
/* test_media.c: egress/media.c, the data plane's lifecycle and a viewer's RTCP, with the
 * viewer's side of test_media.h: NACK (the very same packet comes back), NACK for overwritten
 * data, duplicates within the RTT and the retransmission budget, PLI/FIR to the ingest's
 * keyframe counter, sender reports as libre decodes them, and the SDP track query and stop. */
#include "test/unit/test_media.h"

static void test_nack(void **state)
{
    struct fx *f = *state;
    static struct rx_pkt rx[256], re[16];
    write_video(f, true, 20000);
    media_test_send_run(f->w);
    start_viewer(f, false);
    write_video(f, false, 5000);
    media_test_send_run(f->w);
    unsigned n = drain(f, rx, 256);
    assert_true(n >= 20);

    /* Lose packets 3 and 5 of the keyframe: the very same packets come back. (A viewer that
     * lost them never saw them: a fresh SRTP context, or its replay check refuses them.) */
    srtp_dealloc(f->srx);
    f->srx = viewer_srtp(f->keying, true);
    send_nack(f, rx[3].h.seq, 1u << 1);
    unsigned m = drain(f, re, 16);
    assert_int_equal(m, 2);
    assert_int_equal(re[0].len, rx[3].len);
    assert_memory_equal(re[0].b, rx[3].b, rx[3].len);
    assert_memory_equal(re[1].b, rx[5].b, rx[5].len);
    assert_int_equal(ctl_read(&f->cnt->nacks_received), 2);
    assert_int_equal(ctl_read(&f->cnt->retransmits), 2);
    assert_int_equal(f->v.rec.retransmits, 2);

    /* A sequence number never sent (ahead of the viewer) is a miss, not a send. */
    send_nack(f, (uint16_t)(rx[n - 1].h.seq + 50), 0);
    assert_int_equal(drain(f, NULL, 0), 0);
    assert_int_equal(ctl_read(&f->cnt->nack_misses), 1);

    /* Overwrite the whole ring: the keyframe's packets are gone. */
    for (int i = 0; i < SLOTS + 8; i++) {
        write_video(f, i % 10 == 0, 400);
        media_test_send_run(f->w);
    }
    (void)drain(f, NULL, 0);
    send_nack(f, rx[4].h.seq, 0); /* not rx[3]: resent just now, that one is refused first */
    assert_int_equal(drain(f, NULL, 0), 0);
    assert_int_equal(ctl_read(&f->cnt->nack_misses), 2);
    assert_int_equal(ctl_read(&f->cnt->retransmits), 2);

    /* A hostile NACK of 300 FCI entries (5100 packets, of overwritten data or from before
     * the viewer's first packet): every one counted as a miss, nothing sent, and at most
     * MEDIA_NACKS_PER_INPUT of them looked up in the ring. */
    {
        _Alignas(4)
            uint8_t b[1500] = {0x81, 205, (2 + 300) >> 8, (2 + 300) & 0xff, 0xde, 0xad, 0xbe, 0xef};
        uint32_t ms = htonl(f->v.rec.tracks[0].ssrc);
        memcpy(b + 8, &ms, 4);
        for (int i = 0; i < 300; i++) {
            uint16_t pid = (uint16_t)(rx[n - 1].h.seq - 1000 - 17 * i);
            b[12 + 4 * i] = (uint8_t)(pid >> 8);
            b[13 + 4 * i] = (uint8_t)pid;
            b[14 + 4 * i] = 0xff;
            b[15 + 4 * i] = 0xff;
        }
        int len = 12 + 4 * 300;
        uint64_t m0 = ctl_read(&f->cnt->nack_misses) + ctl_read(&f->cnt->nack_refused);
        uint64_t r0 = ctl_read(&f->cnt->retransmits);
        assert_int_equal(srtp_protect_rtcp(f->stx, b, &len), srtp_err_status_ok);
        assert_int_equal(media_input(f->w, &f->v, b, (size_t)len), 0);
        uv_run(&f->loop, UV_RUN_NOWAIT);
        /* (Those that share a bit with the packets resent above are refused unlooked-up.) */
        assert_int_equal(ctl_read(&f->cnt->nack_misses) + ctl_read(&f->cnt->nack_refused) - m0,
                         300 * 17);
        assert_int_equal(ctl_read(&f->cnt->retransmits), r0);
        assert_int_equal(drain(f, NULL, 0), 0);
    }

    /* Garbage and a forged tag: refused, counted nowhere, nothing sent. */
    uint8_t junk[40] = {0x81, 205, 0, 3};
    assert_int_equal(media_input(f->w, &f->v, junk, sizeof(junk)), -EBADMSG);
    assert_int_equal(media_input(f->w, &f->v, junk, 3), -EBADMSG);
    assert_int_equal(drain(f, NULL, 0), 0);
}

/* 16 entries naming the same PID with every BLP bit (272 requests of 17 packets): each
 * packet is resent once; the same NACK again within the RTT draws nothing; after two RTTs
 * the packets may be resent again (a retransmission can be lost too). */
static void test_nack_duplicates(void **state)
{
    struct fx *f = *state;
    static struct rx_pkt rx[256];
    write_video(f, true, 20000); /* 17 packets */
    media_test_send_run(f->w);
    start_viewer(f, false);
    write_video(f, false, 5000);
    media_test_send_run(f->w);
    unsigned n = drain(f, rx, 256);
    assert_true(n >= 20);
    f->v.rec.tracks[0].rtt_us = 20000; /* as an RR would set it */
    srtp_dealloc(f->srx);              /* the resent packets are replays to the old context */
    f->srx = viewer_srtp(f->keying, true);
    uint16_t fci[16][2];
    for (unsigned i = 0; i < 16; i++) {
        fci[i][0] = rx[0].h.seq;
        fci[i][1] = 0xffff;
    }
    send_nack_fci(f, fci, 16);
    assert_int_equal(drain(f, NULL, 0), 17);
    assert_int_equal(ctl_read(&f->cnt->retransmits), 17);
    assert_int_equal(ctl_read(&f->cnt->nack_refused), 16 * 17 - 17);
    assert_int_equal(f->v.rec.nack_refused, 16 * 17 - 17);
    send_nack_fci(f, fci, 16);
    assert_int_equal(drain(f, NULL, 0), 0);
    assert_int_equal(ctl_read(&f->cnt->nack_refused), 2 * 16 * 17 - 17);
    usleep(45000); /* two epochs of 20 ms */
    srtp_dealloc(f->srx);
    f->srx = viewer_srtp(f->keying, true);
    send_nack(f, rx[0].h.seq, 0xffff);
    assert_int_equal(drain(f, NULL, 0), 17);
    assert_int_equal(ctl_read(&f->cnt->retransmits), 2 * 17);
}

/* A viewer asking again for everything it was sent gets its budget's burst (at least
 * MEDIA_RTX_BURST_MIN payload bytes, as this path's keyframe is smaller) and is refused the
 * rest; the budget refills at the path's rate. */
static void test_nack_budget(void **state)
{
    struct fx *f = *state;
    static struct rx_pkt rx[512], re[512];
    write_video(f, true, 20000);
    media_test_send_run(f->w);
    start_viewer(f, false);
    for (int i = 0; i < 40; i++) { /* 3 packets each: 140 KB of payload */
        write_video(f, false, 3500);
        media_test_send_run(f->w);
    }
    unsigned n = drain(f, rx, 512);
    assert_true(n >= 17 + 40 * 3 && n <= 9 * 17);
    srtp_dealloc(f->srx); /* the resent packets are replays to the old context */
    f->srx = viewer_srtp(f->keying, true);
    uint16_t fci[9][2];
    for (unsigned i = 0; i < 9; i++) {
        fci[i][0] = (uint16_t)(rx[0].h.seq + 17 * i);
        fci[i][1] = 0xffff;
    }
    send_nack_fci(f, fci, 9);
    unsigned m = drain(f, re, 512);
    size_t bytes = 0;
    for (unsigned i = 0; i < m; i++)
        bytes += re[i].len - 24; /* RTP header and extensions */
    /* The burst, overdrawn by at most one packet, plus what the path's rate (the 140 KB
     * written just now) refilled meanwhile: well under a millisecond of it. */
    assert_true(bytes >= MEDIA_RTX_BURST_MIN);
    assert_true(bytes < MEDIA_RTX_BURST_MIN + 1200 + 1000);
    assert_true(m < n);
    uint64_t refused = ctl_read(&f->cnt->nack_refused);
    assert_int_equal(refused, n - m);
    assert_int_equal(ctl_read(&f->cnt->nack_misses), 9 * 17 - n); /* those not sent yet */
    /* A hundred milliseconds later: what the path's rate refilled meanwhile, no more. */
    uint64_t t0 = ctl_now_ns();
    usleep(100000);
    srtp_dealloc(f->srx);
    f->srx = viewer_srtp(f->keying, true);
    send_nack_fci(f, fci, 9);
    uint64_t us = (ctl_now_ns() - t0) / 1000;
    m = drain(f, re, 512);
    bytes = 0;
    for (unsigned i = 0; i < m; i++)
        bytes += re[i].len - 24;
    assert_true(m > 0);
    assert_true(bytes < us * path_of(f).rtx_rate / 1000000 + 1200);
}

static void test_pli_fir(void **state)
{
    struct fx *f = *state;
    write_video(f, true, 2000);
    media_test_send_run(f->w);
    start_viewer(f, false);
    (void)ring_writer_take_keyframe_requests(f->wr);
    send_fb(f, 1);
    assert_int_equal(ctl_read(&f->cnt->plis), 1);
    assert_int_equal(ring_writer_take_keyframe_requests(f->wr), 1);
    send_fb(f, 4);
    assert_int_equal(ctl_read(&f->cnt->plis), 2);
    assert_int_equal(ring_writer_take_keyframe_requests(f->wr), 1);
    assert_int_equal(f->v.rec.plis, 2);
}

static void test_sender_report(void **state)
{
    struct fx *f = *state;
    write_video(f, true, 5000);
    media_test_send_run(f->w);
    start_viewer(f, false);
    media_test_send_run(f->w);
    write_video(f, false, 1000);
    media_test_send_run(f->w);
    unsigned n = drain(f, NULL, 0);
    f->v.rec.next_sr_ns = 0; /* due now */
    /* The worker's timer sends it: wait on the loop, bounded. */
    uint8_t b[1600];
    ssize_t r = -1;
    for (int i = 0; i < 20 && r < 0; i++) {
        uv_run(&f->loop, UV_RUN_ONCE);
        r = recv(f->rfd, b, sizeof(b), 0);
    }
    assert_true(r > 0);
    assert_int_equal(b[1], 200);
    int len = (int)r;
    assert_int_equal(srtp_unprotect_rtcp(f->srx, b, &len), srtp_err_status_ok);
    struct mbuf mb = {.buf = b, .size = (size_t)len, .pos = 0, .end = (size_t)len};
    struct rtcp_msg *m = NULL;
    assert_int_equal(rtcp_decode(&m, &mb), 0);
    assert_int_equal(m->hdr.pt, RTCP_SR);
    assert_int_equal(m->r.sr.ssrc, f->v.rec.tracks[0].ssrc);
    assert_int_equal(m->r.sr.psent, n);
    assert_int_equal(m->r.sr.osent, f->v.rec.tracks[0].octets_sent);
    /* RTP time of now: at or a little past the last frame's (well under a second). */
    uint32_t ahead = m->r.sr.rtp_ts - f->v.rec.tracks[0].last_rtp_ts;
    assert_true(ahead < 90000);
    uint32_t sec, frac;
    codec_rtcp_ntp_now(&sec, &frac);
    assert_true(sec - m->r.sr.ntp_sec <= 1);
    m = mem_deref(m);
    assert_int_equal(rtcp_decode(&m, &mb), 0);
    assert_int_equal(m->hdr.pt, RTCP_SDES);
    m = mem_deref(m);

    /* An RR quoting that SR: loss and RTT land in the record. */
    _Alignas(4) uint8_t rr[128] = {0x81, 201, 0, 7, 9, 9, 9, 9};
    uint32_t ss = htonl(f->v.rec.tracks[0].ssrc), lsr = htonl(f->v.rec.tracks[0].last_sr_ntp_mid);
    memcpy(rr + 8, &ss, 4);
    rr[12] = 64; /* 25 % lost */
    rr[15] = 3;
    memcpy(rr + 24, &lsr, 4);
    len = 32;
    assert_int_equal(srtp_protect_rtcp(f->stx, rr, &len), srtp_err_status_ok);
    assert_int_equal(media_input(f->w, &f->v, rr, (size_t)len), 0);
    assert_int_equal(f->v.rec.tracks[0].rr_fraction_lost, 64);
    assert_int_equal(f->v.rec.tracks[0].rr_cum_lost, 3);
    assert_true(f->v.rec.tracks[0].rtt_us < 1000000);
}

static void test_tracks_and_stop(void **state)
{
    struct fx *f = *state;
    struct media_track_info t[MEDIA_MAX_TRACKS];
    assert_int_equal(media_path_tracks(f->w, "nope", t), -ENOENT);
    assert_int_equal(media_path_tracks(f->w, "cam", t), 2);
    assert_int_equal(t[0].codec, RING_CODEC_H264);
    assert_int_equal(t[0].clock_rate, 90000);
    assert_string_equal(t[0].profile_level_id, "42c01f");
    assert_int_equal(t[1].codec, RING_CODEC_OPUS);
    assert_int_equal(t[1].index, 1);
    assert_int_equal(t[1].channels, 2);

    write_video(f, true, 2000);
    start_viewer(f, true);
    media_viewer_stop(f->w, &f->v);
    media_viewer_stop(f->w, &f->v); /* idempotent */
    assert_int_equal(ctl_read(&f->cnt->viewers), 0);
    assert_int_equal(media_worker_viewers(f->w), 0);
    write_video(f, false, 2000);
    media_test_send_run(f->w);
    assert_int_equal(drain(f, NULL, 0), 0);
}

int main(void)
{
    if (srtp_init() != srtp_err_status_ok) /* libsrtp2 is the viewer's side only */
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_nack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nack_duplicates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nack_budget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pli_fir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sender_report, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tracks_and_stop, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
