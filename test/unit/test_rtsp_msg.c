/* SPDX-License-Identifier: MIT */
/* test_rtsp_msg.c: RTSP wire parsing (ingest/rtsp_msg.c): URLs with credentials, redaction,
 * control URL resolution, responses split anywhere, caps on heads and bodies, the
 * interleaved demux and its bad lengths, Transport and Public headers. */
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

    assert_true(rtsp_list_has("OPTIONS, DESCRIBE, GET_PARAMETER, PLAY", "GET_PARAMETER"));
    assert_false(rtsp_list_has("OPTIONS, DESCRIBE, GET_PARAMETERS", "GET_PARAMETER"));
    assert_false(rtsp_list_has("", "PLAY"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_parse),        cmocka_unit_test(test_redact),
        cmocka_unit_test(test_resolve),          cmocka_unit_test(test_response_whole_and_split),
        cmocka_unit_test(test_response_bad),     cmocka_unit_test(test_stream_demux),
        cmocka_unit_test(test_transport_public),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
