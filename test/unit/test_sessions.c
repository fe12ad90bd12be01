/* SPDX-License-Identifier: MIT */
/* test_sessions.c: shm/sessions.c: a successor reads back what its predecessor wrote, and a
 * damaged table is refused record by record (random bytes, a half-written record, another
 * build's record, a truncated object) or as a whole (another layout, random bytes in the
 * header), never with a crash; a table a live process holds is refused until it marks it
 * released (a planned handover). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "shm/sessions.h"

#define BUILD 0x1234abcdull
#define N     8

static char prefix[64];

static int setup(void **state)
{
    (void)state;
    snprintf(prefix, sizeof(prefix), "rct-unit-sessions-%d", (int)getpid());
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char name[96];
    snprintf(name, sizeof(name), "/%s.sessions.3", prefix);
    (void)shm_unlink(name);
    return 0;
}

/* A table of N records, 0..4 written with data "rec i" and progress 100 + i; closed
 * without unlinking, as a crash leaves it. */
static void predecessor(void)
{
    struct sessions s;
    assert_int_equal(sessions_open(&s, prefix, 3, N, BUILD), 0);
    assert_int_equal(s.n_prev, 0);
    for (uint32_t i = 0; i < 5; i++) {
        char d[32];
        int n = snprintf(d, sizeof(d), "rec %u", i);
        sessions_write(&s, i, d, (size_t)n, 100 + i);
    }
    sessions_write(&s, 4, "rec 4b", 6, 7); /* rewritten */
    sessions_close(&s, false);
}

static void *raw_map(size_t *len)
{
    char name[96];
    snprintf(name, sizeof(name), "/%s.sessions.3", prefix);
    int fd = shm_open(name, O_RDWR, 0);
    assert_true(fd >= 0);
    *len = (size_t)lseek(fd, 0, SEEK_END);
    void *m = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    assert_true(m != MAP_FAILED);
    return m;
}

static void test_roundtrip(void **state)
{
    (void)state;
    predecessor();
    struct sessions s;
    assert_int_equal(sessions_open(&s, prefix, 3, N, BUILD), 0);
    assert_int_equal(s.n_prev, N);
    assert_string_equal(s.refused, "");
    char buf[SESSIONS_DATA_MAX];
    uint64_t progress;
    assert_int_equal(sessions_read(&s, 1, buf, sizeof(buf), &progress), 5);
    assert_memory_equal(buf, "rec 1", 5);
    assert_int_equal(progress, 101);
    assert_int_equal(sessions_read(&s, 4, buf, sizeof(buf), &progress), 6);
    assert_int_equal(progress, 7);
    assert_int_equal(sessions_read(&s, 5, buf, sizeof(buf), &progress), -ENOENT);
    atomic_store(sessions_progress(&s, 1), 555);
    assert_int_equal(sessions_read(&s, 1, buf, sizeof(buf), &progress), 5);
    assert_int_equal(progress, 555); /* outside the checksum */
    sessions_wipe(&s, 2);
    assert_int_equal(sessions_read(&s, 2, buf, sizeof(buf), &progress), -ENOENT);
    for (size_t i = 0; i < SESSIONS_REC_SIZE; i++) /* the keys went with it */
        assert_int_equal(((uint8_t *)&s.rec[2])[i], 0);
    sessions_close(&s, true);
}

static void test_damaged_records(void **state)
{
    (void)state;
    predecessor();
    size_t len;
    uint8_t *m = raw_map(&len);
    struct sessions_rec *rec = (struct sessions_rec *)(m + sizeof(struct sessions_hdr));
    srand(7);
    for (size_t i = 0; i < 40; i++) /* random bytes into record 0's data */
        rec[0].data[rand() % 40] ^= (uint8_t)(1 + rand() % 255);
    atomic_store(&rec[1].seq, 3);                  /* left half-written */
    rec[2].build_id ^= 1;                          /* another build's record */
    rec[3].len = SESSIONS_DATA_MAX + 1;            /* a length out of range */
    for (size_t i = 0; i < SESSIONS_REC_SIZE; i++) /* random bytes over a whole empty record */
        ((uint8_t *)&rec[6])[i] = (uint8_t)rand();
    munmap(m, len);
    struct sessions s;
    assert_int_equal(sessions_open(&s, prefix, 3, N, BUILD), 0);
    assert_int_equal(s.n_prev, N);
    char buf[SESSIONS_DATA_MAX];
    uint64_t progress;
    assert_int_equal(sessions_read(&s, 0, buf, sizeof(buf), &progress), -EBADMSG);
    assert_int_equal(sessions_read(&s, 1, buf, sizeof(buf), &progress), -EBUSY);
    assert_int_equal(sessions_read(&s, 2, buf, sizeof(buf), &progress), -EPROTO);
    assert_int_equal(sessions_read(&s, 3, buf, sizeof(buf), &progress), -EBADMSG);
    assert_int_equal(sessions_read(&s, 4, buf, sizeof(buf), &progress), 6); /* intact */
    int rc = sessions_read(&s, 6, buf, sizeof(buf), &progress);
    assert_true(rc == -EBADMSG || rc == -EBUSY || rc == -EPROTO);
    sessions_close(&s, true);
}

