/* SPDX-License-Identifier: MIT */
/* test_rtsp_msg.c: RTSP wire parsing (rtsp/msg.c): requests a server reads, responses it writes,
 * URLs with credentials, redaction, control URL resolution, responses split anywhere, caps on heads
 * and bodies, the interleaved demux and its bad lengths, Transport and Public headers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rtsp/msg.h"

static void test_url_parse(void **state)
{
    (void)state;
    struct rtsp_url u;
    assert_int_equal(rtsp_url_parse(&u, "rtsp://cam.local/live"), 0);
    assert_string_equal(u.host, "cam.local");
    assert_int_equal(u.port, 554);
    assert_string_equal(u.path, "/live");
    assert_string_equal(u.user, "");

    assert_int_equal(rtsp_url_parse(&u, "rtsp://ad%40min:p%3Ass@10.0.0.7:8554/a/b?x=1"), 0);
    assert_string_equal(u.user, "ad@min");
    assert_string_equal(u.pass, "p:ss");
    assert_string_equal(u.host, "10.0.0.7");
    assert_int_equal(u.port, 8554);
    assert_string_equal(u.path, "/a/b?x=1");

    /* '@' in an unescaped password: the last '@' before the path ends the userinfo. */
    assert_int_equal(rtsp_url_parse(&u, "rtsp://u:a@b@h"), 0);
    assert_string_equal(u.pass, "a@b");
    assert_string_equal(u.host, "h");
    assert_string_equal(u.path, "/");

    assert_int_equal(rtsp_url_parse(&u, "rtsp://[::1]:9000/x"), 0);
    assert_string_equal(u.host, "::1");
    assert_int_equal(u.port, 9000);
    char out[RTSP_URL_MAX];
    assert_int_equal(rtsp_url_format(&u, out, sizeof(out)), 0);
    assert_string_equal(out, "rtsp://[::1]:9000/x");

    static const char *const bad[] = {
        "http://h/x",       "rtsp://",        "rtsp://:554/x",  "rtsp://h:0/x",
        "rtsp://h:70000/x", "rtsp://h:12a/x", "rtsp://h:/x",    "rtsp://h/a b",
        "rtsp://u%zz@h/",   "rtsp://[::1/x",  "rtsp://u%00@h/",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(rtsp_url_parse(&u, bad[i]), -EINVAL);
}

static void test_redact(void **state)
{
    (void)state;
    char out[256];
    rtsp_url_redact("redirect to rtsp://admin:secret@10.1.1.1/x and rtsp://h2/y", out, sizeof(out));
    assert_string_equal(out, "redirect to rtsp://10.1.1.1/x and rtsp://h2/y");
    assert_null(strstr(out, "secret"));
    rtsp_url_redact("no url here", out, sizeof(out));
    assert_string_equal(out, "no url here");
    /* Truncation never leaves the password in. */
    rtsp_url_redact("rtsp://admin:secret@host/", out, 10);
    assert_null(strstr(out, "secret"));
    assert_true(strlen(out) <= 9);
}

static void test_resolve(void **state)
{
    (void)state;
    char out[RTSP_URL_MAX];
    assert_int_equal(rtsp_url_resolve("rtsp://h/x/", "stream=0", out, sizeof(out)), 0);
    assert_string_equal(out, "rtsp://h/x/stream=0");
    assert_int_equal(rtsp_url_resolve("rtsp://h/x", "trackID=1", out, sizeof(out)), 0);
    assert_string_equal(out, "rtsp://h/x/trackID=1");
    assert_int_equal(rtsp_url_resolve("rtsp://h/x", "*", out, sizeof(out)), 0);
    assert_string_equal(out, "rtsp://h/x");
    assert_int_equal(rtsp_url_resolve("rtsp://h/x", NULL, out, sizeof(out)), 0);
    assert_string_equal(out, "rtsp://h/x");
    assert_int_equal(rtsp_url_resolve("rtsp://h/x", "rtsp://o/t=2", out, sizeof(out)), 0);
    assert_string_equal(out, "rtsp://o/t=2");
    assert_int_equal(rtsp_url_resolve("rtsp://h/x", "t", out, 8), -ENAMETOOLONG);
}

