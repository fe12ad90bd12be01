/* SPDX-License-Identifier: MIT */
/* test_h264_depack.c: the H.264 depacketizer (RFC 6184) and the RTP header parser against
 * hand-made packets: single NAL, FU-A start/middle/end, a lost middle fragment, STAP-A,
 * 16-bit sequence wrap, timestamp change without marker, keyframe waits, malformed input. */
#include "test/unit/test_codec.h"

#include <errno.h>
#include <stdlib.h>

#include "codec/codec.h"

static const uint8_t sps[] = {0x67, 0x42, 0xc0, 0x1f, 0xda, 0x01, 0x40, 0x16, 0xe8};
static const uint8_t pps[] = {0x68, 0xce, 0x3c, 0x80};
static const uint8_t sei[] = {0x06, 0x05, 0x01, 0xaa, 0x80};

static int setup(void **state)
{
    return tc_fixture_setup(state, RING_CODEC_H264);
}

static int teardown(void **state)
{
    return tc_fixture_teardown(state);
}

/* An IDR NAL of n bytes (header 0x65, body without zero bytes). */
static uint8_t *make_nal(uint8_t hdr, size_t n, uint32_t seed)
{
    uint8_t *nal = malloc(n);
    assert_non_null(nal);
    tc_fill(nal, n, seed);
    nal[0] = hdr;
    return nal;
}

/* Sends nal as FU-A fragments of body bytes each, starting at seq; skip_k drops one. */
static uint16_t send_fu(struct depack *d, const uint8_t *nal, size_t n, size_t body, uint16_t seq,
                        uint32_t ts, int skip_k)
{
    uint8_t pl[2000];
    size_t off = 1;
    for (int k = 0; off < n; k++) {
        size_t m = n - off < body ? n - off : body;
        pl[0] = (uint8_t)((nal[0] & 0xe0) | 28);
        pl[1] = (uint8_t)((off == 1 ? 0x80 : 0) | (off + m == n ? 0x40 : 0) | (nal[0] & 0x1f));
        memcpy(pl + 2, nal + off, m);
        if (k != skip_k)
            tc_push(d, seq, ts, off + m == n, pl, m + 2, 0);
        seq++;
        off += m;
    }
    return seq;
}

static void assert_annexb_one(const struct tc_capture *c, int i, const uint8_t *nal, size_t n)
{
    assert_int_equal(c->u[i].len, n + 4);
    assert_memory_equal(c->u[i].data, "\0\0\0\1", 4);
    assert_memory_equal(c->u[i].data + 4, nal, n);
}

static void test_single_nal(void **state)
{
    struct tc_fixture *f = *state;
    uint8_t *idr = make_nal(0x65, 300, 1);
    tc_push(f->d, 10, 9000, true, idr, 300, 0);
    assert_int_equal(f->cap.n, 1);
    assert_annexb_one(&f->cap, 0, idr, 300);
    assert_true(f->cap.u[0].key);
    assert_int_equal(f->cap.u[0].ts, 9000);
    free(idr);
}

static void test_fu_a_start_middle_end(void **state)
{
    struct tc_fixture *f = *state;
    uint8_t *idr = make_nal(0x65, 3001, 2);
    uint16_t seq = send_fu(f->d, idr, 3001, 1000, 100, 3000, -1);
    assert_int_equal(seq, 103); /* three fragments: start, middle, end */
    assert_int_equal(f->cap.n, 1);
    assert_annexb_one(&f->cap, 0, idr, 3001);
    assert_true(f->cap.u[0].key);
    assert_int_equal(depack_stats(f->d)->lost, 0);
    free(idr);
}

static void test_fu_a_lost_middle_waits_for_keyframe(void **state)
{
    struct tc_fixture *f = *state;
    uint8_t *idr = make_nal(0x65, 3001, 3);
    uint8_t *p = make_nal(0x41, 500, 4);
    uint16_t seq = send_fu(f->d, idr, 3001, 1000, 7, 3000, 1);
    assert_int_equal(f->cap.n, 0);
    assert_int_equal(depack_stats(f->d)->lost, 1);
    assert_int_equal(depack_stats(f->d)->dropped, 1);
    /* An intact P frame after the loss references the lost IDR: dropped too. */
    tc_push(f->d, seq++, 6000, true, p, 500, 0);
    assert_int_equal(f->cap.n, 0);
    assert_int_equal(depack_stats(f->d)->dropped, 2);
    /* The next IDR resumes delivery, then P frames flow again. */
    seq = send_fu(f->d, idr, 3001, 1000, seq, 9000, -1);
    tc_push(f->d, seq, 12000, true, p, 500, 0);
    assert_int_equal(f->cap.n, 2);
    assert_annexb_one(&f->cap, 0, idr, 3001);
    assert_true(f->cap.u[0].key);
    assert_annexb_one(&f->cap, 1, p, 500);
    assert_false(f->cap.u[1].key);
    free(idr);
    free(p);
}

