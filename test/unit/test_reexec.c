/* SPDX-License-Identifier: MIT */
/* test_reexec.c: the state a supervisor hands to its re-executed self is read back only when
 * it is whole and of this build (a flipped byte, another version or size, a truncated memfd,
 * a bad child entry are refused with a reason), loading it clears the environment variable and
 * makes the handed sockets close-on-exec again, and the probe accepts only a binary that
 * answers this build's state line. */
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
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "supervisor/reexec.h"

static struct reexec_state st, back;
static char err[PATH_MAX + 256];

static void fill(struct reexec_state *s)
{
    memset(s, 0, sizeof(*s));
    s->fd_control = s->fd_metrics = s->fd_agent = s->fd_reply = -1;
    snprintf(s->exe, sizeof(s->exe), "/usr/bin/ringcast");
    s->n_children = 2;
    s->children[0] = (struct reexec_child){.slot = 0, .role = CTL_ROLE_INGEST, .pid = 100};
    snprintf(s->children[0].path, sizeof(s->children[0].path), "demo");
    s->children[1] = (struct reexec_child){.slot = 1, .role = CTL_ROLE_EGRESS, .pid = 101};
    reexec_seal(s);
}

static void refused(const struct reexec_state *s, size_t len, const char *reason)
{
    err[0] = '\0';
    assert_int_equal(reexec_validate(s, len, err, sizeof(err)), -EPROTO);
    assert_non_null(strstr(err, reason));
}

static void test_validate(void **state)
{
    (void)state;
    fill(&st);
    assert_int_equal(reexec_validate(&st, sizeof(st), err, sizeof(err)), 0);
    refused(&st, sizeof(st) - 1, "another version or size");
    refused(&st, 4, "not a ringcast supervisor state");

    fill(&st);
    st.children[1].index ^= 1; /* a flipped bit anywhere */
    refused(&st, sizeof(st), "checksum");
    fill(&st);
    st.version = REEXEC_VERSION + 1; /* a later build's state, its own checksum */
    st.checksum = reexec_checksum(&st);
    refused(&st, sizeof(st), "another version");
    fill(&st);
    st.magic ^= 1;
    refused(&st, sizeof(st), "not a ringcast");

    /* Whole and of this build, but wrong inside: each refused with its own check. */
    fill(&st);
    st.children[1].slot = 0;
    reexec_seal(&st);
    refused(&st, sizeof(st), "bad child entry");
    fill(&st);
    st.children[1].role = CTL_ROLE_NONE;
    reexec_seal(&st);
    refused(&st, sizeof(st), "bad child entry");
    fill(&st);
    memset(st.children[0].path, 'a', sizeof(st.children[0].path));
    reexec_seal(&st);
    refused(&st, sizeof(st), "bad child entry");
    fill(&st);
    st.n_children = CTL_MAX_CHILDREN + 1;
    reexec_seal(&st);
    refused(&st, sizeof(st), "bad count");
    fill(&st);
    snprintf(st.exe, sizeof(st.exe), "ringcast"); /* relative: not what was executed */
    reexec_seal(&st);
    refused(&st, sizeof(st), "bad count or path");
}

/* A memfd holding len bytes of s, named by REEXEC_ENV as a re-executing supervisor does. */
static int hand_over(const struct reexec_state *s, size_t len)
{
    int fd = memfd_create("test-reexec", 0);
    assert_true(fd > STDERR_FILENO);
    assert_int_equal(write(fd, s, len), (ssize_t)len);
    char num[16];
    snprintf(num, sizeof(num), "%d", fd);
    setenv(REEXEC_ENV, num, 1);
    return fd;
}

static void test_load(void **state)
{
    (void)state;
    unsetenv(REEXEC_ENV);
    assert_int_equal(reexec_load(&back, err, sizeof(err)), 0); /* a first start */

    int sp[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0); /* inheritable, as handed */
    fill(&st);
    st.fd_control = sp[0];
    st.fd_metrics = sp[1];
    reexec_seal(&st);
    int fd = hand_over(&st, sizeof(st));
    assert_int_equal(reexec_load(&back, err, sizeof(err)), 1);
    assert_null(getenv(REEXEC_ENV));          /* children must not see it */
    assert_int_equal(fcntl(fd, F_GETFD), -1); /* the memfd is closed */
    assert_memory_equal(&back, &st, sizeof(st));
    assert_true(fcntl(sp[0], F_GETFD) & FD_CLOEXEC);
    assert_true(fcntl(sp[1], F_GETFD) & FD_CLOEXEC);

    hand_over(&st, sizeof(st) / 2); /* truncated */
    assert_int_equal(reexec_load(&back, err, sizeof(err)), -EPROTO);
    assert_null(getenv(REEXEC_ENV));

    close(sp[1]); /* a listening socket that did not come across */
    hand_over(&st, sizeof(st));
    assert_int_equal(reexec_load(&back, err, sizeof(err)), -EPROTO);
    assert_non_null(strstr(err, "did not come across"));
    close(sp[0]);

    setenv(REEXEC_ENV, "2", 1); /* stderr is no state */
    assert_int_equal(reexec_load(&back, err, sizeof(err)), -EPROTO);
}

/* An executable script at path printing line (as a build would answer the probe). */
static void script(const char *path, const char *line)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "#!/bin/sh\nprintf '%%s\\n' '%s'\n", line);
    fclose(f);
    assert_int_equal(chmod(path, 0755), 0);
}

static void test_probe(void **state)
{
    (void)state;
    char dir[] = "/tmp/rc-reexec-XXXXXX", path[64], line[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/ringcast", dir);
    reexec_probe_line(line, sizeof(line));
    line[strcspn(line, "\n")] = '\0';
    script(path, line);
    assert_int_equal(reexec_probe(path, NULL, err, sizeof(err)), 0);

    script(path, "ringcast reexec-state 999 1");
    assert_int_equal(reexec_probe(path, NULL, err, sizeof(err)), -EPROTO);
    assert_non_null(strstr(err, "reexec-state 999"));

    unlink(path);
    assert_true(reexec_probe(path, NULL, err, sizeof(err)) < 0);
    assert_non_null(strstr(err, "cannot run"));
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validate),
        cmocka_unit_test(test_load),
        cmocka_unit_test(test_probe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
