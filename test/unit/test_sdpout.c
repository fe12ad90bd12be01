/* SPDX-License-Identifier: MIT */
/* test_sdpout.c: the answer writer both WHEP and WHIP answers use (rtc/sdpout.c): the
 * session lines with and without BUNDLE, an answered section (rtpmap with channels, fmtp,
 * feedback, UDP and TCP candidates with RFC 8445/6544 priorities), a rejected one (port 0,
 * inactive, transport attributes only), and a buffer too small failing whole. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "rtc/sdpout.h"

static const char *const cands[] = {"192.0.2.7", "::1"};

static const struct sdpout_transport transport = {
    .ufrag = "uf01",
    .pwd = "pwd0123456789012345678901",
    .fingerprint = "sha-256 AA:BB",
    .candidates = cands,
    .n_candidates = 2,
    .port = 18850,
    .tcp_port = 18851,
};

static const struct sdpout_media opus = {
    .kind = "audio",
    .proto = "UDP/TLS/RTP/SAVPF",
    .mid = "1",
    .pt = 111,
    .dir = "recvonly",
    .encoding = "opus",
    .clock_rate = 48000,
    .channels = 2,
    .fmtp = "minptime=10;useinbandfec=1",
};

static void test_answered_and_rejected(void **state)
{
    (void)state;
    char buf[4096];
    struct sdpout o;
    sdpout_init(&o, buf, sizeof(buf));
    sdpout_session(&o, 42, &transport, " 1");
    struct sdpout_media video = {
        .kind = "video", .proto = "UDP/TLS/RTP/SAVPF", .mid = "0", .pt = 96, .rejected = true};
    sdpout_media(&o, &video, &transport);
    sdpout_media(&o, &opus, &transport);
    sdpout_candidates(&o, &transport);
    int n = sdpout_end(&o);
    assert_int_equal(n, (int)strlen(buf));
    const char *want = "v=0\r\no=- 42 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=ice-lite\r\n"
                       "a=fingerprint:sha-256 AA:BB\r\na=group:BUNDLE 1\r\n"
                       "m=video 0 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n"
                       "a=inactive\r\na=ice-ufrag:uf01\r\na=ice-pwd:pwd0123456789012345678901\r\n"
                       "a=setup:passive\r\na=rtcp-mux\r\n"
                       "m=audio 18850 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\n"
                       "a=recvonly\r\na=ice-ufrag:uf01\r\na=ice-pwd:pwd0123456789012345678901\r\n"
                       "a=setup:passive\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n"
                       "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
                       "a=candidate:1 1 udp 2130706431 192.0.2.7 18850 typ host\r\n"
                       "a=candidate:2 1 udp 2130706175 ::1 18850 typ host\r\n"
                       "a=candidate:3 1 tcp 1520435199 192.0.2.7 18851 typ host tcptype passive\r\n"
                       "a=candidate:4 1 tcp 1520434943 ::1 18851 typ host tcptype passive\r\n"
                       "a=end-of-candidates\r\n";
    assert_string_equal(buf, want);
}

/* No BUNDLE line without a group; a one-channel format has no channel count; feedback
 * lines as asked. */
static void test_video_feedback(void **state)
{
    (void)state;
    char buf[2048];
    struct sdpout o;
    sdpout_init(&o, buf, sizeof(buf));
    sdpout_session(&o, 1, &transport, NULL);
    struct sdpout_media m = {.kind = "video",
                             .proto = "UDP/TLS/RTP/SAVPF",
                             .mid = "",
                             .pt = 102,
                             .dir = "sendonly",
                             .encoding = "H264",
                             .clock_rate = 90000,
                             .channels = 1,
                             .nack = true,
                             .pli = true};
    sdpout_media(&o, &m, &transport);
    assert_true(sdpout_end(&o) > 0);
    assert_null(strstr(buf, "a=group"));
    assert_null(strstr(buf, "a=mid"));
    assert_null(strstr(buf, "a=fmtp"));
    assert_non_null(strstr(buf, "a=sendonly\r\n"));
    assert_non_null(strstr(buf, "a=rtpmap:102 H264/90000\r\n"));
    assert_non_null(strstr(buf, "a=rtcp-fb:102 nack\r\na=rtcp-fb:102 nack pli\r\n"));
}

/* What does not fit fails the whole answer, and the text never ends in half a line. */
static void test_too_small(void **state)
{
    (void)state;
    char buf[120];
    struct sdpout o;
    sdpout_init(&o, buf, sizeof(buf));
    sdpout_session(&o, 1, &transport, NULL);
    size_t len = strlen(buf);
    sdpout_media(&o, &opus, &transport);
    assert_int_equal(sdpout_end(&o), -ENOSPC);
    assert_int_equal(strlen(buf), len);
    assert_true(len > 0 && buf[len - 1] == '\n');
    sdpout_init(&o, buf, 0);
    assert_int_equal(sdpout_end(&o), -ENOSPC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_answered_and_rejected),
        cmocka_unit_test(test_video_feedback),
        cmocka_unit_test(test_too_small),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
