/* SPDX-License-Identifier: MIT */
/* test_http.c: HTTP/1.1 request parsing behind libre's decoder: split reads, pipelining,
 * keep-alive rules, and the limits libre lacks (header cap, body cap, wrapping or negative
 * Content-Length, chunked bodies), control bytes and ".." segments in the request target,
 * heads whose lines end in a bare LF, plus response header assembly. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/head.h"
#include "common/httpd.h"

static int parse(const char *s, struct httpd_request *req)
{
    return httpd_parse_request((const uint8_t *)s, strlen(s), req);
}

static void whep_post(void **state)
{
    (void)state;
    const char *s = "POST /demo/whep?x=1 HTTP/1.1\r\nHost: a\r\nContent-Type: application/sdp\r\n"
                    "Authorization: Bearer t0k\r\nContent-Length: 5\r\n\r\nv=0\r\nGET";
    struct httpd_request req;
    int n = parse(s, &req);
    assert_int_equal(n, (int)strlen(s) - 3); /* the next request's bytes are not consumed */
    assert_string_equal(req.method, "POST");
    assert_string_equal(req.path, "/demo/whep");
    assert_string_equal(req.content_type, "application/sdp");
    assert_string_equal(req.authorization, "Bearer t0k");
    assert_int_equal(req.keep_alive, 1);
    assert_int_equal(req.body_len, 5);
    assert_memory_equal(req.body, "v=0\r\n", 5);
}

static void split_reads(void **state)
{
    (void)state;
    const char *s = "POST /a/whep HTTP/1.1\r\nContent-Length: 4\r\n\r\nbody";
    struct httpd_request req;
    size_t len = strlen(s);
    /* Every proper prefix needs more bytes; the whole request parses. */
    for (size_t i = 0; i < len; i++)
        assert_int_equal(httpd_parse_request((const uint8_t *)s, i, &req), 0);
    assert_int_equal(httpd_parse_request((const uint8_t *)s, len, &req), (int)len);
}

static void keep_alive_rules(void **state)
{
    (void)state;
    struct httpd_request req;
    assert_true(parse("GET / HTTP/1.1\r\nConnection: close\r\n\r\n", &req) > 0);
    assert_int_equal(req.keep_alive, 0);
    assert_true(parse("GET / HTTP/1.0\r\n\r\n", &req) > 0);
    assert_int_equal(req.keep_alive, 0);
    assert_true(parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &req) > 0);
    assert_int_equal(req.keep_alive, 1);
}

/* RFC 9112 2.2: a bare LF may end a line, as in RTSP (one head scanner, common/head.c); libre
 * decodes such heads, so they are no longer held until the header timeout. */
static void bare_lf(void **state)
{
    (void)state;
    struct httpd_request req;
    const char *s = "POST /a/whep HTTP/1.1\nContent-Length: 2\n\nhiGET";
    assert_int_equal(parse(s, &req), (int)strlen(s) - 3);
    assert_string_equal(req.path, "/a/whep");
    assert_memory_equal(req.body, "hi", 2);
    s = "GET /b HTTP/1.1\r\nHost: a\n\r\n";
    assert_int_equal(parse(s, &req), (int)strlen(s));
    assert_string_equal(req.path, "/b");
}

static void limits(void **state)
{
    (void)state;
    struct httpd_request req;
    /* Headers: no end within 16 KiB. */
    size_t big = HTTPD_MAX_HEADER + 10;
    char *p = malloc(big + 1);
    memset(p, 'a', big);
    memcpy(p, "GET / HTTP/1.1\r\nX: ", 19);
    p[big] = '\0';
    assert_int_equal(parse(p, &req), -EMSGSIZE);
    free(p);
    assert_int_equal(httpd_error_status(-EMSGSIZE), 431);
    /* Bodies over 64 KiB, including values libre would wrap to small ones. */
    assert_int_equal(parse("POST / HTTP/1.1\r\nContent-Length: 65537\r\n\r\n", &req), -EFBIG);
    assert_int_equal(parse("POST / HTTP/1.1\r\nContent-Length: 4294967297\r\n\r\n", &req), -EFBIG);
    assert_int_equal(
        parse("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", &req), -EFBIG);
    assert_int_equal(httpd_error_status(-EFBIG), 413);
    assert_int_equal(parse("POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n", &req), -EBADMSG);
    assert_int_equal(
        parse("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", &req), -EBADMSG);
    assert_int_equal(parse("POST / HTTP/1.1\r\nContent-Length: \r\n\r\n", &req), -EBADMSG);
    assert_int_equal(parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", &req),
                     -ENOTSUP);
    assert_int_equal(httpd_error_status(-ENOTSUP), 501);
    /* The largest body is accepted. */
    size_t hl = strlen("POST / HTTP/1.1\r\nContent-Length: 65536\r\n\r\n");
    p = calloc(1, hl + HTTPD_MAX_BODY + 1);
    memcpy(p, "POST / HTTP/1.1\r\nContent-Length: 65536\r\n\r\n", hl);
    assert_int_equal(httpd_parse_request((const uint8_t *)p, hl + HTTPD_MAX_BODY, &req),
                     (int)(hl + HTTPD_MAX_BODY));
    free(p);
}

