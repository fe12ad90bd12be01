/* SPDX-License-Identifier: MIT */
/* test_log_limit.c: common/log's limit on lines outsiders can cause: burst lines per window, the
 * rest held back and counted, the count handed to the first line of a later window once; a
 * window that saw no line does not hold the next one back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/log.h"

#define SEC 1000000000ull

static void burst_then_held(void **state)
{
    (void)state;
    struct log_limit l = {0};
    uint32_t held = 99;
    uint64_t t = 5 * SEC;
    for (int i = 0; i < 3; i++) {
        assert_true(log_limit_pass(&l, t + (uint64_t)i, 10 * SEC, 3, &held));
        assert_int_equal(held, 0);
    }
    for (int i = 0; i < 7; i++)
        assert_false(log_limit_pass(&l, t + 9 * SEC, 10 * SEC, 3, &held));
    assert_true(log_limit_pass(&l, t + 10 * SEC, 10 * SEC, 3, &held));
    assert_int_equal(held, 7); /* said once */
    assert_true(log_limit_pass(&l, t + 11 * SEC, 10 * SEC, 3, &held));
    assert_int_equal(held, 0);
}

static void one_per_window(void **state)
{
    (void)state;
    struct log_limit l = {0};
    assert_true(log_limit_pass(&l, SEC, SEC, 1, NULL));
    assert_false(log_limit_pass(&l, SEC + SEC / 2, SEC, 1, NULL));
    assert_true(log_limit_pass(&l, 2 * SEC, SEC, 1, NULL));
    assert_true(log_limit_pass(&l, 100 * SEC, SEC, 1, NULL)); /* quiet windows: no wait */
    assert_false(log_limit_pass(&l, 100 * SEC + 1, SEC, 1, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(burst_then_held),
        cmocka_unit_test(one_per_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
