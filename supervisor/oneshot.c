/* SPDX-License-Identifier: MIT */
/* oneshot.c: accept, read until the respond callback has a full request, write, close.
 * One allocation per connection (not a hot path: operators and scrapers). */
#include "supervisor/oneshot.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"

struct oneshot_conn {
    union {
        uv_handle_t handle;
        uv_stream_t stream;
        uv_pipe_t pipe;
    } h;
    uv_timer_t deadline;
    uv_write_t wr;
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

static void on_written(uv_write_t *wr, int status)
{
    (void)status; /* the client went away: nothing left to do either way */
    conn_close(wr->data);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct oneshot_conn *c = h->data;
    (void)suggested;
    *buf = uv_buf_init((char *)c->req + c->len, (unsigned)(sizeof(c->req) - c->len));
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    struct oneshot_conn *c = st->data;
    (void)buf;
    if (n < 0) {
        conn_close(c);
        return;
    }
    c->len += (size_t)n;
    size_t outlen = 0;
    int rc = c->srv->respond(c->srv->arg, c->req, c->len, &c->out, &outlen);
    if (rc == 0 && c->len < sizeof(c->req))
        return;
    (void)uv_read_stop(st);
    if (rc <= 0) {
        log_debug("%s: dropping a client: bad or oversized request", c->srv->name);
        conn_close(c);
        return;
    }
    uv_buf_t out = uv_buf_init(c->out, (unsigned)outlen);
    c->wr.data = c;
    if (uv_write(&c->wr, st, &out, 1, on_written) < 0)
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
        err = uv_listen(&s->h.stream, 64, on_connection);
    return err;
}

void oneshot_close(struct oneshot_server *s, const char *unlink_path)
{
    /* A connection with a reply in flight (ringcastctl stop) closes when it is written. */
    struct oneshot_conn *c = s->conns, *next;
    for (; c; c = next) {
        next = c->next;
        if (!c->out)
            conn_close(c);
    }
    if (s->loop && !uv_is_closing(&s->h.handle))
        uv_close(&s->h.handle, NULL);
    if (unlink_path)
        unlink(unlink_path);
}