static const char describe_ok[] = "RTSP/1.0 200 OK\r\n"
                                  "CSeq: 3\r\n"
                                  "Content-Type: application/sdp\r\n"
                                  "Content-Base: rtsp://127.0.0.1:8554/test/\r\n"
                                  "Session: 4AbC;timeout=30\r\n"
                                  "WWW-Authenticate: Basic realm=\"a\"\r\n"
                                  "Content-Length: 10\r\n"
                                  "\r\n"
                                  "v=0\r\ns=x\r\n";

static void test_response_whole_and_split(void **state)
{
    (void)state;
    struct rtsp_response r;
    const uint8_t *p = (const uint8_t *)describe_ok;
    size_t len = strlen(describe_ok);
    assert_int_equal(rtsp_response_parse(&r, p, len), (int)len);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.reason, "OK");
    assert_true(r.has_cseq);
    assert_int_equal(r.cseq, 3);
    assert_string_equal(r.session, "4AbC");
    assert_int_equal(r.session_timeout, 30);
    assert_string_equal(r.content_base, "rtsp://127.0.0.1:8554/test/");
    assert_int_equal(r.n_auth, 1);
    assert_int_equal(r.body_len, 10);
    assert_memory_equal(r.body, "v=0\r\ns=x\r\n", 10);
    /* Every prefix is "need more", never an error. */
    for (size_t k = 0; k < len; k++)
        assert_int_equal(rtsp_response_parse(&r, p, k), 0);
    /* Trailing bytes (the next message) are not consumed. */
    uint8_t two[1024];
    memcpy(two, describe_ok, len);
    memcpy(two + len, "$\x00\x00\x10", 4);
    assert_int_equal(rtsp_response_parse(&r, two, len + 4), (int)len);
}

