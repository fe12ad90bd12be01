/* SPDX-License-Identifier: MIT */
/* oneshot.c: accept, read until the respond callback has a full request (or answer at once, for
 * a protocol where the server speaks first), write, close. One allocation per connection (not
 * a hot path: operators, scrapers and a load balancer's agent checks). */
#include "supervisor/oneshot.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"

#define ONESHOT_BACKLOG 64

struct oneshot_conn {
    union {
        uv_handle_t handle;
        uv_stream_t stream;
        uv_pipe_t pipe;
        uv_tcp_t tcp;
    } h;
    uv_timer_t deadline;
    uv_write_t wr;
    uv_shutdown_t sd;
    struct oneshot_server *srv;
    struct oneshot_conn *next;
    char *out;
    int open_handles; /* freed when both handles are closed */
    int closing;
    size_t len;
    uint8_t req[ONESHOT_MAX_REQUEST];
};

static void conn_unlink(struct oneshot_conn *c)
{
    for (struct oneshot_conn **p = &c->srv->conns; *p; p = &(*p)->next) {
        if (*p == c) {
            *p = c->next;
            return;
        }
    }
}

static void on_conn_handle_closed(uv_handle_t *h)
{
    struct oneshot_conn *c = h->data;
    if (--c->open_handles == 0) {
        free(c->out);
        free(c);
    }
}

static void conn_close(struct oneshot_conn *c)
{
    if (c->closing)
        return;
    c->closing = 1;
    conn_unlink(c);
    uv_close(&c->h.handle, on_conn_handle_closed);
    uv_close((uv_handle_t *)&c->deadline, on_conn_handle_closed);
}

static void on_deadline(uv_timer_t *t)
{
    conn_close(t->data);
}

static int conn_fd(struct oneshot_conn *c)
{
    uv_os_fd_t fd;
    return uv_fileno(&c->h.handle, &fd) == 0 ? fd : -1;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct oneshot_conn *c = h->data;
    (void)suggested;
    *buf = uv_buf_init((char *)c->req + c->len, (unsigned)(sizeof(c->req) - c->len));
}

static void answer(struct oneshot_conn *c, size_t outlen);

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    struct oneshot_conn *c = st->data;
    (void)buf;
    if (n < 0) {
        conn_close(c);
        return;
    }
    if (c->out) { /* answered: what the peer still sends is read only to be dropped */
        c->len = 0;
        return;
    }
    c->len += (size_t)n;
    size_t outlen = 0;
    int rc = c->srv->respond(c->srv->arg, conn_fd(c), c->req, c->len, &c->out, &outlen);
    if (rc == 0 && c->len < sizeof(c->req))
        return;
    if (rc <= 0) {
        (void)uv_read_stop(st);
        log_debug("%s: dropping a client: bad or oversized request", c->srv->name);
        conn_close(c);
        return;
    }
    answer(c, outlen);
}

static bool is_tcp(const struct oneshot_server *s)
{
    return s->h.handle.type == UV_TCP;
}

static void on_shutdown(uv_shutdown_t *sd, int status)
{
    if (status < 0)
        conn_close(sd->data);
}

/* A unix client (ringcastctl) has said all it will: close. A TCP peer may still send (HAProxy's
 * agent-send string), and closing with unread bytes would reset the connection and could
 * destroy the answer in flight: send FIN, then read until the peer closes or the deadline. */
static void on_written(uv_write_t *wr, int status)
{
    struct oneshot_conn *c = wr->data;
    if (status < 0 || !is_tcp(c->srv)) {
        conn_close(c);
        return;
    }
    c->sd.data = c;
    c->len = 0;
    if (uv_shutdown(&c->sd, &c->h.stream, on_shutdown) < 0 ||
        uv_read_start(&c->h.stream, on_alloc, on_read) < 0)
        conn_close(c);
}

static void answer(struct oneshot_conn *c, size_t outlen)
{
    (void)uv_read_stop(&c->h.stream);
    uv_buf_t out = uv_buf_init(c->out, (unsigned)outlen);
    c->wr.data = c;
    if (uv_write(&c->wr, &c->h.stream, &out, 1, on_written) < 0)
        conn_close(c);
}