static void test_stap_a_several_nals(void **state)
{
    struct tc_fixture *f = *state;
    uint8_t pl[64];
    size_t n = 0;
    pl[n++] = 0x78; /* F=0 NRI=3 type 24 */
    const uint8_t *nals[] = {sps, pps, sei};
    size_t lens[] = {sizeof(sps), sizeof(pps), sizeof(sei)};
    for (int i = 0; i < 3; i++) {
        pl[n++] = 0;
        pl[n++] = (uint8_t)lens[i];
        memcpy(pl + n, nals[i], lens[i]);
        n += lens[i];
    }
    uint8_t *idr = make_nal(0x65, 200, 5);
    tc_push(f->d, 1, 90000, false, pl, n, 0);
    tc_push(f->d, 2, 90000, true, idr, 200, 0);
    assert_int_equal(f->cap.n, 1);
    uint8_t want[256];
    size_t w = 0;
    for (int i = 0; i < 3; i++) {
        memcpy(want + w, "\0\0\0\1", 4);
        memcpy(want + w + 4, nals[i], lens[i]);
        w += 4 + lens[i];
    }
    memcpy(want + w, "\0\0\0\1", 4);
    memcpy(want + w + 4, idr, 200);
    w += 204;
    assert_int_equal(f->cap.u[0].len, w);
    assert_memory_equal(f->cap.u[0].data, want, w);
    assert_true(f->cap.u[0].key);
    /* In-band, where the ingest finds them (it tracks parameter sets and flags changes). */
    uint8_t params[RING_PARAMS_MAX];
    int plen = codec_params_from_au(RING_CODEC_H264, f->cap.u[0].data, f->cap.u[0].len, params,
                                    sizeof(params));
    assert_int_equal(plen, 8 + sizeof(sps) + sizeof(pps));
    assert_memory_equal(params + 4, sps, sizeof(sps));
    free(idr);
}

static void test_sequence_wrap(void **state)
{
    struct tc_fixture *f = *state;
    uint8_t *idr = make_nal(0x65, 4001, 6);
    uint16_t seq = send_fu(f->d, idr, 4001, 1000, 65534, 1000, -1);
    assert_int_equal(seq, 2); /* 65534, 65535, 0, 1 */
    assert_int_equal(f->cap.n, 1);
    assert_annexb_one(&f->cap, 0, idr, 4001);
    assert_int_equal(depack_stats(f->d)->lost, 0);
    /* A gap across the wrap is still a gap: 65534 -> 0 loses 65535. */
    depack_reset(f->d);
    send_fu(f->d, idr, 4001, 1000, 65533, 2000, 2);
    assert_int_equal(f->cap.n, 1);
    assert_int_equal(depack_stats(f->d)->lost, 1);
    free(idr);
}

static void test_timestamp_change_ends_unit(void **state)
{
    struct tc_fixture *f = *state;
    uint8_t *idr = make_nal(0x65, 100, 7);
    uint8_t *p = make_nal(0x41, 100, 8);
    tc_push(f->d, 1, 1000, false, idr, 100, 0); /* marker lost by the sender */
    assert_int_equal(f->cap.n, 0);
    tc_push(f->d, 2, 4000, true, p, 100, 0);
    assert_int_equal(f->cap.n, 2);
    assert_int_equal(f->cap.u[0].ts, 1000);
    assert_true(f->cap.u[0].key);
    assert_int_equal(f->cap.u[1].ts, 4000);
    free(idr);
    free(p);
}

static void test_waits_for_first_keyframe(void **state)
{
    struct tc_fixture *f = *state;
    uint8_t *p = make_nal(0x41, 100, 9);
    tc_push(f->d, 1, 1000, true, p, 100, 0);
    tc_push(f->d, 2, 4000, true, p, 100, 0);
    assert_int_equal(f->cap.n, 0);
    assert_int_equal(depack_stats(f->d)->dropped, 2);
    free(p);
}

static void test_duplicate_and_late_packets_ignored(void **state)
{
    struct tc_fixture *f = *state;
    uint8_t *idr = make_nal(0x65, 3001, 10);
    uint8_t pl[1100];
    send_fu(f->d, idr, 3001, 1000, 50, 3000, -1);
    /* Replaying fragment 51 (a retransmission after the fact) changes nothing. */
    pl[0] = 0x7c;
    pl[1] = 0x05;
    memcpy(pl + 2, idr + 1001, 1000);
    tc_push(f->d, 51, 3000, false, pl, 1002, 0);
    tc_push(f->d, 52, 3000, true, pl, 1002, 0);
    assert_int_equal(f->cap.n, 1);
    assert_int_equal(depack_stats(f->d)->lost, 0);
    free(idr);
}

