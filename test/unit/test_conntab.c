/* SPDX-License-Identifier: MIT */
/* test_conntab.c: the connection table of ICE-TCP and the RTSP server (egress/conntab) over
 * socketpairs with made-up peers: the limit per address (an IPv4-mapped peer counts as its
 * IPv4 address) and in total, each refusal counted and its socket closed, a closed slot taken
 * again only once its poll has closed, a refusing accepted hook leaving the slot free, the
 * poll handing readable bytes and a failed write to the user's hooks, a process out of file
 * descriptors closing waiting connections rather than leaving its listener readable, and a
 * bounded log of refusals. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/log.h"
#include "egress/conntab.h"

struct tconn {
    struct conntab_conn base;
    int mark; /* cleared on accept */
    int tail; /* kept across accepts (beyond params.zeroed) */
};

static _Atomic uint64_t refused;
static int accept_err, readable_calls, broken_calls;
static char broken_why[64];
static int peer_fd[8]; /* the other end of each slot's socketpair */

static int t_accepted(struct conntab_conn *c)
{
    (void)c;
    return accept_err;
}

static void t_readable(struct conntab_conn *c)
{
    char b[16];
    readable_calls += read(c->fd, b, sizeof(b)) > 0;
}

static void t_broken(struct conntab_conn *c, const char *why)
{
    broken_calls++;
    snprintf(broken_why, sizeof(broken_why), "%s", why);
    conntab_close(c);
}

static struct conntab_params params = {
    .log_name = "test",
    .kind = "test",
    .size = sizeof(struct tconn),
    .zeroed = offsetof(struct tconn, tail),
    .sndbuf = 4096,
    .accepted = t_accepted,
    .readable = t_readable,
    .broken = t_broken,
};

static uv_loop_t loop;
static struct conntab tab;

static void open_table(unsigned cap, unsigned per_address)
{
    params.cap = cap;
    params.per_address = per_address;
    refused = 0;
    accept_err = readable_calls = broken_calls = 0;
    assert_int_equal(uv_loop_init(&loop), 0);
    tab.fd = -1;
    assert_int_equal(conntab_init(&tab, &params, &loop, NULL, &refused), 0);
}

static void close_table(void)
{
    for (int32_t i = 0; i < tab.fresh; i++)
        conntab_close(conntab_at(&tab, i));
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(tab.n_open, 0);
    conntab_free(&tab);
    assert_int_equal(uv_loop_close(&loop), 0);
    for (unsigned i = 0; i < sizeof(peer_fd) / sizeof(peer_fd[0]); i++)
        if (peer_fd[i] > 0)
            close(peer_fd[i]);
    memset(peer_fd, 0, sizeof(peer_fd));
}

/* A peer at ip (IPv4 or IPv6) port 40000. */
static union viewer_addr peer_at(const char *ip)
{
    union viewer_addr a;
    memset(&a, 0, sizeof(a));
    if (inet_pton(AF_INET, ip, &a.in.sin_addr) == 1) {
        a.in.sin_family = AF_INET;
        a.in.sin_port = htons(40000);
    } else {
        assert_int_equal(inet_pton(AF_INET6, ip, &a.in6.sin6_addr), 1);
        a.in6.sin6_family = AF_INET6;
        a.in6.sin6_port = htons(40000);
    }
    return a;
}

/* Admits one end of a new socketpair from peer; *fd_out: the table's end. */
static int32_t admit(union viewer_addr peer, int *fd_out)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    int32_t i = conntab_admit(&tab, sv[0], &peer);
    if (i >= 0 && i < (int32_t)(sizeof(peer_fd) / sizeof(peer_fd[0]))) {
        if (peer_fd[i] > 0)
            close(peer_fd[i]);
        peer_fd[i] = sv[1];
    } else {
        close(sv[1]);
    }
    if (fd_out)
        *fd_out = sv[0];
    return i;
}

/* A new table of cap slots with n of them taken by 10.0.0.7 (slots 0 .. n-1). */
static void open_filled(unsigned cap, unsigned per_address, int32_t n)
{
    open_table(cap, per_address);
    for (int32_t i = 0; i < n; i++)
        assert_int_equal(admit(peer_at("10.0.0.7"), NULL), i);
}

static bool fd_closed(int fd)
{
    return fcntl(fd, F_GETFD) < 0 && errno == EBADF;
}

static void test_per_address(void **state)
{
    (void)state;
    open_table(8, 2);
    int fd;
    assert_int_equal(admit(peer_at("10.0.0.7"), NULL), 0);
    assert_int_equal(admit(peer_at("2001:db8::7"), NULL), 1);
    assert_int_equal(admit(peer_at("10.0.0.7"), NULL), 2);
    assert_int_equal(admit(peer_at("10.0.0.7"), &fd), -EBUSY);
    assert_true(fd_closed(fd));
    /* The same host through a dual-stack socket: unmapped, so still its third. */
    assert_int_equal(admit(peer_at("::ffff:10.0.0.7"), &fd), -EBUSY);
    assert_int_equal(refused, 2);
    assert_int_equal(admit(peer_at("10.0.0.8"), NULL), 3);
    assert_int_equal(admit(peer_at("2001:db8::7"), NULL), 4);
    assert_int_equal(admit(peer_at("2001:db8::7"), NULL), -EBUSY);
    assert_int_equal(tab.n_open, 5);
    assert_int_equal(refused, 3);
    /* One of 10.0.0.7's closes: it may connect again. */
    conntab_close(conntab_at(&tab, 0));
    assert_int_equal(admit(peer_at("10.0.0.7"), NULL), 5);
    close_table();
}