static void on_connection(uv_stream_t *server, int status)
{
    struct oneshot_server *s = server->data;
    if (status < 0)
        return;
    struct oneshot_conn *c = calloc(1, sizeof(*c));
    if (!c)
        return; /* the pending connection stays in the backlog until memory returns */
    c->srv = s;
    if (is_tcp(s))
        (void)uv_tcp_init(s->loop, &c->h.tcp);
    else
        (void)uv_pipe_init(s->loop, &c->h.pipe, 0);
    (void)uv_timer_init(s->loop, &c->deadline);
    c->h.handle.data = c;
    c->deadline.data = c;
    c->open_handles = 2;
    c->next = s->conns;
    s->conns = c;
    if (uv_accept(server, &c->h.stream) < 0 || uv_read_start(&c->h.stream, on_alloc, on_read) < 0) {
        conn_close(c);
        return;
    }
    (void)uv_timer_start(&c->deadline, on_deadline, ONESHOT_TIMEOUT_MS, 0);
    size_t outlen = 0;
    if (s->respond(s->arg, conn_fd(c), c->req, 0, &c->out, &outlen) == 1) /* speaks first */
        answer(c, outlen);
}

/* 1 if something accepts connections at path (another supervisor), else 0. */
static int unix_socket_live(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    int live = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    close(fd);
    return live;
}

int oneshot_listen_unix(struct oneshot_server *s, uv_loop_t *loop, const char *path, unsigned mode)
{
    if (unix_socket_live(path))
        return UV_EADDRINUSE;
    unlink(path); /* stale, from a supervisor that died */
    s->loop = loop;
    (void)uv_pipe_init(loop, &s->h.pipe, 0);
    s->h.handle.data = s;
    int err = uv_pipe_bind(&s->h.pipe, path);
    if (err == 0 && chmod(path, mode) < 0)
        err = uv_translate_sys_error(errno);
    if (err == 0)
        err = uv_listen(&s->h.stream, ONESHOT_BACKLOG, on_connection);
    return err;
}

int oneshot_listen_tcp(struct oneshot_server *s, uv_loop_t *loop, const char *host, uint16_t port)
{
    struct sockaddr_storage sa;
    int err = uv_ip4_addr(host, port, (struct sockaddr_in *)&sa);
    if (err < 0)
        err = uv_ip6_addr(host, port, (struct sockaddr_in6 *)&sa);
    if (err < 0)
        return err;
    s->loop = loop;
    (void)uv_tcp_init(loop, &s->h.tcp);
    s->h.handle.data = s;
    err = uv_tcp_bind(&s->h.tcp, (const struct sockaddr *)&sa, 0);
    if (err == 0)
        err = uv_listen(&s->h.stream, ONESHOT_BACKLOG, on_connection);
    return err;
}

int oneshot_open(struct oneshot_server *s, uv_loop_t *loop, int fd)
{
    bool tcp = uv_guess_handle(fd) == UV_TCP;
    s->loop = loop;
    if (tcp)
        (void)uv_tcp_init(loop, &s->h.tcp);
    else
        (void)uv_pipe_init(loop, &s->h.pipe, 0);
    s->h.handle.data = s;
    int err = tcp ? uv_tcp_open(&s->h.tcp, fd) : uv_pipe_open(&s->h.pipe, fd);
    if (err == 0) /* listen(2) again on a listening socket only sets the backlog */
        err = uv_listen(&s->h.stream, ONESHOT_BACKLOG, on_connection);
    return err;
}

int oneshot_fd(const struct oneshot_server *s)
{
    uv_os_fd_t fd;
    return s->loop && uv_fileno(&s->h.handle, &fd) == 0 ? fd : -1;
}

void oneshot_close(struct oneshot_server *s, const char *unlink_path)
{
    /* A connection with a reply in flight (ringcastctl stop) closes when it is written; an agent
     * check's answer is worth nothing once the supervisor stops. */
    struct oneshot_conn *c = s->conns, *next;
    for (; c; c = next) {
        next = c->next;
        if (!c->out || is_tcp(s))
            conn_close(c);
    }
    if (s->loop && !uv_is_closing(&s->h.handle))
        uv_close(&s->h.handle, NULL);
    if (unlink_path)
        unlink(unlink_path);
}
