/* SPDX-License-Identifier: MIT */
/* test_ctl.c: the control segment: create/attach round trip through real shm, refusal of
 * foreign objects, slot hand-over (a reused slot shows none of its last owner's counters), a
 * standalone segment that costs only the pages it touches, and the counter table that reports
 * and /metrics are built from. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "shm/ctl.h"

static char prefix[48];

static int setup(void **state)
{
    (void)state;
    snprintf(prefix, sizeof(prefix), "rct-unit-ctl-%d", (int)getpid());
    return 0;
}

static void test_create_attach(void **state)
{
    (void)state;
    struct ctl owner, child;
    assert_int_equal(ctl_attach(&child, prefix), -ENOENT);
    assert_int_equal(ctl_create(&owner, prefix), 0);
    assert_int_equal(atomic_load(&owner.hdr->supervisor_pid), getpid());
    assert_true(atomic_load(&owner.hdr->start_ns) > 0);
    assert_int_equal(ctl_attach(&child, prefix), 0);

    /* A child's writes are what the supervisor reads: same memory. */
    struct ctl_child *s = ctl_slot(&child, 5);
    assert_non_null(s);
    ctl_heartbeat(s);
    ctl_count(&s->counters.pkts_sent, 7);
    assert_int_equal(ctl_read(&ctl_slot(&owner, 5)->counters.pkts_sent), 7);
    assert_true(atomic_load(&ctl_slot(&owner, 5)->heartbeat_ns) > 0);
    assert_null(ctl_slot(&child, CTL_MAX_CHILDREN));

    ctl_free(&child);
    ctl_free(&owner); /* unlinks */
    assert_int_equal(ctl_attach(&child, prefix), -ENOENT);
}

static void test_attach_refuses_foreign(void **state)
{
    (void)state;
    char name[64];
    snprintf(name, sizeof(name), "/%s.ctl", prefix);
    int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    struct ctl c;
    assert_int_equal(ftruncate(fd, 100), 0); /* truncated */
    assert_int_equal(ctl_attach(&c, prefix), -EBADMSG);
    assert_int_equal(ftruncate(fd, sizeof(struct ctl_hdr)), 0); /* right size, no magic */
    assert_int_equal(ctl_attach(&c, prefix), -EPROTO);
    close(fd);
    shm_unlink(name);
}

static void test_slot_reuse(void **state)
{
    (void)state;
    struct ctl c;
    assert_int_equal(ctl_init_private(&c), 0);
    struct ctl_child *s = ctl_slot(&c, 0);
    ctl_slot_assign(s, CTL_ROLE_EGRESS, 3, "worker 3");
    assert_int_equal(atomic_load(&s->state), CTL_STATE_STARTING);
    assert_int_equal(s->index, 3);
    ctl_count(&s->counters.viewers, 9);
    atomic_store(&s->restarts, 4);
    atomic_store(&s->heartbeat_ns, 123);
    ctl_demand_bump(s, 456);
    ctl_slot_release(s);
    assert_int_equal(atomic_load(&s->state), CTL_STATE_EMPTY);

    ctl_slot_assign(s, CTL_ROLE_INGEST, 0, "cam");
    assert_string_equal(s->name, "cam");
    assert_int_equal(s->role, CTL_ROLE_INGEST);
    assert_int_equal(ctl_read(&s->counters.viewers), 0);
    assert_int_equal(atomic_load(&s->restarts), 0);
    assert_int_equal(atomic_load(&s->heartbeat_ns), 0);
    assert_int_equal(atomic_load(&s->wanted_ns), 0); /* a new path starts without demand */
    assert_ptr_equal(ctl_find_ingest(c.hdr, "cam"), s);
    assert_null(ctl_find_ingest(c.hdr, "ca"));
    ctl_slot_release(s);
    assert_null(ctl_find_ingest(c.hdr, "cam")); /* an EMPTY slot is nobody's */
    ctl_free(&c);
}

/* A standalone process's segment takes memory only for the pages it touches (mincore counts
 * the resident ones): the header's page, then its slot's, not all 448 KiB. */
