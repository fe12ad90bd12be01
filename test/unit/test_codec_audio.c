/* SPDX-License-Identifier: MIT */
/* test_codec_audio.c: Opus (RFC 7587) and G.711 PCMU/PCMA (RFC 3551) depacketizing: one
 * unit per packet, timestamps carried, loss counted without damaging later frames. */
#include "test/unit/test_codec.h"

#include <errno.h>
#include <stdlib.h>

#include "codec/codec.h"

static struct tc_capture cap;

static void run_codec(uint32_t codec, size_t frame, uint32_t ts_step)
{
    struct depack *d;
    memset(&cap, 0, sizeof(cap));
    assert_int_equal(depack_create(&d, codec, 4096, tc_on_au, &cap), 0);
    uint8_t payload[1500];
    /* 65534, 65535, (0 lost), 1, 2: a wrap and a loss; the marker bit is irrelevant. */
    const uint16_t seqs[] = {65534, 65535, 1, 2};
    for (int i = 0; i < 4; i++) {
        tc_fill(payload, frame, (uint32_t)i);
        tc_push(d, seqs[i], 1000 + (uint32_t)i * ts_step, i == 0, payload, frame, 0);
    }
    assert_int_equal(cap.n, 4);
    for (int i = 0; i < 4; i++) {
        tc_fill(payload, frame, (uint32_t)i);
        assert_int_equal(cap.u[i].len, frame);
        assert_memory_equal(cap.u[i].data, payload, frame);
        assert_int_equal(cap.u[i].ts, 1000 + (uint32_t)i * ts_step);
        assert_true(cap.u[i].key);
    }
    assert_int_equal(depack_stats(d)->lost, 1);
    assert_int_equal(depack_stats(d)->dropped, 0);
    depack_free(d);
}

static void test_opus(void **state)
{
    (void)state;
    run_codec(RING_CODEC_OPUS, 120, 960); /* 20 ms at 48 kHz */
}

static void test_pcmu(void **state)
{
    (void)state;
    run_codec(RING_CODEC_PCMU, 160, 160); /* 20 ms at 8 kHz */
}

static void test_pcma(void **state)
{
    (void)state;
    run_codec(RING_CODEC_PCMA, 160, 160);
}

static void test_oversized_frame_dropped(void **state)
{
    (void)state;
    struct depack *d;
    memset(&cap, 0, sizeof(cap));
    assert_int_equal(depack_create(&d, RING_CODEC_OPUS, 100, tc_on_au, &cap), 0);
    uint8_t payload[200];
    tc_fill(payload, sizeof(payload), 1);
    tc_push(d, 1, 0, true, payload, sizeof(payload), 0);
    tc_push(d, 2, 960, true, payload, 50, 0);
    assert_int_equal(cap.n, 1);
    assert_int_equal(cap.u[0].len, 50);
    assert_int_equal(depack_stats(d)->bad, 1);
    assert_int_equal(depack_stats(d)->dropped, 1);
    depack_free(d);
}

static void test_unknown_codec(void **state)
{
    (void)state;
    struct depack *d;
    assert_int_equal(depack_create(&d, RING_CODEC_NONE, 100, tc_on_au, &cap), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_opus),          cmocka_unit_test(test_pcmu),
        cmocka_unit_test(test_pcma),          cmocka_unit_test(test_oversized_frame_dropped),
        cmocka_unit_test(test_unknown_codec),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
