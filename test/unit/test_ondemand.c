/* SPDX-License-Identifier: MIT */
/* test_ondemand.c: egress/ondemand.c's verdict on an offer held for an on-demand source: answer
 * it once the running ingest has put a keyframe in the ring, never on a keyframe a stopped
 * instance left behind, and refuse it at the deadline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "egress/ondemand.h"

#define S 1000000000ull

static void test_live_after_keyframe(void **state)
{
    (void)state;
    struct ondemand_source src = {.state = CTL_STATE_STARTING, .pid = 42, .start_ns = 100 * S};
    assert_int_equal(ondemand_judge(&src, 101 * S, 110 * S), ONDEMAND_WAIT); /* no keyframe */
    src.key_arrival_ns = 101 * S;
    assert_int_equal(ondemand_judge(&src, 101 * S, 110 * S), ONDEMAND_LIVE);
    src.state = CTL_STATE_RUNNING;
    assert_int_equal(ondemand_judge(&src, 120 * S, 110 * S), ONDEMAND_LIVE); /* live wins */
}

/* The ring outlives an idle ingest: its last keyframe is from before this instance. */
static void test_stale_keyframe(void **state)
{
    (void)state;
    struct ondemand_source src = {
        .state = CTL_STATE_STARTING, .pid = 42, .start_ns = 100 * S, .key_arrival_ns = 50 * S};
    assert_int_equal(ondemand_judge(&src, 101 * S, 110 * S), ONDEMAND_WAIT);
    assert_int_equal(ondemand_judge(&src, 110 * S, 110 * S), ONDEMAND_LATE);
}

/* No process (idle, not started yet, backoff, stopping): a fresh keyframe is not enough. */
static void test_not_running(void **state)
{
    (void)state;
    const uint32_t states[] = {CTL_STATE_IDLE, CTL_STATE_BACKOFF, CTL_STATE_STOPPING,
                               CTL_STATE_EMPTY};
    for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
        struct ondemand_source src = {
            .state = states[i], .pid = 42, .start_ns = 100 * S, .key_arrival_ns = 101 * S};
        assert_int_equal(ondemand_judge(&src, 102 * S, 110 * S), ONDEMAND_WAIT);
        assert_int_equal(ondemand_judge(&src, 111 * S, 110 * S), ONDEMAND_LATE);
    }
    struct ondemand_source spawned = {
        .state = CTL_STATE_STARTING, .pid = 0, .start_ns = 100 * S, .key_arrival_ns = 101 * S};
    assert_int_equal(ondemand_judge(&spawned, 102 * S, 110 * S), ONDEMAND_WAIT);
    struct ondemand_source none = {0}; /* the supervisor has no slot for the path */
    assert_int_equal(ondemand_judge(&none, 102 * S, 110 * S), ONDEMAND_WAIT);
    assert_int_equal(ondemand_judge(&none, 110 * S, 110 * S), ONDEMAND_LATE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_live_after_keyframe),
        cmocka_unit_test(test_stale_keyframe),
        cmocka_unit_test(test_not_running),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
