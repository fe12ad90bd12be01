/* SPDX-License-Identifier: MIT */
/* test_rtsp_describe.c: the SDP of a DESCRIBE answer (rtsp/describe.c): sprop-parameter-sets
 * and profile-level-id from the ring's SPS/PPS, sprop-vps/sps/pps for H.265, Opus and G.711
 * payload types, a=control per track, and the size cap. The ingest's own fmtp parser reads the
 * parameter sets back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "codec/codec.h"
#include "rtsp/describe.h"

static const uint8_t h264_params[] = {0,    0, 0, 1, 0x67, 0x42, 0xc0, 0x1f, 0xda,
                                      0x01, 0, 0, 0, 1,    0x68, 0xce, 0x3c, 0x80};

static void test_h264_opus(void **state)
{
    (void)state;
    struct rtsp_sdp_track t[2] = {
        {.index = 0,
         .codec = RING_CODEC_H264,
         .clock_rate = 90000,
         .channels = 1,
         .params = h264_params,
         .params_len = sizeof(h264_params)},
        {.index = 1, .codec = RING_CODEC_OPUS, .clock_rate = 48000, .channels = 2},
    };
    char sdp[RTSP_SDP_MAX];
    int n = rtsp_sdp_build(sdp, sizeof(sdp), "demo", "127.0.0.1", 42, t, 2);
    assert_true(n > 0);
    assert_int_equal((size_t)n, strlen(sdp));
    assert_non_null(strstr(sdp, "v=0\r\no=- 42 1 IN IP4 127.0.0.1\r\ns=demo\r\n"));
    assert_non_null(strstr(sdp, "m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
                                "a=fmtp:96 packetization-mode=1;profile-level-id=42C01F;"
                                "sprop-parameter-sets=Z0LAH9oB,aM48gA==\r\n"
                                "a=control:trackID=0\r\n"));
    assert_non_null(strstr(sdp, "m=audio 0 RTP/AVP 97\r\na=rtpmap:97 opus/48000/2\r\n"
                                "a=fmtp:97 sprop-stereo=1\r\na=control:trackID=1\r\n"));
    /* The ingest's fmtp reader gets the same parameter sets back. */
    const char *f = strstr(sdp, "a=fmtp:96 ") + 10;
    uint8_t back[64];
    int b = codec_params_from_fmtp(RING_CODEC_H264, f, strcspn(f, "\r"), back, sizeof(back));
    assert_int_equal(b, sizeof(h264_params));
    assert_memory_equal(back, h264_params, sizeof(h264_params));
    /* Too small: -ENOSPC, never a cut SDP. */
    assert_int_equal(rtsp_sdp_build(sdp, (size_t)n, "demo", "127.0.0.1", 42, t, 2), -ENOSPC);
}

static void test_h265_g711(void **state)
{
    (void)state;
    static const uint8_t p[] = {0,    0,    0,    1, 0x40, 0x01, 0xaa, 0,    0,    0,   1,
                                0x42, 0x01, 0xbb, 0, 0,    0,    1,    0x44, 0x01, 0xcc};
    struct rtsp_sdp_track t[3] = {
        {.index = 2,
         .codec = RING_CODEC_H265,
         .clock_rate = 90000,
         .params = p,
         .params_len = sizeof(p)},
        {.index = 0, .codec = RING_CODEC_PCMU, .clock_rate = 8000, .channels = 1},
        {.index = 3, .codec = RING_CODEC_PCMA, .clock_rate = 16000, .channels = 2},
    };
    char sdp[RTSP_SDP_MAX];
    assert_true(rtsp_sdp_build(sdp, sizeof(sdp), "cam", "::1", 1, t, 3) > 0);
    assert_non_null(strstr(sdp, "o=- 1 1 IN IP6 ::1\r\n"));
    assert_non_null(strstr(sdp, "m=video 0 RTP/AVP 98\r\na=rtpmap:98 H265/90000\r\n"
                                "a=fmtp:98 profile-id=1;sprop-vps=QAGq;sprop-sps=QgG7;"
                                "sprop-pps=RAHM\r\na=control:trackID=2\r\n"));
    assert_non_null(strstr(sdp, "m=audio 0 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
                                "a=control:trackID=0\r\n"));
    assert_non_null(strstr(sdp, "m=audio 0 RTP/AVP 99\r\na=rtpmap:99 PCMA/16000/2\r\n"));
    struct rtsp_sdp_track none = {.codec = RING_CODEC_NONE};
    assert_int_equal(rtsp_sdp_build(sdp, sizeof(sdp), "x", "::1", 1, &none, 1), -EINVAL);
}

static void test_base64(void **state)
{
    (void)state;
    /* RFC 4648 10 vectors. */
    static const char *const v[][2] = {{"", ""},
                                       {"f", "Zg=="},
                                       {"fo", "Zm8="},
                                       {"foo", "Zm9v"},
                                       {"foob", "Zm9vYg=="},
                                       {"fooba", "Zm9vYmE="},
                                       {"foobar", "Zm9vYmFy"}};
    char out[16];
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        assert_int_equal(
            codec_base64_encode((const uint8_t *)v[i][0], strlen(v[i][0]), out, sizeof(out)),
            (int)strlen(v[i][1]));
        assert_string_equal(out, v[i][1]);
    }
    assert_int_equal(codec_base64_encode((const uint8_t *)"foo", 3, out, 4), -ENOSPC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_h264_opus),
        cmocka_unit_test(test_h265_g711),
        cmocka_unit_test(test_base64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