static void test_malformed(void **state)
{
    struct tc_fixture *f = *state;
    uint8_t *idr = make_nal(0x65, 100, 11);
    /* STAP-A whose length runs past the packet: the whole unit goes. */
    const uint8_t bad_stap[] = {0x78, 0x00, 0x20, 0x67, 0x42};
    tc_push(f->d, 1, 1000, false, bad_stap, sizeof(bad_stap), -EBADMSG);
    tc_push(f->d, 2, 1000, true, idr, 100, 0);
    assert_int_equal(f->cap.n, 0);
    /* FU-B (interleaved mode only) and a lone FU indicator. */
    const uint8_t fub[] = {0x7d, 0x85, 0, 0, 1};
    tc_push(f->d, 3, 2000, true, fub, sizeof(fub), -EBADMSG);
    const uint8_t fu_short[] = {0x7c};
    tc_push(f->d, 4, 3000, true, fu_short, sizeof(fu_short), -EBADMSG);
    assert_int_equal(depack_stats(f->d)->bad, 3);
    /* Not RTP version 2, and too short. */
    uint8_t pkt[64];
    size_t n = tc_rtp(pkt, 5, 4000, true, idr, 20);
    pkt[0] = 0x40;
    assert_int_equal(depack_push(f->d, pkt, n), -EBADMSG);
    assert_int_equal(depack_push(f->d, pkt, 11), -EBADMSG);
    /* Recovery: a good IDR is delivered. */
    tc_push(f->d, 6, 5000, true, idr, 100, 0);
    assert_int_equal(f->cap.n, 1);
    free(idr);
}

static void test_rtp_header_fields(void **state)
{
    (void)state;
    /* V=2 P=1 X=1 CC=1, M=1 PT=111; one CSRC, a one-word extension, 3 padding bytes. */
    const uint8_t pkt[] = {0xb1, 0xef, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 1, 2,
                           3,    4,    9,    9,    9,    9,    0xbe, 0xde, 0, 1,
                           7,    7,    7,    7,    0xaa, 0xbb, 0,    0,    3};
    struct depack_rtp h;
    assert_int_equal(depack_rtp_parse(pkt, sizeof(pkt), &h), 0);
    assert_true(h.marker);
    assert_int_equal(h.pt, 111);
    assert_int_equal(h.seq, 0x1234);
    assert_int_equal(h.ts, 0xdeadbeef);
    assert_int_equal(h.ssrc, 0x01020304);
    assert_int_equal(h.payload_off, 24);
    assert_int_equal(h.payload_len, 2);
    uint8_t bad[sizeof(pkt)];
    memcpy(bad, pkt, sizeof(pkt));
    bad[sizeof(bad) - 1] = 6; /* padding longer than the payload */
    assert_int_equal(depack_rtp_parse(bad, sizeof(bad), &h), -EBADMSG);
    memcpy(bad, pkt, sizeof(pkt));
    bad[19] = 9; /* extension longer than the packet */
    assert_int_equal(depack_rtp_parse(bad, sizeof(bad), &h), -EBADMSG);
}

static void test_reset_waits_for_keyframe(void **state)
{
    struct tc_fixture *f = *state;
    uint8_t *idr = make_nal(0x65, 100, 12);
    uint8_t *p = make_nal(0x41, 100, 13);
    tc_push(f->d, 1, 1000, true, idr, 100, 0);
    depack_reset(f->d);
    tc_push(f->d, 40000, 5000, true, p, 100, 0); /* new session, new sequence base */
    tc_push(f->d, 40001, 8000, true, idr, 100, 0);
    assert_int_equal(f->cap.n, 2);
    assert_int_equal(f->cap.u[1].ts, 8000);
    assert_int_equal(depack_stats(f->d)->lost, 0);
    free(idr);
    free(p);
}

/* A sender that restarts its numbering far behind (a camera's encoder restart inside one
 * session; the UDP reorder buffer forwards such a jump at once) is followed, not ignored as
 * late until its numbers catch up tens of thousands of packets later. */
static void test_sender_restart_resyncs(void **state)
{
    struct tc_fixture *f = *state;
    uint8_t *idr = make_nal(0x65, 100, 14);
    uint8_t *p = make_nal(0x41, 100, 15);
    tc_push(f->d, 5000, 1000, true, idr, 100, 0);
    tc_push(f->d, 1000, 90000, true, idr, 100, 0); /* 4000 behind: a new base */
    tc_push(f->d, 1001, 93000, true, p, 100, 0);
    assert_int_equal(f->cap.n, 3);
    assert_int_equal(f->cap.u[1].ts, 90000);
    assert_int_equal(f->cap.u[2].ts, 93000);
    /* A few packets back is still late (a retransmission), not a restart. */
    tc_push(f->d, 990, 96000, true, idr, 100, 0);
    assert_int_equal(f->cap.n, 3);
    assert_int_equal(depack_stats(f->d)->lost, 0);
    free(idr);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_single_nal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fu_a_start_middle_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fu_a_lost_middle_waits_for_keyframe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stap_a_several_nals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sequence_wrap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timestamp_change_ends_unit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_waits_for_first_keyframe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_and_late_packets_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
        cmocka_unit_test(test_rtp_header_fields),
        cmocka_unit_test_setup_teardown(test_reset_waits_for_keyframe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sender_restart_resyncs, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
