/* SPDX-License-Identifier: MIT */
/* test_handover.c: common/handover.c: a descriptor and bytes reach the path's listener with
 * the sender's credentials; no listener is -ECONNREFUSED; a message without a descriptor is
 * refused. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/handover.h"

static char prefix[32];

static int setup(void **state)
{
    (void)state;
    snprintf(prefix, sizeof(prefix), "rc-test-%d", (int)getpid());
    return 0;
}

static void test_pass_descriptor(void **state)
{
    (void)state;
    int lfd = handover_listen(prefix, "pub");
    assert_true(lfd >= 0);
    assert_int_equal(handover_listen(prefix, "pub"), -EADDRINUSE);
    int sp[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
    const char req[] = "ANNOUNCE rtsp://h/pub RTSP/1.0\r\nCSeq: 2\r\n\r\n";
    assert_int_equal(handover_send(prefix, "pub", sp[0], req, sizeof(req) - 1), 0);
    close(sp[0]); /* the receiver's copy keeps the connection */
    char buf[HANDOVER_BYTES_MAX];
    size_t len = 0;
    int fd = -1;
    struct ucred cred;
    assert_int_equal(handover_recv(lfd, &fd, buf, sizeof(buf), &len, &cred), 0);
    assert_int_equal(len, sizeof(req) - 1);
    assert_memory_equal(buf, req, len);
    assert_int_equal(cred.uid, getuid());
    assert_int_equal(cred.pid, getpid());
    assert_int_equal(write(fd, "x", 1), 1);
    char c = 0;
    assert_int_equal(read(sp[1], &c, 1), 1);
    assert_int_equal(c, 'x');
    close(fd);
    close(sp[1]);
    assert_int_equal(handover_recv(lfd, &fd, buf, sizeof(buf), &len, &cred), -EAGAIN);
    close(lfd);
}

static void test_no_listener(void **state)
{
    (void)state;
    int sp[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
    assert_int_equal(handover_send(prefix, "nobody", sp[0], "x", 1), -ECONNREFUSED);
    assert_int_equal(handover_send(prefix, "nobody", sp[0], "x", 0), -EMSGSIZE);
    close(sp[0]);
    close(sp[1]);
}

/* Any local process can write to the abstract name: bytes alone hand nothing over. */
static void test_without_descriptor(void **state)
{
    (void)state;
    int lfd = handover_listen(prefix, "bare");
    assert_true(lfd >= 0);
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    int n = snprintf(un.sun_path + 1, sizeof(un.sun_path) - 1, "%s.publish.bare", prefix);
    int s = socket(AF_UNIX, SOCK_DGRAM, 0);
    assert_true(sendto(s, "hello", 5, 0, (struct sockaddr *)&un,
                       (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n)) == 5);
    char buf[64];
    size_t len;
    int fd = -1;
    struct ucred cred;
    assert_int_equal(handover_recv(lfd, &fd, buf, sizeof(buf), &len, &cred), -EBADMSG);
    assert_int_equal(fd, -1);
    close(s);
    close(lfd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pass_descriptor),
        cmocka_unit_test(test_no_listener),
        cmocka_unit_test(test_without_descriptor),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
