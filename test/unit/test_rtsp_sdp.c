/* SPDX-License-Identifier: MIT */
/* test_rtsp_sdp.c: the ingest side of SDP (ingest/rtsp_sdp.c): GStreamer's and a camera's
 * DESCRIBE answers, static payload types, unsupported sections, control URL resolution,
 * a missing final CRLF and SDPs that must be rejected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "ingest/rtsp_sdp.h"
#include "shm/ring.h"

/* As gst-rtsp-server 1.22 answers for an H.264 + Opus media. */
static const char gst[] =
    "v=0\r\no=- 1188340656180883 1 IN IP4 127.0.0.1\r\ns=Session streamed with GStreamer\r\n"
    "i=rtsp-server\r\nt=0 0\r\na=tool:GStreamer\r\na=type:broadcast\r\na=control:*\r\n"
    "a=range:npt=0-\r\n"
    "m=video 0 RTP/AVP 96\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:96 H264/90000\r\n"
    "a=framerate:25\r\na=fmtp:96 "
    "packetization-mode=1;sprop-parameter-sets=Z0LAHtkDxWhAAAADAEAAAAwDxYuS,"
    "aMuMsg==;profile-level-id=42c01e\r\na=control:stream=0\r\n"
    "m=audio 0 RTP/AVP 97\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:97 OPUS/48000/2\r\n"
    "a=control:stream=1\r\n";

static int parse(struct rtsp_sdp *s, const char *text, const char *base)
{
    return rtsp_sdp_parse(s, (const uint8_t *)text, strlen(text), base);
}

static void test_gstreamer(void **state)
{
    (void)state;
    static struct rtsp_sdp s;
    assert_int_equal(parse(&s, gst, "rtsp://127.0.0.1:8554/test/"), 0);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.control, "rtsp://127.0.0.1:8554/test/");
    assert_int_equal(s.t[0].codec, RING_CODEC_H264);
    assert_int_equal(s.t[0].pt, 96);
    assert_int_equal(s.t[0].clock_rate, 90000);
    assert_string_equal(s.t[0].control, "rtsp://127.0.0.1:8554/test/stream=0");
    assert_non_null(strstr(s.t[0].fmtp, "sprop-parameter-sets=Z0LAHtkDxWhAAAADAEAAAAwDxYuS"));
    assert_int_equal(s.t[1].codec, RING_CODEC_OPUS);
    assert_int_equal(s.t[1].channels, 2);
    assert_int_equal(s.t[1].clock_rate, 48000);
    assert_string_equal(s.t[1].control, "rtsp://127.0.0.1:8554/test/stream=1");
}

static void test_camera_static_pt(void **state)
{
    (void)state;
    /* No trailing CRLF, an absolute session control, an H.265 track, PCMA by static PT 8
     * without rtpmap, and an unsupported metadata section. */
    static const char cam[] =
        "v=0\r\no=- 1 1 IN IP4 10.0.0.7\r\ns=cam\r\nt=0 0\r\na=control:rtsp://10.0.0.7/live/\r\n"
        "m=video 0 RTP/AVP 98\r\na=rtpmap:98 H265/90000\r\n"
        "a=fmtp:98 sprop-vps=QAEMAf//AWAAAAMAkAAAAwAAAwBdlZgJ\r\na=control:trackID=1\r\n"
        "m=audio 0 RTP/AVP 8\r\na=control:trackID=2\r\n"
        "m=application 0 RTP/AVP 107\r\na=rtpmap:107 vnd.onvif.metadata/90000\r\n"
        "a=control:rtsp://10.0.0.7/live/meta";
    static struct rtsp_sdp s;
    assert_int_equal(parse(&s, cam, "rtsp://10.0.0.7/live"), 0);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.control, "rtsp://10.0.0.7/live/");
    assert_int_equal(s.t[0].codec, RING_CODEC_H265);
    assert_string_equal(s.t[0].control, "rtsp://10.0.0.7/live/trackID=1");
    assert_int_equal(s.t[1].codec, RING_CODEC_PCMA);
    assert_int_equal(s.t[1].pt, 8);
    assert_int_equal(s.t[1].clock_rate, 8000);
    assert_int_equal(s.t[2].codec, RING_CODEC_NONE);
    assert_string_equal(s.t[2].encoding, "vnd.onvif.metadata");
    assert_string_equal(s.t[2].control, "rtsp://10.0.0.7/live/meta");
}

static void test_first_supported_format(void **state)
{
    (void)state;
    static const char t[] = "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\n"
                            "m=audio 0 RTP/AVP 14 0\r\na=rtpmap:14 MPA/90000\r\n"
                            "m=video 0 RTP/AVP 26\r\n";
    static struct rtsp_sdp s;
    assert_int_equal(parse(&s, t, "rtsp://h/x"), 0);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.t[0].codec, RING_CODEC_PCMU); /* MPA skipped, PT 0 taken */
    assert_int_equal(s.t[0].pt, 0);
    assert_string_equal(s.t[0].control, "rtsp://h/x");
    assert_int_equal(s.t[1].codec, RING_CODEC_NONE); /* JPEG */
    assert_int_equal(s.t[1].pt, -1);
    assert_string_equal(s.t[1].encoding, "PT 26");
}

static void test_bad(void **state)
{
    (void)state;
    static struct rtsp_sdp s;
    assert_int_equal(parse(&s, "hello\r\n", "rtsp://h/"), -EBADMSG);
    assert_int_equal(rtsp_sdp_parse(&s, (const uint8_t *)"v=0\r\n\0s=x\r\n", 11, "rtsp://h/"),
                     -EBADMSG);
    assert_int_equal(rtsp_sdp_parse(&s, (const uint8_t *)gst, RTSP_SDP_MAX_LEN + 1, "rtsp://h/"),
                     -EMSGSIZE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gstreamer),
        cmocka_unit_test(test_camera_static_pt),
        cmocka_unit_test(test_first_supported_format),
        cmocka_unit_test(test_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
