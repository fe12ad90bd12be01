/* SPDX-License-Identifier: MIT */
/* test_codec_pack.c: the packetizers. Round trip (packetize, then depacketize, gives the
 * same access unit) for NAL sizes around the MTU boundaries, H.264 and H.265; the count
 * agrees with the packets described; packet k is the same whether described alone or with
 * the frame, and every time; aggregation of parameter sets; audio; bad input. */
#include "test/unit/test_codec.h"

#include <errno.h>
#include <stdlib.h>

#include "codec/codec.h"
#include "codec/pack.h"

#define MAX_PKTS 512

static struct tc_capture cap;

/* Builds an access unit: optional parameter sets, then slices of the given sizes. */
static size_t make_au(uint32_t codec, uint8_t *au, bool params, const size_t *slices, int n,
                      uint32_t seed)
{
    size_t len = 0;
    if (params) {
        static const uint8_t h264[] = {0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1f, 0xd9,
                                       0, 0, 0, 1, 0x68, 0xcb, 0x8c, 0xb2};
        static const uint8_t h265[] = {0, 0, 0, 1, 0x40, 0x01, 0x0c, 0x01,
                                       0, 0, 0, 1, 0x42, 0x01, 0x01, 0x60,
                                       0, 0, 0, 1, 0x44, 0x01, 0xc1};
        const uint8_t *p = codec == RING_CODEC_H264 ? h264 : h265;
        size_t pl = codec == RING_CODEC_H264 ? sizeof(h264) : sizeof(h265);
        memcpy(au, p, pl);
        len = pl;
    }
    for (int i = 0; i < n; i++) {
        memcpy(au + len, "\0\0\0\1", 4);
        tc_fill(au + len + 4, slices[i], seed + (uint32_t)i);
        if (codec == RING_CODEC_H264) {
            au[len + 4] = i == 0 && params ? 0x65 : 0x41;
        } else {
            au[len + 4] = (uint8_t)((i == 0 && params ? 19 : 1) << 1);
            au[len + 5] = 1;
        }
        len += 4 + slices[i];
    }
    return len;
}

static void assert_pkt_equal(const struct pack_pkt *a, const struct pack_pkt *b, const uint8_t *au)
{
    assert_int_equal(a->index, b->index);
    assert_int_equal(a->len, b->len);
    assert_int_equal(a->marker, b->marker);
    assert_int_equal(a->n_seg, b->n_seg);
    struct iovec ia[PACK_SEGS_MAX], ib[PACK_SEGS_MAX];
    int n = pack_iov(a, au, ia, PACK_SEGS_MAX);
    assert_int_equal(pack_iov(b, au, ib, PACK_SEGS_MAX), n);
    for (int i = 0; i < n; i++) {
        assert_int_equal(ia[i].iov_len, ib[i].iov_len);
        assert_memory_equal(ia[i].iov_base, ib[i].iov_base, ia[i].iov_len);
    }
}

/* Packetizes au at mtu, checks the invariants, feeds the packets to a depacketizer and
 * compares what comes out. Returns the packet count. */
