/* SPDX-License-Identifier: MIT */
/* test_h264_sps.c: SPS parsing (size, profile-level-id, VUI frame rate) on SPSs written by
 * x264 through ffmpeg, sprop-parameter-sets / sprop-vps/sps/pps decoding, base64, Annex-B
 * iteration and keyframe detection. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "codec/codec.h"
#include "codec/h264.h"

/* etc/demo.h264: 1280x720 constrained baseline, 30 fps (emulation prevention inside). */
static const uint8_t sps_demo[] = {0x67, 0x42, 0xc0, 0x1f, 0xd9, 0x00, 0x50, 0x05, 0xbb,
                                   0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00,
                                   0x03, 0x03, 0xc0, 0xf1, 0x83, 0x24, 0x80};
/* ffmpeg -f lavfi -i testsrc2=size=1920x1080:rate=25 -c:v libx264 -profile:v high:
 * high profile (chroma info present), 1088 coded lines cropped to 1080. */
static const uint8_t sps_1080[] = {0x67, 0x64, 0x00, 0x28, 0xac, 0xd9, 0x40, 0x78, 0x02,
                                   0x27, 0xe5, 0xc0, 0x44, 0x00, 0x00, 0x03, 0x00, 0x04,
                                   0x00, 0x00, 0x03, 0x00, 0xc8, 0x3c, 0x60, 0xc6, 0x58};

static void test_sps_demo(void **state)
{
    (void)state;
    struct h264_sps s;
    assert_int_equal(h264_sps_parse(sps_demo, sizeof(sps_demo), &s), 0);
    assert_int_equal(s.width, 1280);
    assert_int_equal(s.height, 720);
    char pli[7];
    h264_profile_level_id(&s, pli);
    assert_string_equal(pli, "42c01f");
    uint32_t num, den;
    assert_int_equal(h264_sps_fps(&s, &num, &den), 0);
    assert_int_equal(num / den, 30);
    assert_int_equal(num % den, 0);
}

static void test_sps_high_profile_cropped(void **state)
{
    (void)state;
    struct h264_sps s;
    assert_int_equal(h264_sps_parse(sps_1080, sizeof(sps_1080), &s), 0);
    assert_int_equal(s.width, 1920);
    assert_int_equal(s.height, 1080);
    assert_int_equal(s.profile_idc, 100);
    assert_int_equal(s.level_idc, 40);
    uint32_t num, den;
    assert_int_equal(h264_sps_fps(&s, &num, &den), 0);
    assert_int_equal(num, 25 * den);
}

static void test_sps_rejects(void **state)
{
    (void)state;
    struct h264_sps s;
    static const uint8_t pps[] = {0x68, 0xcb, 0x8c, 0xb2};
    assert_int_equal(h264_sps_parse(pps, sizeof(pps), &s), -EINVAL);
    assert_int_equal(h264_sps_parse(sps_demo, 0, &s), -EINVAL);
    /* Every truncation fails cleanly (the VUI comes last, so most cuts lose it). */
    for (size_t n = 1; n < 8; n++)
        assert_int_equal(h264_sps_parse(sps_demo, n, &s), -EBADMSG);
    /* Without timing info there is no frame rate. */
    s.has_timing = false;
    uint32_t num, den;
    assert_int_equal(h264_sps_fps(&s, &num, &den), -ENOENT);
}

static void test_sprop_h264(void **state)
{
    (void)state;
    const char *fmtp = "profile-level-id=42c01f; packetization-mode=1; "
                       "sprop-parameter-sets=Z0LAH9kAUAW7ARAAAAMAEAAAAwPA8YMkgA==,aMuMsg==";
    uint8_t out[256];
    int n = codec_params_from_fmtp(RING_CODEC_H264, fmtp, strlen(fmtp), out, sizeof(out));
    assert_int_equal(n, 4 + sizeof(sps_demo) + 4 + 4);
    assert_memory_equal(out, "\0\0\0\1", 4);
    assert_memory_equal(out + 4, sps_demo, sizeof(sps_demo));
    assert_memory_equal(out + 4 + sizeof(sps_demo), "\0\0\0\1\x68\xcb\x8c\xb2", 8);
    /* No sprop: nothing; bad base64 and a short buffer are errors. */
    assert_int_equal(
        codec_params_from_fmtp(RING_CODEC_H264, "packetization-mode=1", 20, out, sizeof(out)), 0);
    const char *bad = "sprop-parameter-sets=Z0L*H9k=";
    assert_int_equal(codec_params_from_fmtp(RING_CODEC_H264, bad, strlen(bad), out, sizeof(out)),
                     -EBADMSG);
    assert_int_equal(codec_params_from_fmtp(RING_CODEC_H264, fmtp, strlen(fmtp), out, 20), -ENOSPC);
}