/* The user's unlimited hook lifts the limit per address for the peers it names (an edge
 * pulling many paths from an origin), and for no other. */
static bool only_10_0_0_9(const struct conntab *t, const union viewer_addr *peer)
{
    (void)t;
    return peer->sa.sa_family == AF_INET && ntohl(peer->in.sin_addr.s_addr) == 0x0a000009;
}

static void test_per_address_unlimited(void **state)
{
    (void)state;
    params.unlimited = only_10_0_0_9;
    open_table(8, 2);
    for (int32_t i = 0; i < 4; i++)
        assert_int_equal(admit(peer_at("10.0.0.9"), NULL), i);
    assert_int_equal(admit(peer_at("::ffff:10.0.0.9"), NULL), 4);
    assert_int_equal(admit(peer_at("10.0.0.7"), NULL), 5);
    assert_int_equal(admit(peer_at("10.0.0.7"), NULL), 6);
    assert_int_equal(admit(peer_at("10.0.0.7"), NULL), -EBUSY);
    assert_int_equal(refused, 1);
    params.unlimited = NULL;
    close_table();
}

static void test_total_and_reuse(void **state)
{
    (void)state;
    open_filled(3, 64, 3);
    int fd;
    assert_int_equal(admit(peer_at("10.0.0.9"), &fd), -ENOSPC);
    assert_true(fd_closed(fd));
    assert_int_equal(refused, 1);
    struct tconn *c = (struct tconn *)conntab_at(&tab, 1);
    c->mark = c->tail = 7;
    conntab_close(&c->base);
    conntab_close(&c->base); /* idempotent */
    assert_int_equal(tab.n_open, 2);
    assert_true(c->base.fd < 0);
    /* The slot is free only once its poll has closed (libuv still holds the handle). */
    assert_int_equal(admit(peer_at("10.0.0.9"), NULL), -ENOSPC);
    assert_int_equal(uv_run(&loop, UV_RUN_NOWAIT), 1);
    assert_int_equal(admit(peer_at("10.0.0.9"), NULL), 1);
    assert_int_equal(c->mark, 0);
    assert_int_equal(c->tail, 7);
    assert_int_equal(c->base.state, CONNTAB_OPEN);
    assert_int_equal(tab.fresh, 3);
    assert_int_equal(tab.n_open, 3);
    assert_int_equal(refused, 2);
    close_table();
}

/* Slots are handed out lowest first and never-used ones only when the free list is empty. */
static void test_free_list_order(void **state)
{
    (void)state;
    open_filled(6, 64, 4);
    conntab_close(conntab_at(&tab, 2));
    conntab_close(conntab_at(&tab, 0));
    assert_int_equal(uv_run(&loop, UV_RUN_NOWAIT), 1);
    assert_int_equal(tab.fresh, 4);
    int32_t a = admit(peer_at("10.0.0.7"), NULL), b = admit(peer_at("10.0.0.7"), NULL);
    assert_true((a == 0 && b == 2) || (a == 2 && b == 0));
    assert_int_equal(tab.fresh, 4);
    assert_int_equal(admit(peer_at("10.0.0.7"), NULL), 4);
    assert_int_equal(tab.fresh, 5);
    close_table();
}

static void test_refusals(void **state)
{
    (void)state;
    open_table(2, 2);
    union viewer_addr un;
    memset(&un, 0, sizeof(un));
    un.sa.sa_family = AF_UNIX;
    int fd;
    assert_int_equal(admit(un, &fd), -EAFNOSUPPORT);
    assert_true(fd_closed(fd));
    accept_err = -ENOMEM;
    assert_int_equal(admit(peer_at("10.0.0.7"), &fd), -ENOMEM);
    assert_true(fd_closed(fd));
    assert_int_equal(refused, 2);
    assert_int_equal(tab.n_open, 0);
    accept_err = 0; /* the slot the hook refused is still the next one */
    assert_int_equal(admit(peer_at("10.0.0.7"), NULL), 0);
    assert_int_equal(admit(peer_at("10.0.0.7"), NULL), 1);
    close_table();
}

/* Lines of stderr written by fn, read back from a temporary file. */
static size_t stderr_of(void (*fn)(void), char *out, size_t cap)
{
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
    fn();
    fflush(stderr);
    assert_true(dup2(saved, STDERR_FILENO) >= 0);
    close(saved);
    rewind(tmp);
    size_t n = fread(out, 1, cap - 1, tmp);
    out[n] = '\0';
    fclose(tmp);
    return n;
}

