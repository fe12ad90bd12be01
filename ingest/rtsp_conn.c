/* SPDX-License-Identifier: MIT */
/* rtsp_conn.c: the RTSP client's control connection: resolving the URL's host, its
 * credentials, connecting over TCP, reading the stream into responses, the server's requests
 * and interleaved frames (each handed on), and writing with one allocation per write. */
#include "ingest/rtsp_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static void on_conn_closed(uv_handle_t *h)
{
    struct rtsp_conn *c = (struct rtsp_conn *)h;
    struct rtsp_source *s = c->src;
    free(c);
    rtsp_handle_gone(s);
}

void rtsp_conn_close(struct rtsp_source *s)
{
    if (!s->conn)
        return;
    rtsp_close_handle((uv_handle_t *)&s->conn->tcp, on_conn_closed);
    (void)uv_timer_stop(&s->resume);
    s->conn = NULL;
    s->rlen = 0;
}

/* ---- writing ---- */

struct rtsp_write {
    uv_write_t req;
    struct rtsp_source *src;
    uint8_t data[];
};

static void on_written(uv_write_t *req, int status)
{
    struct rtsp_write *w = (struct rtsp_write *)req;
    struct rtsp_source *s = w->src;
    free(w);
    if (status == UV_ECANCELED)
        return; /* the connection was closed under it */
    if (s->state == RTSP_TEARDOWN)
        rtsp_session_teardown_done(s);
}

int rtsp_conn_write(struct rtsp_source *s, const uint8_t *p, size_t len)
{
    if (!s->conn)
        return -ENOTCONN;
    struct rtsp_write *w = malloc(sizeof(*w) + len);
    if (!w)
        return -ENOMEM;
    w->src = s;
    memcpy(w->data, p, len);
    uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)len);
    int err = uv_write(&w->req, (uv_stream_t *)&s->conn->tcp, &b, 1, on_written);
    if (err < 0)
        free(w);
    return err;
}

/* ---- connecting and reading ---- */

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    struct rtsp_source *s = ((struct rtsp_conn *)h)->src;
    (void)hint;
    *buf = uv_buf_init((char *)s->rbuf + s->rlen, (unsigned)(RTSP_RBUF_SIZE - s->rlen));
}

static const char *stream_error(int err)
{
    switch (err) {
    case -ERANGE:
        return "bad interleaved frame length";
    case -EMSGSIZE:
        return "oversized response";
    default:
        return "garbled response";
    }
}

static void set_rcvlowat(struct rtsp_conn *c, int bytes)
{
    uv_os_fd_t fd;
    if (uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0)
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &bytes, sizeof(bytes));
}

/* The pause is over: what came meanwhile is readable at once (lowering SO_RCVLOWAT wakes). */
static void on_resume(uv_timer_t *t)
{
    struct rtsp_source *s = t->data;
    if (s->conn)
        set_rcvlowat(s->conn, 1);
}

/* Playing media nobody watches: a pause of INGEST_UNWATCHED_MS in reading (not uv_read_stop,
 * whose epoll registration goes only at the next event: a wake-up it would save the pause). */
static void pause_unwatched(struct rtsp_source *s)
{
    if (s->state != RTSP_PLAYING || uv_is_active((uv_handle_t *)&s->resume) ||
        ingest_watched(s->ing))
        return;
    set_rcvlowat(s->conn, RTSP_UNWATCHED_LOWAT);
    (void)uv_timer_start(&s->resume, on_resume, INGEST_UNWATCHED_MS, 0);
}