static void test_truncated(void **state)
{
    (void)state;
    predecessor();
    char name[96];
    snprintf(name, sizeof(name), "/%s.sessions.3", prefix);
    int fd = shm_open(name, O_RDWR, 0);
    assert_true(fd >= 0);
    /* Cut in the middle of record 2: 0 and 1 survive, 2 is refused, the rest are gone. */
    assert_int_equal(ftruncate(fd, sizeof(struct sessions_hdr) + 2 * SESSIONS_REC_SIZE + 100), 0);
    close(fd);
    struct sessions s;
    char buf[SESSIONS_DATA_MAX];
    uint64_t progress;
    assert_int_equal(sessions_open(&s, prefix, 3, N, BUILD), 0);
    assert_int_equal(s.n_prev, 2);
    assert_int_equal(sessions_read(&s, 1, buf, sizeof(buf), &progress), 5);
    assert_int_equal(sessions_read(&s, 2, buf, sizeof(buf), &progress), -ENOENT);
    sessions_close(&s, false);
    /* Cut inside the header: refused as a whole. */
    fd = shm_open(name, O_RDWR, 0);
    assert_int_equal(ftruncate(fd, 20), 0);
    close(fd);
    assert_int_equal(sessions_open(&s, prefix, 3, N, BUILD), 0);
    assert_int_equal(s.n_prev, 0);
    assert_non_null(strstr(s.refused, "truncated"));
    sessions_close(&s, true);
}

static void test_foreign_table(void **state)
{
    (void)state;
    predecessor();
    struct sessions s;
    /* Another build: every record refused, the table wiped. */
    assert_int_equal(sessions_open(&s, prefix, 3, N, BUILD + 1), 0);
    assert_int_equal(s.n_prev, 0);
    assert_non_null(strstr(s.refused, "another record layout"));
    uint64_t progress;
    char buf[SESSIONS_DATA_MAX];
    assert_int_equal(sessions_read(&s, 1, buf, sizeof(buf), &progress), -ENOENT);
    sessions_close(&s, false);
    /* Random bytes everywhere, header included. */
    size_t len;
    uint8_t *m = raw_map(&len);
    srand(11);
    for (size_t i = 0; i < len; i++)
        m[i] = (uint8_t)rand();
    munmap(m, len);
    assert_int_equal(sessions_open(&s, prefix, 3, N, BUILD), 0);
    assert_int_equal(s.n_prev, 0);
    assert_non_null(strstr(s.refused, "not a session table"));
    sessions_close(&s, true);
}

/* A predecessor that still runs (our parent stands in for it): its table is busy until it
 * marks it released, then a successor takes it over with every record. */
static void test_handover(void **state)
{
    (void)state;
    predecessor();
    size_t len;
    struct sessions held = {.hdr = raw_map(&len)};
    int32_t live = (int32_t)getppid();
    atomic_store(&held.hdr->owner_pid, live);
    struct sessions s;
    assert_int_equal(sessions_open(&s, prefix, 3, N, BUILD), -EBUSY);
    assert_false(sessions_released_by(prefix, 3, live));
    assert_true(sessions_released_by(prefix, 3, live + 1)); /* not the owner */
    sessions_release(&held);
    assert_int_equal(atomic_load(&held.hdr->released_pid), live);
    munmap(held.hdr, len);
    assert_true(sessions_released_by(prefix, 3, live));
    assert_int_equal(sessions_open(&s, prefix, 3, N, BUILD), 0);
    assert_int_equal(s.n_prev, N);
    assert_int_equal(s.prev_pid, live);
    assert_int_equal(atomic_load(&s.hdr->released_pid), 0); /* ours now, not released */
    char buf[SESSIONS_DATA_MAX];
    uint64_t progress;
    assert_int_equal(sessions_read(&s, 3, buf, sizeof(buf), &progress), 5);
    assert_memory_equal(buf, "rec 3", 5);
    sessions_close(&s, true);
    assert_true(sessions_released_by(prefix, 3, live)); /* no table at all */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_records, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_handover, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