static int round_trip(uint32_t codec, const uint8_t *au, size_t len, unsigned mtu)
{
    static struct pack_pkt pkts[MAX_PKTS];
    static uint8_t wire[70000];
    int count = pack_count(codec, au, len, mtu);
    assert_true(count >= 1 && count <= MAX_PKTS);
    assert_int_equal(pack_frame(codec, au, len, mtu, pkts, MAX_PKTS), count);
    struct depack *d;
    memset(&cap, 0, sizeof(cap));
    assert_int_equal(depack_create(&d, codec, 1 << 20, tc_on_au, &cap), 0);
    /* A tiny keyframe first, so that units without one (P frames) are delivered too. */
    static const uint8_t idr264[] = {0x65, 0x88}, idr265[] = {19 << 1, 1, 0xaf};
    const uint8_t *idr = codec == RING_CODEC_H265 ? idr265 : idr264;
    size_t wl = tc_rtp(wire, 65529, 0, true, idr, codec == RING_CODEC_H265 ? 3 : 2);
    assert_int_equal(depack_push(d, wire, wl), 0);
    for (int k = 0; k < count; k++) {
        struct pack_pkt one, again;
        assert_int_equal(pack_packet(codec, au, len, mtu, (uint32_t)k, &one), 0);
        assert_int_equal(pack_packet(codec, au, len, mtu, (uint32_t)k, &again), 0);
        assert_pkt_equal(&pkts[k], &one, au);
        assert_pkt_equal(&one, &again, au);
        assert_true(pkts[k].len <= mtu || !codec_is_video(codec));
        assert_int_equal(pkts[k].marker, k == count - 1);
        struct iovec iov[PACK_SEGS_MAX];
        int n = pack_iov(&pkts[k], au, iov, PACK_SEGS_MAX);
        uint8_t payload[2048];
        size_t pl = 0;
        for (int i = 0; i < n; i++) {
            memcpy(payload + pl, iov[i].iov_base, iov[i].iov_len);
            pl += iov[i].iov_len;
        }
        assert_int_equal(pl, pkts[k].len);
        wl = tc_rtp(wire, (uint16_t)(65530 + k), 3000, pkts[k].marker, payload, pl);
        assert_int_equal(depack_push(d, wire, wl), 0);
    }
    struct pack_pkt past;
    assert_int_equal(pack_packet(codec, au, len, mtu, (uint32_t)count, &past), -ERANGE);
    assert_int_equal(cap.n, 2);
    assert_int_equal(cap.u[1].len, len);
    assert_memory_equal(cap.u[1].data, au, len);
    depack_free(d);
    return count;
}

static void sizes_around_mtu(uint32_t codec, unsigned frag_hdr)
{
    static uint8_t au[200000];
    const unsigned mtus[] = {PACK_MIN_MTU, 1200, 1400};
    for (size_t m = 0; m < sizeof(mtus) / sizeof(mtus[0]); m++) {
        unsigned mtu = mtus[m], body = mtu - frag_hdr;
        size_t nh = codec == RING_CODEC_H264 ? 1 : 2;
        /* NAL sizes where the packet count steps: fits, one over, fragment multiples. */
        const size_t sizes[] = {3,
                                mtu - 1,
                                mtu,
                                mtu + 1,
                                mtu + 2,
                                nh + 2 * body - 1,
                                nh + 2 * body,
                                nh + 2 * body + 1,
                                nh + 7 * body,
                                20000};
        for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
            size_t len = make_au(codec, au, true, &sizes[i], 1, (uint32_t)i);
            int count = round_trip(codec, au, len, mtu);
            size_t s = sizes[i];
            int want = 1 + (s <= mtu ? 1 : (int)((s - nh + body - 1) / body));
            assert_int_equal(count, want); /* one aggregate for the params, then the slice */
        }
        /* Several slices of mixed sizes, no parameter sets (a P frame). */
        const size_t slices[] = {mtu + 5, 17, 3 * mtu, mtu - 3};
        size_t len = make_au(codec, au, false, slices, 4, 99);
        round_trip(codec, au, len, mtu);
    }
}

static void test_h264_round_trip(void **state)
{
    (void)state;
    sizes_around_mtu(RING_CODEC_H264, 2);
}

static void test_h265_round_trip(void **state)
{
    (void)state;
    sizes_around_mtu(RING_CODEC_H265, 3);
}