static void on_read(uv_stream_t *h, ssize_t nread, const uv_buf_t *buf)
{
    struct rtsp_conn *c = (struct rtsp_conn *)h;
    struct rtsp_source *s = c->src;
    (void)buf;
    if (nread < 0) {
        if (s->state == RTSP_TEARDOWN)
            rtsp_session_teardown_done(s); /* the server may close as it answers (RFC 2326 10.7) */
        else if (nread == UV_EOF)
            rtsp_fail(s, "server closed the connection");
        else
            rtsp_fail(s, "read: %s", uv_strerror((int)nread));
        return;
    }
    s->rlen += (size_t)nread;
    size_t off = 0;
    struct rtsp_item *it = &s->item;
    while (off < s->rlen) {
        int n = rtsp_stream_next(it, s->rbuf + off, s->rlen - off);
        if (n == 0)
            break;
        if (n < 0) {
            rtsp_fail(s, "%s", stream_error(n));
            return;
        }
        off += (size_t)n;
        if (it->kind == RTSP_ITEM_RESPONSE)
            rtsp_request_response(s, &it->resp);
        else if (it->kind == RTSP_ITEM_REQUEST)
            rtsp_request_from_server(s, &it->req);
        else if (s->state == RTSP_PLAYING)
            rtsp_media_interleaved(s, it->channel, it->data, it->data_len);
        if (s->conn != c)
            return; /* failed, redirected or closing: the buffer is gone */
    }
    if (off > 0) {
        memmove(s->rbuf, s->rbuf + off, s->rlen - off);
        s->rlen -= off;
    }
    pause_unwatched(s);
}

static void on_connect(uv_connect_t *req, int status)
{
    struct rtsp_conn *c = req->data;
    if (status == UV_ECANCELED)
        return;
    struct rtsp_source *s = c->src;
    if (s->conn != c)
        return;
    (void)uv_timer_stop(&s->timer);
    if (status < 0) {
        rtsp_fail(s, "connect: %s", uv_strerror(status));
        return;
    }
    int err = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    if (err < 0) {
        rtsp_fail(s, "read: %s", uv_strerror(err));
        return;
    }
    s->state = RTSP_OPTIONS;
    rtsp_request_or_fail(s, "OPTIONS", s->url_str, "");
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct rtsp_source *s = req->data;
    s->gai_busy = false;
    if (s->closing || status == UV_EAI_CANCELED) {
        (void)uv_freeaddrinfo(res);
        rtsp_finish_if_done(s);
        return;
    }
    if (status < 0 || !res) {
        rtsp_fail(s, "cannot resolve %s: %s", s->url.host, uv_strerror(status));
        (void)uv_freeaddrinfo(res);
        return;
    }
    memset(&s->peer, 0, sizeof(s->peer));
    memcpy(&s->peer, res->ai_addr, res->ai_addrlen);
    (void)uv_freeaddrinfo(res);

    struct rtsp_conn *c = calloc(1, sizeof(*c));
    if (!c) {
        rtsp_fail(s, "out of memory");
        return;
    }
    c->src = s;
    (void)uv_tcp_init(s->loop, &c->tcp);
    s->open_handles++;
    s->conn = c;
    s->rlen = 0;
    (void)uv_tcp_nodelay(&c->tcp, 1);
    c->connect.data = c;
    s->state = RTSP_CONNECTING;
    rtsp_arm_deadline(s, RTSP_REPLY_TIMEOUT_MS);
    int err = uv_tcp_connect(&c->connect, &c->tcp, (const struct sockaddr *)&s->peer, on_connect);
    if (err < 0)
        rtsp_fail(s, "connect: %s", uv_strerror(err));
}

/* Credentials for the current URL: its own userinfo, else those configured for the path,
 * which only ever go to the configured host (a redirect elsewhere must not collect them). */
static void pick_credentials(struct rtsp_source *s)
{
    const struct rtsp_url *u = &s->url, *o = &s->origin;
    const char *user = "", *pass = "";
    if (u->user[0]) {
        user = u->user;
        pass = u->pass;
    } else if (strcmp(u->host, o->host) == 0 && u->port == o->port) {
        user = o->user[0] ? o->user : s->cfg_user;
        pass = o->user[0] ? o->pass : s->cfg_pass;
    }
    snprintf(s->user, sizeof(s->user), "%s", user);
    snprintf(s->pass, sizeof(s->pass), "%s", pass);
}

void rtsp_conn_start(struct rtsp_source *s)
{
    char port[8];
    if (rtsp_url_format(&s->url, s->url_str, sizeof(s->url_str)) < 0) {
        rtsp_fail(s, "URL too long");
        return;
    }
    pick_credentials(s);
    snprintf(port, sizeof(port), "%u", s->url.port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    s->state = RTSP_RESOLVING;
    s->gai.data = s;
    int err = uv_getaddrinfo(s->loop, &s->gai, on_resolved, s->url.host, port, &hints);
    if (err < 0) {
        rtsp_fail(s, "cannot resolve %s: %s", s->url.host, uv_strerror(err));
        return;
    }
    s->gai_busy = true;
}
