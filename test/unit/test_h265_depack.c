/* SPDX-License-Identifier: MIT */
/* test_h265_depack.c: the H.265 depacketizer (RFC 7798) against hand-made packets: an AP
 * with VPS/SPS/PPS, FU start/middle/end of an IDR, a lost FU start, PACI rejected. */
#include "test/unit/test_codec.h"

#include <errno.h>
#include <stdlib.h>

#include "codec/codec.h"

static const uint8_t vps[] = {0x40, 0x01, 0x0c, 0x01, 0xff};
static const uint8_t sps[] = {0x42, 0x01, 0x01, 0x01, 0x60};
static const uint8_t pps[] = {0x44, 0x01, 0xc1, 0x72};

static int setup(void **state)
{
    return tc_fixture_setup(state, RING_CODEC_H265);
}

static int teardown(void **state)
{
    return tc_fixture_teardown(state);
}

/* A NAL of type t (LayerId 0, TID 1), n bytes. */
static void make_nal(uint8_t *nal, unsigned t, size_t n, uint32_t seed)
{
    tc_fill(nal, n, seed);
    nal[0] = (uint8_t)(t << 1);
    nal[1] = 1;
}

/* FU packets (RFC 7798 4.4.3) for nal, body bytes each; skip_k is not sent. */
static uint16_t send_fu(struct depack *d, const uint8_t *nal, size_t n, size_t body, uint16_t seq,
                        uint32_t ts, int skip_k)
{
    uint8_t pl[2000];
    size_t off = 2;
    for (int k = 0; off < n; k++) {
        size_t m = n - off < body ? n - off : body;
        pl[0] = (uint8_t)((nal[0] & 0x81) | (49 << 1));
        pl[1] = nal[1];
        pl[2] =
            (uint8_t)((off == 2 ? 0x80 : 0) | (off + m == n ? 0x40 : 0) | ((nal[0] >> 1) & 0x3f));
        memcpy(pl + 3, nal + off, m);
        if (k != skip_k)
            tc_push(d, seq, ts, off + m == n, pl, m + 3, 0);
        seq++;
        off += m;
    }
    return seq;
}

static void test_ap_then_fu(void **state)
{
    struct tc_fixture *f = *state;
    uint8_t ap[64];
    size_t n = 0;
    ap[n++] = 48 << 1;
    ap[n++] = 1;
    const uint8_t *nals[] = {vps, sps, pps};
    const size_t lens[] = {sizeof(vps), sizeof(sps), sizeof(pps)};
    for (int i = 0; i < 3; i++) {
        ap[n++] = 0;
        ap[n++] = (uint8_t)lens[i];
        memcpy(ap + n, nals[i], lens[i]);
        n += lens[i];
    }
    static uint8_t idr[2502];
    make_nal(idr, 19, sizeof(idr), 1); /* IDR_W_RADL */
    tc_push(f->d, 500, 7000, false, ap, n, 0);
    uint16_t seq = send_fu(f->d, idr, sizeof(idr), 1000, 501, 7000, -1);
    assert_int_equal(seq, 504);
    assert_int_equal(f->cap.n, 1);
    uint8_t want[4096];
    size_t w = 0;
    for (int i = 0; i < 3; i++) {
        memcpy(want + w, "\0\0\0\1", 4);
        memcpy(want + w + 4, nals[i], lens[i]);
        w += 4 + lens[i];
    }
    memcpy(want + w, "\0\0\0\1", 4);
    memcpy(want + w + 4, idr, sizeof(idr));
    w += 4 + sizeof(idr);
    assert_int_equal(f->cap.u[0].len, w);
    assert_memory_equal(f->cap.u[0].data, want, w);
    assert_true(f->cap.u[0].key);
    uint8_t params[RING_PARAMS_MAX];
    int plen = codec_params_from_au(RING_CODEC_H265, f->cap.u[0].data, f->cap.u[0].len, params,
                                    sizeof(params));
    assert_int_equal(plen, 12 + sizeof(vps) + sizeof(sps) + sizeof(pps));
}

static void test_lost_fu_start(void **state)
{
    struct tc_fixture *f = *state;
    static uint8_t idr[2502];
    make_nal(idr, 19, sizeof(idr), 2);
    uint16_t seq = send_fu(f->d, idr, sizeof(idr), 1000, 10, 1000, 0);
    assert_int_equal(f->cap.n, 0);
    assert_int_equal(depack_stats(f->d)->dropped, 1);
    /* A CRA (an IRAP too) restores delivery. */
    uint8_t cra[40];
    make_nal(cra, 21, sizeof(cra), 3);
    tc_push(f->d, seq, 4000, true, cra, sizeof(cra), 0);
    assert_int_equal(f->cap.n, 1);
    assert_true(f->cap.u[0].key);
}

static void test_malformed(void **state)
{
    struct tc_fixture *f = *state;
    const uint8_t paci[] = {50 << 1, 1, 0, 0};
    tc_push(f->d, 1, 1000, true, paci, sizeof(paci), -EBADMSG);
    const uint8_t short_fu[] = {49 << 1, 1};
    tc_push(f->d, 2, 2000, true, short_fu, sizeof(short_fu), -EBADMSG);
    const uint8_t ap_bad[] = {48 << 1, 1, 0, 9, 0x40, 0x01};
    tc_push(f->d, 3, 3000, true, ap_bad, sizeof(ap_bad), -EBADMSG);
    const uint8_t one_byte[] = {0x26};
    tc_push(f->d, 4, 4000, true, one_byte, sizeof(one_byte), -EBADMSG);
    assert_int_equal(depack_stats(f->d)->bad, 4);
    assert_int_equal(f->cap.n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ap_then_fu, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lost_fu_start, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