static void test_sprop_h265_order(void **state)
{
    (void)state;
    /* Listed PPS first; the blob is still VPS, SPS, PPS. */
    const char *fmtp = "sprop-pps=RAHA;sprop-sps=QgE=;sprop-vps=QAE=";
    uint8_t out[64];
    int n = codec_params_from_fmtp(RING_CODEC_H265, fmtp, strlen(fmtp), out, sizeof(out));
    assert_int_equal(n, 6 + 6 + 7);
    assert_memory_equal(out, "\0\0\0\1\x40\x01\0\0\0\1\x42\x01\0\0\0\1\x44\x01\xc0", 19);
}

static void test_base64(void **state)
{
    (void)state;
    uint8_t out[8];
    assert_int_equal(codec_base64_decode("Zm9vYg==", 8, out, sizeof(out)), 4);
    assert_memory_equal(out, "foob", 4);
    assert_int_equal(codec_base64_decode("Zm9vYg", 6, out, sizeof(out)), 4);
    assert_int_equal(codec_base64_decode("Zm9vY", 5, out, sizeof(out)), -EBADMSG);
    assert_int_equal(codec_base64_decode("Zm 9v", 5, out, sizeof(out)), -EBADMSG);
    assert_int_equal(codec_base64_decode("Zm9vYmFy", 8, out, 5), -ENOSPC);
}

static void test_annexb_and_keyframes(void **state)
{
    (void)state;
    /* Leading junk, a 4-byte and a 3-byte start code, trailing zeros, an empty NAL. */
    static const uint8_t au[] = {0xff, 0, 0, 0, 1, 0x67, 0x42, 0,    0,    1,    0x68, 0xce,
                                 0,    0, 0, 1, 0, 0,    1,    0x65, 0x88, 0x84, 0};
    size_t pos = 0, n;
    const uint8_t *nal;
    int types[4], count = 0;
    while (codec_annexb_next(au, sizeof(au), &pos, &nal, &n) == 1) {
        assert_true(count < 4);
        types[count++] = codec_nal_type(RING_CODEC_H264, nal, n);
        assert_int_not_equal(nal[n - 1], 0);
    }
    assert_int_equal(count, 3);
    assert_int_equal(types[0], 7);
    assert_int_equal(types[1], 8);
    assert_int_equal(types[2], 5);
    assert_true(codec_au_is_key(RING_CODEC_H264, au, sizeof(au)));
    assert_false(codec_au_is_key(RING_CODEC_H264, au, 12)); /* SPS and PPS only */
    uint8_t params[64];
    assert_int_equal(codec_params_from_au(RING_CODEC_H264, au, sizeof(au), params, 64), 12);
    /* The same SPS and PPS twice (payloader + clip) are kept once; a different PPS is kept. */
    static const uint8_t twice[] = {0, 0, 0, 1, 0x67, 0x42, 0, 0, 0, 1, 0x68, 0xce,
                                    0, 0, 0, 1, 0x67, 0x42, 0, 0, 0, 1, 0x68, 0xce,
                                    0, 0, 0, 1, 0x68, 0xcf, 0, 0, 0, 1, 0x65, 0x88};
    static const uint8_t once[] = {0, 0,    0,    1, 0x67, 0x42, 0, 0,    0,
                                   1, 0x68, 0xce, 0, 0,    0,    1, 0x68, 0xcf};
    assert_int_equal(codec_params_from_au(RING_CODEC_H264, twice, sizeof(twice), params, 64),
                     sizeof(once));
    assert_memory_equal(params, once, sizeof(once));
    assert_true(codec_au_is_key(RING_CODEC_OPUS, au, 1));
    /* H.265: CRA (21) is a keyframe, TRAIL_R (1) is not. */
    static const uint8_t cra[] = {0, 0, 1, 21 << 1, 1, 0xaf};
    static const uint8_t trail[] = {0, 0, 1, 1 << 1, 1, 0xaf};
    assert_true(codec_au_is_key(RING_CODEC_H265, cra, sizeof(cra)));
    assert_false(codec_au_is_key(RING_CODEC_H265, trail, sizeof(trail)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sps_demo),
        cmocka_unit_test(test_sps_high_profile_cropped),
        cmocka_unit_test(test_sps_rejects),
        cmocka_unit_test(test_sprop_h264),
        cmocka_unit_test(test_sprop_h265_order),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_annexb_and_keyframes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