static unsigned count_of(const char *text, const char *what)
{
    unsigned n = 0;
    for (const char *p = text; (p = strstr(p, what)); p += strlen(what))
        n++;
    return n;
}

static void refuse_25(void)
{
    for (int i = 0; i < 25; i++)
        conntab_log_close(conntab_at(&tab, 0), "junk", true);
}

static void refuse_after_window(void)
{
    tab.refusal_log.window_ns -= CONNTAB_LOG_NS;
    conntab_log_close(conntab_at(&tab, 0), "junk", true);
}

/* A peer makes as many refusals as it likes; the log takes CONNTAB_REFUSAL_LOGS lines of them
 * per window, then says how many more there were. Every one is counted. */
static void test_refusal_log_bounded(void **state)
{
    (void)state;
    static char text[16384];
    log_set_level(LOG_INFO);
    open_filled(1, 1, 1);
    stderr_of(refuse_25, text, sizeof(text));
    assert_int_equal(count_of(text, "closed: junk"), CONNTAB_REFUSAL_LOGS);
    assert_int_equal(refused, 25);
    stderr_of(refuse_after_window, text, sizeof(text));
    assert_int_equal(count_of(text, "closed: junk"), 1);
    assert_non_null(strstr(text, "15 more connections closed for their peers' faults"));
    assert_int_equal(refused, 26);
    close_table();
}

/* The poll: bytes from the peer reach the readable hook; a queue that cannot write reaches
 * the broken hook, which closes. */
static void test_poll(void **state)
{
    (void)state;
    open_table(2, 2);
    assert_int_equal(admit(peer_at("10.0.0.7"), NULL), 0);
    struct conntab_conn *c = conntab_at(&tab, 0);
    assert_int_equal(write(peer_fd[0], "x", 1), 1);
    assert_int_equal(uv_run(&loop, UV_RUN_NOWAIT), 1);
    assert_int_equal(readable_calls, 1);
    conntab_queue(c, 4096);
    uint8_t pkt[100] = {0};
    assert_int_equal(tcpq_push(&c->q, pkt, sizeof(pkt)), 0);
    close(peer_fd[0]);
    peer_fd[0] = 0;
    conntab_watch(c, true);
    for (int i = 0; i < 10 && !broken_calls; i++)
        (void)uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(broken_calls, 1);
    assert_string_equal(broken_why, strerror(EPIPE));
    assert_int_equal(tab.n_open, 0); /* closed, and freed in the same loop iteration */
    close_table();
}

/* A loopback listener with n connections waiting in its backlog; clients in cl[]. */
static int listener_with(int n, int *cl)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    int l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    assert_true(l >= 0);
    assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(l, 16), 0);
    assert_int_equal(getsockname(l, (struct sockaddr *)&a, &al), 0);
    for (int i = 0; i < n; i++) {
        cl[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_int_equal(connect(cl[i], (struct sockaddr *)&a, sizeof(a)), 0);
    }
    return l;
}

static bool readable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 0) == 1;
}

/* Out of file descriptors, accept(2) fails with EMFILE and leaves the connection waiting: the
 * listener stays readable and a level-triggered loop would spin on it. The table closes the
 * waiting connections instead (counted), and admits again once descriptors are back. */
static void test_emfile(void **state)
{
    (void)state;
    open_table(4, 4);
    int cl[4];
    tab.fd = listener_with(3, cl);
    struct rlimit was, low;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &was), 0);
    int lowest = dup(0); /* the lowest free descriptor: no new one below the limit */
    assert_true(lowest >= 0);
    close(lowest);
    low = (struct rlimit){.rlim_cur = (rlim_t)lowest, .rlim_max = was.rlim_max};
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    conntab_accept(&tab);
    bool waiting = readable(tab.fd);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &was), 0);
    assert_false(waiting);
    assert_int_equal(refused, 3);
    assert_int_equal(tab.n_open, 0);
    char b;
    for (int i = 0; i < 3; i++) { /* each client sees its connection closed */
        assert_true(read(cl[i], &b, 1) <= 0);
        close(cl[i]);
    }
    assert_true(tab.reserve >= 0); /* taken again for the next time */
    close(tab.fd);
    tab.fd = listener_with(1, cl);
    conntab_accept(&tab);
    assert_int_equal(tab.n_open, 1);
    close(cl[0]);
    /* A reserve that could not be taken again (ENFILE: the system's last descriptor went to
     * another process meanwhile) is taken at the next accept, before it is needed. */
    close(tab.reserve);
    tab.reserve = -1;
    close(tab.fd);
    tab.fd = listener_with(1, cl);
    conntab_accept(&tab);
    assert_true(tab.reserve >= 0);
    close(cl[0]);
    close_table();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_per_address),     cmocka_unit_test(test_per_address_unlimited),
        cmocka_unit_test(test_total_and_reuse), cmocka_unit_test(test_free_list_order),
        cmocka_unit_test(test_refusals),        cmocka_unit_test(test_poll),
        cmocka_unit_test(test_emfile),          cmocka_unit_test(test_refusal_log_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
