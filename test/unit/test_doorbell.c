/* SPDX-License-Identifier: MIT */
/* test_doorbell: when a doorbell set calls its reader (shm/doorbell.h): a ring after a quiet
 * window at once, the rings during a window in one call at its end, and no waiting for a set
 * that watches few words. Bounds are generous: they tell "at once" from "after the window". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "shm/doorbell.h"

#define WORDS     DOORBELL_COALESCE_MIN_WORDS
#define WINDOW_MS 300u

struct bells {
    uv_loop_t loop;
    uv_timer_t ringer, stop;
    _Atomic uint32_t words[WORDS];
    struct doorbell_set *set;
    unsigned rings_left;    /* rung by the ringer, a word each tick */
    uint64_t first_ring_ns; /* when the first ring went */
    uint64_t call_ns[8];    /* when each call came */
    unsigned calls;
};

static void on_call(void *arg)
{
    struct bells *b = arg;
    if (b->calls < 8)
        b->call_ns[b->calls] = uv_hrtime();
    b->calls++;
}

static void on_ringer(uv_timer_t *t)
{
    struct bells *b = t->data;
    if (!b->first_ring_ns)
        b->first_ring_ns = uv_hrtime();
    doorbell_ring(&b->words[b->rings_left % WORDS]);
    if (--b->rings_left == 0)
        (void)uv_timer_stop(t);
}

static void on_stop(uv_timer_t *t)
{
    uv_stop(t->loop);
}

/* Rings `rings` words 20 ms apart from 10 ms on, with n_words watched, and runs for run_ms. */
static void ring_and_run(struct bells *b, unsigned n_words, unsigned rings, unsigned run_ms)
{
    assert_int_equal(uv_loop_init(&b->loop), 0);
    assert_int_equal(doorbell_set_init(&b->set, &b->loop, on_call, b, WINDOW_MS * 1000000ull), 0);
    for (unsigned i = 0; i < n_words; i++)
        assert_int_equal(doorbell_set_add(b->set, &b->words[i]), 0);
    b->rings_left = rings;
    (void)uv_timer_init(&b->loop, &b->ringer);
    b->ringer.data = b;
    (void)uv_timer_start(&b->ringer, on_ringer, 10, 20);
    (void)uv_timer_init(&b->loop, &b->stop);
    (void)uv_timer_start(&b->stop, on_stop, run_ms, 0);
    (void)uv_run(&b->loop, UV_RUN_DEFAULT);
    doorbell_set_free(b->set);
    uv_close((uv_handle_t *)&b->ringer, NULL);
    uv_close((uv_handle_t *)&b->stop, NULL);
    (void)uv_run(&b->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&b->loop), 0);
}

static uint64_t ms_after_first_ring(const struct bells *b, unsigned call)
{
    return (b->call_ns[call] - b->first_ring_ns) / 1000000u;
}

/* Many words: the first ring is delivered at once, the five after it (within the window that
 * call opened) in one call at the window's end. */
static void test_window(void **state)
{
    (void)state;
    static struct bells b;
    ring_and_run(&b, WORDS, 6, 2 * WINDOW_MS + 200);
    assert_int_equal(b.calls, 2);
    assert_true(ms_after_first_ring(&b, 0) < WINDOW_MS / 3);
    assert_true(ms_after_first_ring(&b, 1) >= WINDOW_MS - 5);
}

/* Few words: every ring is delivered at once, however long the window. */
static void test_few_words_no_window(void **state)
{
    (void)state;
    static struct bells b;
    ring_and_run(&b, 4, 3, 300);
    assert_int_equal(b.calls, 3);
    for (unsigned i = 0; i < 3; i++)
        assert_true(ms_after_first_ring(&b, i) < 20 * i + WINDOW_MS / 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window),
        cmocka_unit_test(test_few_words_no_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