static void test_params_aggregated(void **state)
{
    (void)state;
    uint8_t au[4096];
    size_t slice = 500;
    size_t len = make_au(RING_CODEC_H264, au, true, &slice, 1, 5);
    struct pack_pkt pkts[4];
    assert_int_equal(pack_frame(RING_CODEC_H264, au, len, 1200, pkts, 4), 2);
    assert_int_equal(pkts[0].hdr[0] & 0x1f, 24); /* STAP-A: SPS and PPS together */
    assert_int_equal(pkts[0].len, 1 + 2 + 5 + 2 + 4);
    assert_false(pkts[0].marker);
    assert_true(pkts[1].marker);
    len = make_au(RING_CODEC_H265, au, true, &slice, 1, 5);
    assert_int_equal(pack_frame(RING_CODEC_H265, au, len, 1200, pkts, 4), 2);
    assert_int_equal((pkts[0].hdr[0] >> 1) & 0x3f, 48); /* AP: VPS, SPS, PPS */
    /* A lone parameter set is a single NAL unit, not a one-unit aggregate. */
    static const uint8_t lone[] = {0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1f, 0, 0, 1, 0x65, 0x88};
    assert_int_equal(pack_frame(RING_CODEC_H264, lone, sizeof(lone), 1200, pkts, 4), 2);
    assert_int_equal(pkts[0].n_seg, 1);
    assert_int_equal(pkts[0].hdr_len, 0);
    /* More parameter sets than one aggregate takes: PACK_AGG_MAX, then the rest. */
    size_t n = 0;
    for (int i = 0; i < PACK_AGG_MAX + 2; i++) {
        memcpy(au + n, "\0\0\0\1\x68\xce\x3c", 7);
        au[n + 7] = (uint8_t)(0x80 | i);
        n += 8;
    }
    memcpy(au + n, "\0\0\0\1\x65\x88", 6);
    n += 6;
    assert_int_equal(round_trip(RING_CODEC_H264, au, n, 1200), 3);
    assert_int_equal(pack_frame(RING_CODEC_H264, au, n, 1200, pkts, 4), 3);
    assert_int_equal(pkts[0].n_seg, 2 * PACK_AGG_MAX);
    assert_int_equal(pkts[0].len, 1 + PACK_AGG_MAX * (2 + 4));
    /* pack_frame with a short array still counts them all. */
    assert_int_equal(pack_frame(RING_CODEC_H264, lone, sizeof(lone), 1200, pkts, 1), 2);
}

static void test_audio_one_packet(void **state)
{
    (void)state;
    uint8_t frame[1500];
    tc_fill(frame, sizeof(frame), 3);
    const uint32_t codecs[] = {RING_CODEC_OPUS, RING_CODEC_PCMU, RING_CODEC_PCMA};
    for (int c = 0; c < 3; c++) {
        assert_int_equal(pack_count(codecs[c], frame, 160, 1200), 1);
        /* Larger than the MTU still goes as one packet: it is one codec frame. */
        assert_int_equal(round_trip(codecs[c], frame, sizeof(frame), 1200), 1);
    }
}

static void test_bad_input(void **state)
{
    (void)state;
    uint8_t au[64];
    size_t slice = 20;
    size_t len = make_au(RING_CODEC_H264, au, false, &slice, 1, 1);
    struct pack_pkt p;
    assert_int_equal(pack_count(RING_CODEC_H264, au, len, PACK_MIN_MTU - 1), -EINVAL);
    assert_int_equal(pack_count(RING_CODEC_NONE, au, len, 1200), -EINVAL);
    assert_int_equal(pack_count(RING_CODEC_H264, au, 0, 1200), -EINVAL);
    static const uint8_t no_nal[] = {0xde, 0xad, 0, 0, 1};
    assert_int_equal(pack_count(RING_CODEC_H264, no_nal, sizeof(no_nal), 1200), -EINVAL);
    assert_int_equal(pack_packet(RING_CODEC_H264, no_nal, sizeof(no_nal), 1200, 0, &p), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_h264_round_trip),   cmocka_unit_test(test_h265_round_trip),
        cmocka_unit_test(test_params_aggregated), cmocka_unit_test(test_audio_one_packet),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