static void test_private_lazy(void **state)
{
    (void)state;
    struct ctl c;
    assert_int_equal(ctl_init_private(&c), 0);
    long page = sysconf(_SC_PAGESIZE);
    uintptr_t start = (uintptr_t)c.hdr & ~(uintptr_t)(page - 1);
    size_t pages = ((uintptr_t)c.hdr + sizeof(struct ctl_hdr) - start + (size_t)page - 1) / page;
    unsigned char vec[sizeof(struct ctl_hdr) / 4096 + 2];
    assert_true(pages <= sizeof(vec));
    assert_int_equal(mincore((void *)start, pages * (size_t)page, vec), 0);
    size_t resident = 0;
    for (size_t i = 0; i < pages; i++)
        resident += vec[i] & 1;
    assert_true(resident <= 2);
    assert_true(pages >= 100);
    assert_int_equal(c.hdr->magic, CTL_MAGIC);
    assert_int_equal(c.hdr->n_children, CTL_MAX_CHILDREN);
    assert_int_equal(atomic_load(&ctl_slot(&c, CTL_MAX_CHILDREN - 1)->state), CTL_STATE_EMPTY);
    ctl_free(&c);
}

/* An on-demand ingest runs while the latest demand is at most close_after old. */
static void test_demand(void **state)
{
    (void)state;
    const uint64_t s = 1000000000ull, close = 10 * s, now = 100 * s;
    assert_false(ctl_demand_wanted(0, now, close)); /* nobody ever asked */
    assert_true(ctl_demand_wanted(now, now, close));
    assert_true(ctl_demand_wanted(now - close, now, close));
    assert_false(ctl_demand_wanted(now - close - 1, now, close));
    /* A worker read the clock after the supervisor did: demand now, not 584 years ago. */
    assert_true(ctl_demand_wanted(now + 5, now, close));
    assert_string_equal(ctl_state_name(CTL_STATE_IDLE), "idle");
}

/* The Python test library (test/integration/rtsp_testlib.py, make_ctl) writes a control
 * segment by these numbers: a change of layout must change them there too. */
static void test_layout_known_to_tests(void **state)
{
    (void)state;
    assert_int_equal(CTL_VERSION, 3);
    assert_int_equal(sizeof(struct ctl_hdr), 458880);
    assert_int_equal(offsetof(struct ctl_hdr, children), 128);
    assert_int_equal(sizeof(struct ctl_child), 448);
    assert_int_equal(offsetof(struct ctl_child, counters), 104);
    assert_int_equal(offsetof(struct ctl_counters, frames_written), 80);
    assert_int_equal(offsetof(struct ctl_counters, source_reconnects), 88);
    assert_int_equal(offsetof(struct ctl_counters, frames_dropped), 96);
}

static void test_counter_table(void **state)
{
    (void)state;
    /* Every counter field of struct ctl_counters is listed once (its reserved tail is used up:
     * a new counter now grows struct ctl_child, whose size is checked above). */
    size_t fields = sizeof(struct ctl_counters) / sizeof(uint64_t);
    assert_int_equal(ctl_counter_count, fields);
    for (size_t i = 0; i < ctl_counter_count; i++) {
        assert_int_equal(ctl_counter_info[i].offset % sizeof(uint64_t), 0);
        assert_true(ctl_counter_info[i].offset < sizeof(struct ctl_counters));
        assert_true(ctl_counter_info[i].roles != 0);
        for (size_t k = 0; k < i; k++)
            assert_true(ctl_counter_info[i].offset != ctl_counter_info[k].offset);
    }
    struct ctl_counters c;
    memset(&c, 0, sizeof(c));
    ctl_count(&c.frames_written, 42);
    for (size_t i = 0; i < ctl_counter_count; i++)
        if (strcmp(ctl_counter_info[i].name, "frames_written") == 0)
            assert_int_equal(ctl_counter_get(&c, &ctl_counter_info[i]), 42);
    assert_string_equal(ctl_state_name(CTL_STATE_BACKOFF), "backoff");
    assert_string_equal(ctl_role_name(CTL_ROLE_EGRESS), "egress");
    assert_string_equal(ctl_state_name(99), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_attach),
        cmocka_unit_test(test_attach_refuses_foreign),
        cmocka_unit_test(test_slot_reuse),
        cmocka_unit_test(test_private_lazy),
        cmocka_unit_test(test_demand),
        cmocka_unit_test(test_counter_table),
        cmocka_unit_test(test_layout_known_to_tests),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
