/* SPDX-License-Identifier: MIT */
/* test_text.c: common/text's percent-decoding, the one that URL userinfo, RTSP tokens and the
 * HTTP path check share: RFC 3986 2.1 escapes in either case, bad escapes refused (strict) or
 * kept (lenient), %00 and a full output refused by both, n bytes read and no more. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/text.h"

static int strict(const char *s, char *out, size_t cap)
{
    return text_pct_decode(out, cap, s, strlen(s));
}

static int lenient(const char *s, char *out, size_t cap)
{
    return text_pct_decode_lenient(out, cap, s, strlen(s));
}

static void pct_decode(void **state)
{
    (void)state;
    char out[16];
    assert_int_equal(strict("s%40cr%2Bt", out, sizeof(out)), 6);
    assert_string_equal(out, "s@cr+t");
    assert_int_equal(strict("", out, sizeof(out)), 0);
    assert_string_equal(out, "");
    static const char *const bad[] = {"%", "%4", "a%zz", "%g0", "%00", "a%00b", "%%41"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(strict(bad[i], out, sizeof(out)), -EINVAL);
    /* Lenient: what is not an escape stays; a NUL is still refused. */
    assert_int_equal(lenient("%2e%2E%zz%4%", out, sizeof(out)), 8);
    assert_string_equal(out, "..%zz%4%");
    assert_int_equal(lenient("%%41", out, sizeof(out)), 2);
    assert_string_equal(out, "%A");
    assert_int_equal(lenient("a%00", out, sizeof(out)), -EINVAL);
    /* The output's NUL needs room; a cap of 0 takes nothing. */
    assert_int_equal(strict("abc", out, 4), 3);
    assert_int_equal(strict("abcd", out, 4), -EINVAL);
    assert_int_equal(strict("ab%41", out, 4), 3);
    assert_int_equal(strict("", out, 0), -EINVAL);
    /* Only s[0..n): an escape cut by n is not completed from the bytes after it. */
    assert_int_equal(text_pct_decode(out, sizeof(out), "a%41", 3), -EINVAL);
    assert_int_equal(text_pct_decode_lenient(out, sizeof(out), "a%41", 3), 3);
    assert_string_equal(out, "a%4");
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(pct_decode)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