static void test_response_bad(void **state)
{
    (void)state;
    struct rtsp_response r;
#define PARSE(s) rtsp_response_parse(&r, (const uint8_t *)(s), sizeof(s) - 1)
    assert_int_equal(PARSE("HTTP/1.1 200 OK\r\n\r\n"), -EBADMSG);
    assert_int_equal(PARSE("RTSX"), -EBADMSG);
    assert_int_equal(PARSE("RTSP/1.0 2000 OK\r\n\r\n"), -EBADMSG);
    assert_int_equal(PARSE("RTSP/1.0 099 x\r\n\r\n"), -EBADMSG);
    assert_int_equal(PARSE("RTSP/1.0 200 OK\r\nno colon\r\n\r\n"), -EBADMSG);
    assert_int_equal(PARSE("RTSP/1.0 200 OK\r\nContent-Length: -5\r\n\r\n"), -EBADMSG);
    assert_int_equal(PARSE("RTSP/1.0 200 OK\r\nContent-Length: 4294967297\r\n\r\n"), -EMSGSIZE);
    assert_int_equal(PARSE("RTSP/1.0 200 OK\r\nContent-Length: 99999999999\r\n\r\n"), -EBADMSG);
    assert_int_equal(PARSE("RTSP/1.0 200 OK\r\nContent-Length: 65537\r\n\r\n"), -EMSGSIZE);
    assert_int_equal(PARSE("RTSP/1.0 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
                     -EBADMSG);
    assert_int_equal(PARSE("RTSP/1.0 200 OK\r\nCSeq: x1\r\n\r\n"), -EBADMSG);
    /* LF-only line ends are accepted (some cameras). */
    assert_int_equal(PARSE("RTSP/1.0 404 Not Found\nCSeq: 2\n\n"), 32);
    assert_int_equal(r.status, 404);
    assert_string_equal(r.reason, "Not Found");
#undef PARSE
    /* A head that never ends is refused at the cap, not buffered forever. */
    size_t n = RTSP_HEAD_MAX + 10;
    char *big = malloc(n);
    assert_non_null(big);
    memcpy(big, "RTSP/1.0 200 OK\r\nX: ", 21);
    memset(big + 21, 'a', n - 21);
    assert_int_equal(rtsp_response_parse(&r, (const uint8_t *)big, n), -EMSGSIZE);
    assert_int_equal(rtsp_response_parse(&r, (const uint8_t *)big, RTSP_HEAD_MAX - 1), 0);
    /* A header value longer than its field is an error, not a silent cut. */
    memcpy(big, "RTSP/1.0 200 OK\r\nSession: ", 26);
    memset(big + 26, 's', 300);
    memcpy(big + 326, "\r\n\r\n", 4);
    assert_int_equal(rtsp_response_parse(&r, (const uint8_t *)big, 330), -EBADMSG);
    free(big);
}

static void test_stream_demux(void **state)
{
    (void)state;
    struct rtsp_item *it = malloc(sizeof(*it));
    assert_non_null(it);
    uint8_t buf[64] = {'$', 1, 0, 12};
    memset(buf + 4, 0x80, 12);
    assert_int_equal(rtsp_stream_next(it, buf, 16), 16);
    assert_int_equal(it->kind, RTSP_ITEM_INTERLEAVED);
    assert_int_equal(it->channel, 1);
    assert_int_equal(it->data_len, 12);
    assert_ptr_equal(it->data, buf + 4);
    for (size_t k = 0; k < 16; k++)
        assert_int_equal(rtsp_stream_next(it, buf, k), 0);
    /* Lengths that cannot hold a packet: the stream is desynchronized. */
    const uint8_t zero[] = {'$', 0, 0, 0};
    assert_int_equal(rtsp_stream_next(it, zero, sizeof(zero)), -ERANGE);
    const uint8_t three[] = {'$', 0, 0, 3, 1, 2, 3};
    assert_int_equal(rtsp_stream_next(it, three, sizeof(three)), -ERANGE);

    const char req[] = "OPTIONS * RTSP/1.0\r\nCSeq: 7\r\n\r\n";
    assert_int_equal(rtsp_stream_next(it, (const uint8_t *)req, sizeof(req) - 1),
                     (int)sizeof(req) - 1);
    assert_int_equal(it->kind, RTSP_ITEM_REQUEST);
    assert_string_equal(it->req.method, "OPTIONS");
    assert_int_equal(it->req.cseq, 7);
    assert_int_equal(rtsp_stream_next(it, (const uint8_t *)"OPTI", 4), 0);

    const char resp[] = "RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n";
    assert_int_equal(rtsp_stream_next(it, (const uint8_t *)resp, sizeof(resp) - 1),
                     (int)sizeof(resp) - 1);
    assert_int_equal(it->kind, RTSP_ITEM_RESPONSE);
    assert_int_equal(rtsp_stream_next(it, (const uint8_t *)"R", 1), 0);

    assert_int_equal(rtsp_stream_next(it, (const uint8_t *)"\x80\x60garbage", 9), -EBADMSG);
    assert_int_equal(rtsp_stream_next(it, (const uint8_t *)"Hello world", 11), -EBADMSG);
    assert_int_equal(rtsp_stream_next(it, (const uint8_t *)"RTSX/1.0", 8), -EBADMSG);
    free(it);
}

static void test_transport_public(void **state)
{
    (void)state;
    struct rtsp_transport t;
    rtsp_transport_parse(&t, "RTP/AVP/TCP;unicast;interleaved=4-5;ssrc=1A2B3C4D;mode=\"PLAY\"");
    assert_true(t.tcp);
    assert_int_equal(t.interleaved[0], 4);
    assert_int_equal(t.interleaved[1], 5);
    assert_true(t.has_ssrc);
    assert_int_equal(t.ssrc, 0x1a2b3c4d);
    rtsp_transport_parse(&t, "RTP/AVP;unicast;client_port=18600-18601;server_port=6970-6971");
    assert_false(t.tcp);
    assert_int_equal(t.client_port[0], 18600);
    assert_int_equal(t.server_port[0], 6970);
    assert_int_equal(t.server_port[1], 6971);
    assert_int_equal(t.interleaved[0], -1);
    rtsp_transport_parse(&t, "RTP/AVP;server_port=99999");
    assert_int_equal(t.server_port[0], -1);
    /* A client's ports (the server sends there): one number is a pair, nothing out of range. */
    static const struct {
        const char *v;
        int lo, hi;
    } ports[] = {
        {"RTP/AVP;unicast;client_port=5000", 5000, 5001},
        {"RTP/AVP;unicast;client_port=5000-5001", 5000, 5001},
        {"RTP/AVP;unicast;CLIENT_PORT=6000-6003;mode=play", 6000, 6003},
        {"RTP/AVP;unicast;client_port=65534", 65534, 65535},
        {"RTP/AVP;unicast;client_port=65535", -1, -1},
        {"RTP/AVP;unicast;client_port=5000-65536", -1, -1},
        {"RTP/AVP;unicast;client_port=5000-", -1, -1},
        {"RTP/AVP;unicast;client_port=-5000", -1, -1},
        {"RTP/AVP;unicast;client_port=x", -1, -1},
        {"RTP/AVP;unicast;client_port=", -1, -1},
        {"RTP/AVP;unicast", -1, -1},
        {"RTP/AVP;unicast;client_port=5000-5001,RTP/AVP/TCP;interleaved=0-1", 5000, 5001},
    };
    for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
        rtsp_transport_parse(&t, ports[i].v);
        if (t.client_port[0] != ports[i].lo || t.client_port[1] != ports[i].hi || t.tcp)
            fail_msg("%s: client_port %d-%d, expected %d-%d", ports[i].v, t.client_port[0],
                     t.client_port[1], ports[i].lo, ports[i].hi);
    }
    t.client_port[0] = 5000;
    t.client_port[1] = 5001;
    t.server_port[0] = 30000;
    t.server_port[1] = 30001;
    t.has_ssrc = true;
    t.ssrc = 0xdeadbeef;
    char out[128];
    assert_true(rtsp_transport_format(&t, out, sizeof(out)) > 0);
    assert_string_equal(out, "RTP/AVP;unicast;client_port=5000-5001;server_port=30000-30001;"
                             "ssrc=DEADBEEF");

    assert_true(rtsp_list_has("OPTIONS, DESCRIBE, GET_PARAMETER, PLAY", "GET_PARAMETER"));
    assert_false(rtsp_list_has("OPTIONS, DESCRIBE, GET_PARAMETERS", "GET_PARAMETER"));
    assert_false(rtsp_list_has("", "PLAY"));
}

