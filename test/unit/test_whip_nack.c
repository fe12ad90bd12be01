/* SPDX-License-Identifier: MIT */
/* test_whip_nack.c: the WHIP ingest's NACK decisions (ingest/whip_nack.c): a missing packet
 * asked for at once, again after a round trip while it stays missing, at most
 * WHIP_NACK_TRIES times, never when the answer would come past the reorder deadline; the
 * round trip learned from answers to single requests; sequence order across the 16-bit
 * wrap; what arrives, is given up or forgotten counted once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "ingest/whip_nack.h"

#define MS 1000000ull

struct fx {
    struct whip_nack q;
    struct whip_nack_counts n;
    uint16_t out[WHIP_NACK_SLOTS];
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    whip_nack_init(&f->q, 150 * MS, &f->n);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    free(*state);
    return 0;
}

static void expect_due(struct fx *f, uint64_t now, const uint16_t *seqs, size_t n)
{
    size_t got = whip_nack_due(&f->q, now, f->out, WHIP_NACK_SLOTS);
    assert_int_equal(got, n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(f->out[i], seqs[i]);
}

/* Before any answer the round trip is taken as 30 ms: retries 45 ms apart, three requests,
 * then given up; what arrives in between is recovered and no longer asked for. */
static void test_retries_bounded(void **state)
{
    struct fx *f = *state;
    whip_nack_missing(&f->q, 10, 13, 0);
    const uint16_t all[] = {10, 11, 12}, two[] = {10, 12};
    expect_due(f, 0, all, 3);
    expect_due(f, 5 * MS, NULL, 0); /* the first request may still be answered */
    expect_due(f, 44 * MS, NULL, 0);
    expect_due(f, 45 * MS, all, 3);
    whip_nack_received(&f->q, 11, 50 * MS);
    whip_nack_received(&f->q, 11, 51 * MS); /* a duplicate counts once */
    assert_int_equal(f->q.rtt_ns, 30 * MS); /* an answer to two requests: no sample */
    expect_due(f, 90 * MS, two, 2);
    expect_due(f, 134 * MS, NULL, 0);
    expect_due(f, 135 * MS, NULL, 0); /* three requests: given up */
    assert_int_equal(f->q.pending, 0);
    assert_int_equal(f->n.asked, 3);
    assert_int_equal(f->n.retried, 5);
    assert_int_equal(f->n.recovered, 1);
    assert_int_equal(f->n.given_up, 2);
}

/* A request whose answer would come after the reorder buffer gave up is not sent. */
static void test_deadline(void **state)
{
    struct fx *f = *state;
    whip_nack_init(&f->q, 100 * MS, &f->n);
    whip_nack_missing(&f->q, 7, 8, 0);
    const uint16_t seven[] = {7};
    expect_due(f, 0, seven, 1);
    expect_due(f, 45 * MS, seven, 1); /* answered by 75 ms, before 100 ms */
    expect_due(f, 90 * MS, NULL, 0);  /* 120 ms: too late */
    assert_int_equal(f->n.given_up, 1);
    assert_int_equal(f->n.retried, 1);
    whip_nack_received(&f->q, 7, 95 * MS); /* after giving up: not recovered */
    assert_int_equal(f->n.recovered, 0);
}

/* Answers to single requests set the round trip (smoothed 1/8), which spaces retries, never
 * closer than WHIP_NACK_GAP_NS. */
static void test_rtt_learned(void **state)
{
    struct fx *f = *state;
    uint64_t t = 0;
    for (uint16_t seq = 100; seq < 140; seq += 2, t += 20 * MS) {
        whip_nack_missing(&f->q, seq, (uint16_t)(seq + 1), t);
        uint16_t one[] = {seq};
        expect_due(f, t, one, 1);
        whip_nack_received(&f->q, seq, t + 2 * MS);
    }
    assert_int_equal(f->n.recovered, 20);
    assert_true(f->q.rtt_ns < 4 * MS);
    whip_nack_missing(&f->q, 200, 201, t);
    const uint16_t seq[] = {200};
    expect_due(f, t, seq, 1);
    expect_due(f, t + 9 * MS, NULL, 0);
    expect_due(f, t + 10 * MS, seq, 1);
}

/* Sequence order across the wrap (the NACK packs neighbours into one entry); a number
 * WHIP_NACK_SLOTS past the oldest pending gives up those left behind; a number found
 * missing twice is pending once; reset forgets and counts. */
static void test_wrap_slide_reset(void **state)
{
    struct fx *f = *state;
    whip_nack_missing(&f->q, 65534, 2, 0);
    whip_nack_missing(&f->q, 65535, 1, 0);
    const uint16_t wrap[] = {65534, 65535, 0, 1};
    expect_due(f, 0, wrap, 4);
    assert_int_equal(f->n.asked, 4);
    const uint16_t far = (uint16_t)(65534 + WHIP_NACK_SLOTS);
    whip_nack_missing(&f->q, far, (uint16_t)(far + 1), 1 * MS); /* 65535..far fit, 65534 not */
    assert_int_equal(f->n.given_up, 1);
    const uint16_t fresh[] = {far};
    expect_due(f, 1 * MS, fresh, 1);
    whip_nack_missing(&f->q, 3, 4, 2 * MS); /* between: listed in order */
    const uint16_t mid[] = {3};
    expect_due(f, 2 * MS, mid, 1);
    const uint16_t again[] = {65535, 0, 1};
    expect_due(f, 45 * MS, again, 3);
    /* max bounds one call; the rest wait for the next. */
    assert_int_equal(whip_nack_due(&f->q, 47 * MS, f->out, 1), 1);
    assert_int_equal(f->out[0], 3);
    whip_nack_reset(&f->q);
    assert_int_equal(f->q.pending, 0);
    assert_int_equal(f->n.given_up, 1 + 5);
    expect_due(f, 100 * MS, NULL, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_retries_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rtt_learned, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrap_slide_reset, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
