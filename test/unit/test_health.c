/* SPDX-License-Identifier: MIT */
/* test_health.c: shm/health.c: the node's capacity from a control segment (running workers
 * only, a worker's own exact count in place of its gauge, the drain flag), the states, the
 * spare percentage, GET /v1/health's JSON and the HAProxy agent-check line. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "shm/health.h"

static struct ctl ctl;
static char buf[512];

static struct ctl_child *worker(unsigned slot, unsigned index, enum ctl_state st, uint64_t viewers)
{
    struct ctl_child *s = ctl_slot(&ctl, slot);
    ctl_slot_assign(s, CTL_ROLE_EGRESS, index, "worker");
    atomic_store(&s->state, st);
    ctl_count(&s->counters.viewers, viewers);
    return s;
}

static int setup(void **state)
{
    (void)state;
    return ctl_init_private(&ctl);
}

static int teardown(void **state)
{
    (void)state;
    ctl_free(&ctl);
    return 0;
}

static void test_capacity(void **state)
{
    (void)state;
    struct health_capacity c;
    health_capacity(ctl.hdr, 10, NULL, 0, &c);
    assert_int_equal(health_state(&c), HEALTH_DOWN);
    int n = health_agent_line(buf, sizeof(buf), &c);
    assert_int_equal(n, (int)strlen(buf));
    assert_string_equal(buf, "down#no egress worker running\n");

    struct ctl_child *ingest = ctl_slot(&ctl, 0);
    ctl_slot_assign(ingest, CTL_ROLE_INGEST, 0, "demo");
    atomic_store(&ingest->state, CTL_STATE_RUNNING);
    ctl_count(&ingest->counters.viewers, 99); /* not a worker: never counted */
    struct ctl_child *w0 = worker(1, 0, CTL_STATE_RUNNING, 4);
    worker(2, 1, CTL_STATE_RUNNING, 10);
    worker(3, 2, CTL_STATE_BACKOFF, 3); /* down: neither capacity nor viewers */
    health_capacity(ctl.hdr, 10, NULL, 0, &c);
    assert_int_equal(c.workers_up, 2);
    assert_int_equal(c.workers_full, 1);
    assert_int_equal(c.viewers, 14);
    assert_int_equal(c.capacity, 20);
    assert_int_equal(health_state(&c), HEALTH_OK);
    assert_int_equal(health_spare_pct(&c), 30);
    health_agent_line(buf, sizeof(buf), &c);
    assert_string_equal(buf, "ready up 30%\n");
    n = health_json(buf, sizeof(buf), &c);
    assert_int_equal(n, (int)strlen(buf));
    assert_string_equal(buf, "{\"status\":\"ok\",\"reason\":\"taking viewers: 14 of 20\","
                             "\"viewers\":14,\"capacity\":20,\"workers\":2,\"workers_full\":1}\n");

    /* Worker 0 asks with its own count (set-ups included): now both are full. */
    health_capacity(ctl.hdr, 10, w0, 10, &c);
    assert_int_equal(c.viewers, 20);
    assert_int_equal(health_state(&c), HEALTH_FULL);
    health_agent_line(buf, sizeof(buf), &c);
    assert_string_equal(buf, "ready up 0%\n");
    health_json(buf, sizeof(buf), &c);
    assert_non_null(strstr(buf, "{\"status\":\"full\","));

    /* One free place of 20 rounds up to 1 %; a starting worker counts only for itself. */
    health_capacity(ctl.hdr, 10, w0, 9, &c);
    assert_int_equal(health_spare_pct(&c), 5);
    atomic_store(&w0->state, CTL_STATE_STARTING);
    health_capacity(ctl.hdr, 10, NULL, 0, &c);
    assert_int_equal(c.workers_up, 1);
    health_capacity(ctl.hdr, 10, w0, 0, &c);
    assert_int_equal(c.workers_up, 2);
    c = (struct health_capacity){.workers_up = 1, .viewers = 199, .capacity = 200};
    assert_int_equal(health_spare_pct(&c), 1);
}

static void test_draining(void **state)
{
    (void)state;
    struct health_capacity c;
    atomic_store(&ctl.hdr->draining, 1);
    health_capacity(ctl.hdr, 10, NULL, 0, &c);
    assert_true(c.draining);
    assert_int_equal(health_state(&c), HEALTH_DRAINING);
    health_agent_line(buf, sizeof(buf), &c);
    assert_string_equal(buf, "drain\n");
    health_json(buf, sizeof(buf), &c);
    assert_non_null(strstr(buf, "{\"status\":\"draining\",\"reason\":\"draining: "));
    assert_int_equal(health_json(buf, 20, &c), -ENOSPC);
    assert_int_equal(health_agent_line(buf, 3, &c), -ENOSPC);
    atomic_store(&ctl.hdr->draining, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_capacity),
        cmocka_unit_test(test_draining),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