/* What ffmpeg sends, whole and cut anywhere: a prefix is "need more", never an error. */
static void test_request_whole_and_split(void **state)
{
    (void)state;
    static const char req[] = "SETUP rtsp://127.0.0.1:8554/demo/trackID=0 RTSP/1.0\r\n"
                              "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n"
                              "CSeq: 3\r\n"
                              "User-Agent: Lavf60.16.100\r\n"
                              "Session: 0123abcd;timeout=60\r\n"
                              "Authorization: Basic dTpzM2NyZXQ=\r\n"
                              "Content-Length: 4\r\n"
                              "\r\nbodyOPTIONS";
    size_t whole = sizeof(req) - 1 - strlen("OPTIONS");
    struct rtsp_request q;
    for (size_t cut = 0; cut < whole; cut++)
        assert_int_equal(rtsp_request_parse(&q, (const uint8_t *)req, cut), 0);
    assert_int_equal(rtsp_request_parse(&q, (const uint8_t *)req, sizeof(req) - 1), (int)whole);
    assert_string_equal(q.method, "SETUP");
    assert_string_equal(q.uri, "rtsp://127.0.0.1:8554/demo/trackID=0");
    assert_true(q.has_cseq);
    assert_int_equal(q.cseq, 3);
    assert_string_equal(q.session, "0123abcd");
    assert_string_equal(q.transport, "RTP/AVP/TCP;unicast;interleaved=0-1");
    assert_int_equal(q.body_len, 4);
    char pass[64];
    assert_int_equal(rtsp_basic_password(q.authorization, pass, sizeof(pass)), 0);
    assert_string_equal(pass, "s3cret");
    assert_int_equal(rtsp_basic_password("Digest username=\"u\"", pass, sizeof(pass)), -ENOENT);
    assert_int_equal(rtsp_basic_password("Basic dXNlcg==", pass, sizeof(pass)), -EBADMSG);
    assert_int_equal(rtsp_basic_password("Basic !!!", pass, sizeof(pass)), -EBADMSG);

    /* Bare LF line ends, no CSeq. */
    static const char lf[] = "OPTIONS * RTSP/1.0\n\n";
    assert_int_equal(rtsp_request_parse(&q, (const uint8_t *)lf, sizeof(lf) - 1),
                     (int)sizeof(lf) - 1);
    assert_false(q.has_cseq);
}

