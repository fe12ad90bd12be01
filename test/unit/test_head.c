/* SPDX-License-Identifier: MIT */
/* test_head.c: what HTTP and RTSP heads share (common/head): where a head ends, with lines
 * ending in CRLF, a bare LF or a mix (RFC 9112 2.2), at the cap and one byte past it, never
 * before its blank line; and the reason phrases of both protocols' status codes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/head.h"
#include "rtsp/msg.h"

static long end_of(const char *s, size_t max)
{
    return head_end((const uint8_t *)s, strlen(s), max);
}

static void ends(void **state)
{
    (void)state;
    assert_int_equal(end_of("GET / HTTP/1.1\r\nHost: a\r\n\r\nbody", 100), 27);
    assert_int_equal(end_of("OPTIONS * RTSP/1.0\nCSeq: 1\n\nbody", 100), 28);
    assert_int_equal(end_of("GET / HTTP/1.1\r\nHost: a\n\r\n", 100), 26);
    assert_int_equal(end_of("GET / HTTP/1.1\r\nHost: a\r\n\n", 100), 26);
    assert_int_equal(end_of("\r\n\r\n", 100), 4);
    /* Not yet: every proper prefix of a head waits for more bytes. */
    const char *h = "DESCRIBE rtsp://a/b RTSP/1.0\r\nCSeq: 2\r\n\r\n";
    for (size_t i = 0; i < strlen(h); i++)
        assert_int_equal(head_end((const uint8_t *)h, i, 100), 0);
    /* A lone CR is no line end. */
    assert_int_equal(end_of("GET / HTTP/1.1\r\rX: y\r\r", 100), 0);
}

static void cap(void **state)
{
    (void)state;
    const char *h = "GET / HTTP/1.1\r\nX: y\r\n\r\n"; /* 24 bytes */
    assert_int_equal(end_of(h, 24), 24);              /* ends at the cap: taken */
    assert_int_equal(end_of(h, 23), -EMSGSIZE);       /* one byte past it */
    assert_int_equal(head_end((const uint8_t *)h, 22, 23), 0);
    assert_int_equal(head_end((const uint8_t *)h, 23, 23), -EMSGSIZE);
}

static void reasons(void **state)
{
    (void)state;
    assert_string_equal(head_reason(200), "OK");
    assert_string_equal(head_reason(431), "Request Header Fields Too Large");
    assert_string_equal(head_reason(461), "Unsupported Transport");
    assert_string_equal(head_reason(299), "Unknown");
    /* RTSP keeps RFC 2326's names where HTTP's changed, and HTTP's codes elsewhere. */
    assert_string_equal(head_reason(413), "Content Too Large");
    assert_string_equal(rtsp_reason(413), "Request Entity Too Large");
    assert_string_equal(rtsp_reason(505), "RTSP Version Not Supported");
    assert_string_equal(rtsp_reason(454), "Session Not Found");
    assert_string_equal(rtsp_reason(404), "Not Found");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ends),
        cmocka_unit_test(cap),
        cmocka_unit_test(reasons),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