static void garbage(void **state)
{
    (void)state;
    struct httpd_request req;
    assert_int_equal(parse("\x01\x02garbage\r\n\r\n", &req), -EBADMSG);
    assert_int_equal(parse("GET noslash HTTP/1.1\r\n\r\n", &req), -EBADMSG);
    assert_int_equal(parse("GET / HTTP/2.0\r\n\r\n", &req), -EBADMSG);
    assert_int_equal(parse("VERYLONGMETHODNAMEXX / HTTP/1.1\r\n\r\n", &req), -EBADMSG);
    assert_int_equal(parse("\r\n\r\n", &req), -EBADMSG);
    /* A value longer than its field is refused, not cut. */
    char buf[1024];
    snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nContent-Type: %0200d\r\n\r\n", 0);
    assert_int_equal(parse(buf, &req), -EBADMSG);
}

/* A control byte in the request target is 400: a NUL cut the path short, and
 * "GET /demo\0x" got the player page of /demo. */
static void control_bytes(void **state)
{
    (void)state;
    struct httpd_request req;
    static const char *const paths[] = {"/demo\0x",  "/demo\x01",        "/de\x1fmo",
                                        "/demo\x7f", "/demo?token=a\0b", "/demo\x1b[31m"};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        char buf[128];
        size_t plen = strlen(paths[i]) + (i == 0 || i == 4 ? 2 : 0); /* past the NUL */
        int n = snprintf(buf, sizeof(buf), "GET ");
        memcpy(buf + n, paths[i], plen);
        n += (int)plen;
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, " HTTP/1.1\r\nHost: a\r\n\r\n");
        assert_int_equal(httpd_parse_request((const uint8_t *)buf, (size_t)n, &req), -EBADMSG);
    }
    assert_int_equal(httpd_error_status(-EBADMSG), 400);
    assert_true(parse("GET /demo?token=a%00b HTTP/1.1\r\n\r\n", &req) > 0); /* encoded: data */
}

/* Every spelling of a ".." segment is 404, before any router sees it; so is an encoded NUL,
 * which would hide what follows it from the check. */
static void traversal(void **state)
{
    (void)state;
    struct httpd_request req;
    static const char *const bad[] = {
        "/..",       "/../etc/passwd", "/demo/../x",    "/demo/..",    "/%2e%2e/x",
        "/%2E%2E/x", "/.%2e/x",        "/%2e./x",       "/demo%2f..",  "/demo%2F%2e%2e",
        "/..%5cx",   "/demo\\..\\x",   "/%252e%252e/x", "/%25252e./x", "/x/%2e%2e?a=b",
        "/demo%00",  "/a%00/%2e%2e/x", "/%2500",        "/%00",        "/x%00y",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char buf[128];
        snprintf(buf, sizeof(buf), "GET %s HTTP/1.1\r\n\r\n", bad[i]);
        assert_int_equal(parse(buf, &req), -ENOENT);
    }
    assert_int_equal(httpd_error_status(-ENOENT), 404);
    static const char *const good[] = {"/demo",     "/a..b/whep", "/.../x",       "/demo/.x",
                                       "/demo/x..", "/%2e%2e%2e", "/demo?p=../x", "/a%2"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        char buf[128];
        snprintf(buf, sizeof(buf), "GET %s HTTP/1.1\r\n\r\n", good[i]);
        assert_true(parse(buf, &req) > 0);
    }
}

static void response_headers(void **state)
{
    (void)state;
    struct httpd_response r = {0};
    httpd_add_header(&r, "Location", "/%s/whep/%s", "demo", "00ab");
    httpd_add_header(&r, "ETag", "\"%s\"", "00ab");
    assert_string_equal(r.headers, "Location: /demo/whep/00ab\r\nETag: \"00ab\"\r\n");
    /* Overflow leaves what fits, well formed. */
    char big[sizeof(r.headers)];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    size_t before = r.headers_len;
    httpd_add_header(&r, "X-Big", "%s", big);
    assert_int_equal(r.headers_len, before);
    assert_int_equal(strlen(r.headers), before);
    httpd_set_text(&r, 404, "unknown path\n");
    assert_int_equal(r.status, 404);
    assert_int_equal(r.body_len, 13);
    assert_string_equal(head_reason(201), "Created");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(whep_post),        cmocka_unit_test(split_reads),
        cmocka_unit_test(keep_alive_rules), cmocka_unit_test(limits),
        cmocka_unit_test(garbage),          cmocka_unit_test(response_headers),
        cmocka_unit_test(control_bytes),    cmocka_unit_test(traversal),
        cmocka_unit_test(bare_lf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