static void test_request_bad(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "hello world\r\n\r\n",
        "\x16\x03\x01\x02\x00",
        "DESCRIBE rtsp://h/x HTTP/1.1\r\n\r\n",
        "DESCRIBE  RTSP/1.0\r\n\r\n",
        "DESCRIBE rtsp://h/x\r\n\r\n",
        "DEscribe rtsp://h/x RTSP/1.0\r\n\r\n",
        "DESCRIBE rtsp://h/x RTSP/1.0\r\nno colon here\r\n\r\n",
        "DESCRIBE rtsp://h/x RTSP/1.0\r\nCSeq: x\r\n\r\n",
        "DESCRIBE rtsp://h/x RTSP/1.0\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "DESCRIBE rtsp://h/\x01x RTSP/1.0\r\n\r\n",
    };
    struct rtsp_request q;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(rtsp_request_parse(&q, (const uint8_t *)bad[i], strlen(bad[i])), -EBADMSG);
    /* A NUL in a kept value. */
    static const char nul[] = "PLAY rtsp://h/x RTSP/1.0\r\nSession: a\0b\r\n\r\n";
    assert_int_equal(rtsp_request_parse(&q, (const uint8_t *)nul, sizeof(nul) - 1), -EBADMSG);

    /* Caps: a head that never ends at 8 KiB, a body over 4 KiB. */
    size_t big = RTSP_REQ_HEAD_MAX + 16;
    char *p = malloc(big);
    assert_non_null(p);
    memset(p, 'a', big);
    memcpy(p, "OPTIONS * RTSP/1.0\r\nX-Pad: ", 27);
    assert_int_equal(rtsp_request_parse(&q, (const uint8_t *)p, big), -EMSGSIZE);
    assert_int_equal(rtsp_request_parse(&q, (const uint8_t *)p, RTSP_REQ_HEAD_MAX - 1), 0);
    free(p);
    static const char body[] = "SET_PARAMETER * RTSP/1.0\r\nContent-Length: 4097\r\n\r\n";
    assert_int_equal(rtsp_request_parse(&q, (const uint8_t *)body, sizeof(body) - 1), -EMSGSIZE);
}

static void test_target(void **state)
{
    (void)state;
    struct rtsp_target t;
    assert_int_equal(rtsp_target_parse(&t, "rtsp://127.0.0.1:8554/demo"), 0);
    assert_string_equal(t.path, "demo");
    assert_int_equal(t.track, -1);
    assert_string_equal(t.token, "");
    assert_int_equal(rtsp_target_parse(&t, "rtsp://h/demo/"), 0);
    assert_string_equal(t.path, "demo");
    assert_int_equal(rtsp_target_parse(&t, "rtsp://[::1]:8554/cam-2/trackID=3"), 0);
    assert_string_equal(t.path, "cam-2");
    assert_int_equal(t.track, 3);
    assert_int_equal(rtsp_target_parse(&t, "/demo/trackID=1/?a=b&token=s%40cr%2Bt"), 0);
    assert_int_equal(t.track, 1);
    assert_string_equal(t.token, "s@cr+t");
    assert_int_equal(rtsp_target_parse(&t, "rtsp://h/demo?token=abc"), 0);
    assert_string_equal(t.token, "abc");
    static const char *const bad[] = {
        "*",
        "rtsp://h",
        "rtsp://h/",
        "http://h/demo",
        "rtsp://h/a/b",
        "rtsp://h/a/trackID=x",
        "rtsp://h/a/trackID=256",
        "rtsp://h/a?token=%00",
        "rtsp://h/a?token=%4",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(rtsp_target_parse(&t, bad[i]), -EINVAL);
}

static void test_response_write_transport(void **state)
{
    (void)state;
    struct rtsp_request q = {.cseq = 7, .has_cseq = true};
    char out[256];
    int n =
        rtsp_response_write(out, sizeof(out), 200, &q, "Session: ab;timeout=60\r\n", "v=0\r\n", 5);
    static const char want[] = "RTSP/1.0 200 OK\r\nCSeq: 7\r\nServer: ringcast\r\n"
                               "Session: ab;timeout=60\r\nContent-Length: 5\r\n\r\nv=0\r\n";
    assert_int_equal(n, (int)sizeof(want) - 1);
    assert_memory_equal(out, want, sizeof(want) - 1);
    /* Our own parser reads it back. */
    struct rtsp_response r;
    assert_int_equal(rtsp_response_parse(&r, (const uint8_t *)out, (size_t)n), n);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.session_timeout, 60);
    assert_int_equal(rtsp_response_write(out, 40, 200, &q, "", "v=0\r\n", 5), -ENOSPC);
    n = rtsp_response_write(out, sizeof(out), 454, NULL, "", "", 0);
    assert_true(n > 0);
    assert_memory_equal(out, "RTSP/1.0 454 Session Not Found\r\nServer", 38);

    struct rtsp_transport t;
    rtsp_transport_parse(&t, "RTP/AVP/TCP;unicast;interleaved=2-3,RTP/AVP;unicast");
    assert_true(t.tcp && t.rtp_avp && !t.multicast && !t.record);
    t.has_ssrc = true;
    t.ssrc = 0xdeadbeef;
    assert_true(rtsp_transport_format(&t, out, sizeof(out)) > 0);
    assert_string_equal(out, "RTP/AVP/TCP;unicast;interleaved=2-3;ssrc=DEADBEEF");
    rtsp_transport_parse(&t, "RTP/AVP;unicast;client_port=5000-5001");
    assert_true(!t.tcp && t.rtp_avp);
    t.server_port[0] = 6000;
    t.server_port[1] = 6001;
    assert_true(rtsp_transport_format(&t, out, sizeof(out)) > 0);
    assert_string_equal(out, "RTP/AVP;unicast;client_port=5000-5001;server_port=6000-6001");
    assert_int_equal(rtsp_transport_format(&t, out, 20), -ENOSPC);
    rtsp_transport_parse(&t, "RTP/AVP;multicast;destination=224.1.1.1");
    assert_true(t.multicast);
    rtsp_transport_parse(&t, "RTP/AVP/TCP;unicast;interleaved=0-1;mode=record");
    assert_true(t.record);
    rtsp_transport_parse(&t, "RTP/SAVP;unicast");
    assert_false(t.rtp_avp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_parse),
        cmocka_unit_test(test_redact),
        cmocka_unit_test(test_resolve),
        cmocka_unit_test(test_response_whole_and_split),
        cmocka_unit_test(test_response_bad),
        cmocka_unit_test(test_stream_demux),
        cmocka_unit_test(test_transport_public),
        cmocka_unit_test(test_request_whole_and_split),
        cmocka_unit_test(test_request_bad),
        cmocka_unit_test(test_target),
        cmocka_unit_test(test_response_write_transport),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
