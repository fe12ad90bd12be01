/* SPDX-License-Identifier: MIT */
/* httpd.c: request parsing (libre's http_msg_decode behind our own size limits) and the
 * libuv connection handling of the HTTP/1.1 server: SO_REUSEPORT listener,
 * keep-alive, pipelined requests answered in order, header and idle timeouts. */
#include "common/httpd.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <re.h>

#include "common/head.h"
#include "common/log.h"
#include "common/text.h"

/* ---- parsing ---- */

/* Copies a header value; a value that does not fit is an error, never silently cut. */
static int httpd_copy_pl(char *dst, size_t size, const struct pl *pl)
{
    if (pl->l >= size)
        return -EBADMSG;
    memcpy(dst, pl->p, pl->l);
    dst[pl->l] = '\0';
    return 0;
}

static int httpd_copy_hdr(const struct http_msg *msg, enum http_hdrid id, char *dst, size_t size)
{
    const struct http_hdr *h = http_msg_hdr(msg, id);
    dst[0] = '\0';
    if (!h)
        return 0;
    if (http_msg_hdr_count(msg, id) > 1)
        return -EBADMSG;
    return httpd_copy_pl(dst, size, &h->val);
}

/* libre's Content-Length is a wrapping 32-bit number (4294967297 reads as 1, "-5" as 0), so
 * the header is validated here: digits only, one header, at most HTTPD_MAX_BODY. */
static int httpd_content_length(const struct http_msg *msg, size_t *out)
{
    const struct http_hdr *h = http_msg_hdr(msg, HTTP_HDR_CONTENT_LENGTH);
    *out = 0;
    if (!h)
        return 0;
    if (http_msg_hdr_count(msg, HTTP_HDR_CONTENT_LENGTH) > 1 || h->val.l == 0)
        return -EBADMSG;
    size_t v = 0;
    for (size_t i = 0; i < h->val.l; i++) {
        char c = h->val.p[i];
        if (c < '0' || c > '9')
            return -EBADMSG;
        v = v * 10 + (size_t)(c - '0');
        if (v > HTTPD_MAX_BODY)
            return -EFBIG;
    }
    *out = v;
    return 0;
}

/* True if pl holds a control byte. A request target with one is malformed (400): a NUL
 * would cut the path short, "/demo\0..." reading as "/demo". */
static bool httpd_has_ctl(const struct pl *pl)
{
    for (size_t i = 0; i < pl->l; i++)
        if ((unsigned char)pl->p[i] < 0x20 || pl->p[i] == 0x7f)
            return true;
    return false;
}

/* True if a segment of path is "..", written plainly or percent-encoded, once or more times
 * ("%2e%2e", ".%2E", "%252e%252e"), between '/' or '\' (also encoded), or if path holds an
 * encoded NUL: such a request gets 404 whatever a router or a file lookup behind it would
 * make of it. */
static bool httpd_path_traverses(const char *path)
{
    char a[sizeof(((struct httpd_request *)0)->path)], b[sizeof(a)];
    snprintf(a, sizeof(a), "%s", path);
    size_t len = strlen(a);
    for (int round = 0; round < 4; round++) {
        for (const char *seg = a; *seg;) {
            size_t n = strcspn(seg, "/\\");
            if (n == 2 && seg[0] == '.' && seg[1] == '.')
                return true;
            seg += n + (seg[n] != '\0');
        }
        /* %00 would end the string and hide what follows it; no path of ours holds it. */
        int n = text_pct_decode_lenient(b, sizeof(b), a, len);
        if (n < 0)
            return true;
        if ((size_t)n == len)
            break;
        memcpy(a, b, (size_t)n + 1);
        len = (size_t)n;
    }
    return false;
}

static int httpd_fill_request(const struct http_msg *msg, struct httpd_request *req)
{
    memset(req, 0, sizeof(*req));
    int err = httpd_copy_pl(req->method, sizeof(req->method), &msg->met);
    if (!err)
        err = httpd_copy_pl(req->path, sizeof(req->path), &msg->path);
    if (!err)
        err = httpd_copy_hdr(msg, HTTP_HDR_CONTENT_TYPE, req->content_type,
                             sizeof(req->content_type));
    if (!err)
        err = httpd_copy_hdr(msg, HTTP_HDR_AUTHORIZATION, req->authorization,
                             sizeof(req->authorization));
    if (!err)
        err = httpd_copy_hdr(msg, HTTP_HDR_IF_MATCH, req->if_match, sizeof(req->if_match));
    if (err)
        return err;
    if (req->path[0] != '/' || httpd_has_ctl(&msg->path) || httpd_has_ctl(&msg->prm))
        return -EBADMSG;
    if (httpd_path_traverses(req->path))
        return -ENOENT;
    req->preflight = http_msg_xhdr(msg, "Access-Control-Request-Method") != NULL;
    int v11 = pl_strcmp(&msg->ver, "1.1") == 0;
    if (!v11 && pl_strcmp(&msg->ver, "1.0") != 0)
        return -EBADMSG;
    if (v11)
        req->keep_alive = !http_msg_hdr_has_value(msg, HTTP_HDR_CONNECTION, "close");
    else
        req->keep_alive = http_msg_hdr_has_value(msg, HTTP_HDR_CONNECTION, "keep-alive");
    return 0;
}

int httpd_parse_request(const uint8_t *p, size_t len, struct httpd_request *req)
{
    long hl = head_end(p, len, HTTPD_MAX_HEADER);
    if (hl <= 0)
        return (int)hl;
    size_t hdr_len = (size_t)hl;

    struct mbuf *mb = mbuf_alloc(hdr_len);
    if (!mb)
        return -ENOMEM;
    struct http_msg *msg = NULL;
    size_t body_len = 0;
    int err = mbuf_write_mem(mb, p, hdr_len) ? -ENOMEM : 0;
    if (!err) {
        mb->pos = 0;
        err = http_msg_decode(&msg, mb, true) ? -EBADMSG : 0;
    }
    /* Decoding stops at the first blank line: anything left means a malformed header block. */
    if (!err && mbuf_get_left(mb) != 0)
        err = -EBADMSG;
    if (!err && http_msg_hdr(msg, HTTP_HDR_TRANSFER_ENCODING))
        err = -ENOTSUP;
    if (!err)
        err = httpd_content_length(msg, &body_len);
    if (!err)
        err = httpd_fill_request(msg, req);
    mem_deref(msg);
    mem_deref(mb);
    if (err)
        return err;
    if (len - hdr_len < body_len)
        return 0;
    req->body = p + hdr_len;
    req->body_len = body_len;
    return (int)(hdr_len + body_len);
}

int httpd_error_status(int err)
{
    switch (err) {
    case -EMSGSIZE:
        return 431;
    case -EFBIG:
        return 413;
    case -ENOTSUP:
        return 501;
    case -ENOMEM:
        return 503;
    case -ENOENT:
        return 404;
    default:
        return 400;
    }
}

void httpd_add_header(struct httpd_response *r, const char *name, const char *fmt, ...)
{
    size_t room = sizeof(r->headers) - r->headers_len;
    int n = snprintf(r->headers + r->headers_len, room, "%s: ", name);
    if (n < 0 || (size_t)n >= room)
        goto overflow;
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(r->headers + r->headers_len + n, room - (size_t)n, fmt, ap);
    va_end(ap);
    if (m < 0 || (size_t)(n + m + 2) >= room)
        goto overflow;
    memcpy(r->headers + r->headers_len + n + m, "\r\n", 3);
    r->headers_len += (size_t)(n + m + 2);
    return;
overflow:
    r->headers[r->headers_len] = '\0';
}

void httpd_set_text(struct httpd_response *r, int status, const char *text)
{
    r->status = status;
    r->content_type = "text/plain; charset=utf-8";
    r->body = text;
    r->body_len = strlen(text);
}

/* ---- connections ---- */

struct httpd_conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_shutdown_t shutdown;
    struct httpd_server *server;
    struct httpd_conn *next, *prev;
    uint8_t *buf;
    size_t len, cap;
    int closing;
    int handles_open;
    uint64_t deferred; /* token of the request awaiting httpd_complete, 0 = none */
    int deferred_keep_alive;
    unsigned defer_ms; /* the deferred request's deadline */
    char remote[64];
    char remote_ip[48];
};

struct httpd_write {
    uv_write_t req;
    char data[];
};

static void httpd_conn_free_cb(uv_handle_t *h)
{
    struct httpd_conn *c = h->data;
    if (--c->handles_open == 0) {
        free(c->buf);
        free(c);
    }
}

static void httpd_conn_close(struct httpd_conn *c)
{
    if (c->closing)
        return;
    c->closing = 1;
    struct httpd_server *s = c->server;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->n_conns--;
    uv_close((uv_handle_t *)&c->tcp, httpd_conn_free_cb);
    uv_close((uv_handle_t *)&c->timer, httpd_conn_free_cb);
}

static void httpd_timeout_cb(uv_timer_t *t)
{
    struct httpd_conn *c = t->data;
    if (c->deferred) {
        struct httpd_response res = {0};
        log_info("http %s: no answer within %u ms for a deferred request", c->remote, c->defer_ms);
        httpd_set_text(&res, 503, "no answer from the worker owning the session\n");
        httpd_complete(c->server, c->deferred, &res);
        return;
    }
    log_debug("http %s: %s timeout, closing", c->remote, c->len ? "header" : "idle");
    httpd_conn_close(c);
}

static void httpd_shutdown_cb(uv_shutdown_t *req, int status)
{
    (void)status;
    httpd_conn_close(req->handle->data);
}

static void httpd_write_cb(uv_write_t *w, int status)
{
    (void)status; /* a failed write shows up as a read error and closes the connection */
    free(w);
}

static void httpd_send(struct httpd_conn *c, const struct httpd_response *r, int keep_alive)
{
    char head[sizeof(r->headers) + 1024];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %d %s\r\nServer: ringcast\r\nAccess-Control-Allow-Origin: *\r\n"
                     "Access-Control-Expose-Headers: Location, ETag, Link\r\n"
                     "Content-Length: %zu\r\n%s%s%s%s%s\r\n",
                     r->status, head_reason(r->status), r->body_len,
                     r->content_type ? "Content-Type: " : "",
                     r->content_type ? r->content_type : "", r->content_type ? "\r\n" : "",
                     keep_alive ? "" : "Connection: close\r\n", r->headers);
    if (n < 0 || (size_t)n >= sizeof(head))
        n = snprintf(head, sizeof(head),
                     "HTTP/1.1 500 Internal Server Error\r\n"
                     "Content-Length: 0\r\nConnection: close\r\n\r\n");
    size_t body_len = r->head ? 0 : r->body_len;
    struct httpd_write *w = malloc(sizeof(*w) + (size_t)n + body_len);
    if (!w) {
        httpd_conn_close(c);
        return;
    }
    memcpy(w->data, head, (size_t)n);
    if (body_len)
        memcpy(w->data + n, r->body, body_len);
    uv_buf_t b = uv_buf_init(w->data, (unsigned)((size_t)n + body_len));
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, httpd_write_cb) < 0) {
        free(w);
        httpd_conn_close(c);
    }
}

/* Answers every complete request in the buffer, in order. Returns 0 to keep reading, or -1
 * when the connection must close after what was sent. */
static int httpd_process(struct httpd_conn *c)
{
    size_t off = 0;
    int rc = 0;
    while (off < c->len) {
        struct httpd_request req;
        int n = httpd_parse_request(c->buf + off, c->len - off, &req);
        if (n == 0)
            break;
        struct httpd_response res = {.status = 500};
        if (n < 0) {
            int status = httpd_error_status(n);
            log_info("http %s: refused request: %d %s", c->remote, status, head_reason(status));
            httpd_set_text(&res, status, head_reason(status));
            httpd_send(c, &res, 0);
            rc = -1;
            break;
        }
        snprintf(req.remote, sizeof(req.remote), "%s", c->remote);
        snprintf(req.remote_ip, sizeof(req.remote_ip), "%s", c->remote_ip);
        req.token = ++c->server->next_token;
        if (strcmp(req.method, "HEAD") == 0) {
            res.head = 1;
            memcpy(req.method, "GET", 4);
        }
        c->server->handler(c->server->arg, &req, &res);
        off += (size_t)n;
        if (res.status == HTTPD_DEFERRED) {
            c->deferred = req.token;
            c->deferred_keep_alive = req.keep_alive;
            c->defer_ms = res.defer_ms ? res.defer_ms : HTTPD_DEFER_TIMEOUT;
            break;
        }
        httpd_send(c, &res, req.keep_alive);
        free(res.owned);
        if (!req.keep_alive) {
            rc = -1;
            break;
        }
    }
    if (rc == 0 && off) {
        memmove(c->buf, c->buf + off, c->len - off);
        c->len -= off;
    }
    return rc;
}

/* Closes once the queued response is written: uv_shutdown completes after it; the timer
 * bounds a peer that stops reading. */
static void httpd_finish(struct httpd_conn *c)
{
    uv_stream_t *st = (uv_stream_t *)&c->tcp;
    (void)uv_read_stop(st);
    if (uv_shutdown(&c->shutdown, st, httpd_shutdown_cb) < 0)
        httpd_conn_close(c);
    else
        (void)uv_timer_start(&c->timer, httpd_timeout_cb, 2000, 0);
}

/* Answers what is buffered, then closes (after a refusal or Connection: close), waits for a
 * deferred answer, or arms the header or idle timer. */
static void httpd_advance(struct httpd_conn *c, int was_idle)
{
    if (httpd_process(c) < 0)
        httpd_finish(c);
    else if (c->deferred)
        (void)uv_timer_start(&c->timer, httpd_timeout_cb, c->defer_ms, 0);
    else if (c->len == 0)
        (void)uv_timer_start(&c->timer, httpd_timeout_cb, HTTPD_IDLE_TIMEOUT, 0);
    else if (was_idle)
        (void)uv_timer_start(&c->timer, httpd_timeout_cb, HTTPD_HEADER_TIMEOUT, 0);
}

int httpd_complete(struct httpd_server *s, uint64_t token, const struct httpd_response *res)
{
    struct httpd_conn *c = s->conns;
    while (c && (token == 0 || c->deferred != token))
        c = c->next;
    if (!c)
        return -ENOENT;
    c->deferred = 0;
    httpd_send(c, res, c->deferred_keep_alive);
    if (c->closing)
        return 0;
    if (!c->deferred_keep_alive)
        httpd_finish(c);
    else
        httpd_advance(c, 1);
    return 0;
}

int httpd_is_deferred(const struct httpd_server *s, uint64_t token)
{
    for (const struct httpd_conn *c = s->conns; c; c = c->next)
        if (token && c->deferred == token && !c->closing)
            return 1;
    return 0;
}

static void httpd_alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    (void)hint;
    struct httpd_conn *c = h->data;
    size_t max = HTTPD_MAX_HEADER + HTTPD_MAX_BODY;
    if (c->cap - c->len < 4096 && c->cap < max) {
        size_t cap = c->cap ? c->cap * 2 : 8192;
        if (cap > max)
            cap = max;
        uint8_t *nb = realloc(c->buf, cap);
        if (nb) {
            c->buf = nb;
            c->cap = cap;
        }
    }
    *b = uv_buf_init((char *)c->buf + c->len, (unsigned)(c->cap - c->len));
}

static void httpd_read_cb(uv_stream_t *st, ssize_t nread, const uv_buf_t *b)
{
    (void)b;
    struct httpd_conn *c = st->data;
    if (nread < 0) {
        httpd_conn_close(c);
        return;
    }
    if (nread == 0)
        return;
    int was_idle = c->len == 0;
    c->len += (size_t)nread;
    if (!c->deferred) /* pipelined bytes wait until the deferred request is answered */
        httpd_advance(c, was_idle);
}

static void httpd_format_peer(uv_tcp_t *tcp, char *out, size_t size, char host[48])
{
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    int port = 0;
    snprintf(host, 48, "?");
    if (uv_tcp_getpeername(tcp, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET6) {
            (void)uv_ip6_name((struct sockaddr_in6 *)&ss, host, 48);
            port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
        } else {
            (void)uv_ip4_name((struct sockaddr_in *)&ss, host, 48);
            port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        }
    }
    snprintf(out, size, "%s:%d", host, port);
}

static void httpd_accept_cb(uv_stream_t *l, int status)
{
    struct httpd_server *s = l->data;
    if (status < 0)
        return;
    struct httpd_conn *c = calloc(1, sizeof(*c));
    if (!c)
        return;
    c->server = s;
    (void)uv_tcp_init(s->loop, &c->tcp);
    (void)uv_timer_init(s->loop, &c->timer);
    c->tcp.data = c->timer.data = c;
    c->handles_open = 2;
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->n_conns++;
    /* Over the cap the connection is still accepted (draining the backlog) but closed. */
    if (uv_accept(l, (uv_stream_t *)&c->tcp) < 0 || s->n_conns > HTTPD_MAX_CONNS) {
        httpd_conn_close(c);
        return;
    }
    httpd_format_peer(&c->tcp, c->remote, sizeof(c->remote), c->remote_ip);
    (void)uv_tcp_nodelay(&c->tcp, 1);
    (void)uv_timer_start(&c->timer, httpd_timeout_cb, HTTPD_IDLE_TIMEOUT, 0);
    if (uv_read_start((uv_stream_t *)&c->tcp, httpd_alloc_cb, httpd_read_cb) < 0)
        httpd_conn_close(c);
}

static void httpd_server_init(struct httpd_server *s, uv_loop_t *loop, httpd_handler_fn handler,
                              void *arg)
{
    memset(s, 0, sizeof(*s));
    s->loop = loop;
    s->handler = handler;
    s->arg = arg;
}

static int httpd_listen(struct httpd_server *s, uv_loop_t *loop, const char *host, uint16_t port,
                        httpd_handler_fn handler, void *arg, int reuseport)
{
    httpd_server_init(s, loop, handler, arg);
    struct sockaddr_storage ss;
    int err = uv_ip4_addr(host, port, (struct sockaddr_in *)&ss);
    if (err < 0)
        err = uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss);
    if (err < 0)
        return err;
    err = uv_tcp_init_ex(loop, &s->listener, ss.ss_family);
    if (err < 0)
        return err;
    s->listener.data = s;
    s->listening = 1;
    /* Every worker binds the same port; the kernel spreads new connections across them. */
    uv_os_fd_t fd;
    int one = 1;
    err = uv_fileno((uv_handle_t *)&s->listener, &fd);
    if (!err && reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
        err = -errno;
    if (!err)
        err = uv_tcp_bind(&s->listener, (struct sockaddr *)&ss, 0);
    if (!err)
        err = uv_listen((uv_stream_t *)&s->listener, 256, httpd_accept_cb);
    if (err < 0)
        httpd_server_stop(s);
    return err;
}

int httpd_server_start(struct httpd_server *s, uv_loop_t *loop, const char *host, uint16_t port,
                       httpd_handler_fn handler, void *arg)
{
    return httpd_listen(s, loop, host, port, handler, arg, 1);
}

int httpd_server_start_exclusive(struct httpd_server *s, uv_loop_t *loop, const char *host,
                                 uint16_t port, httpd_handler_fn handler, void *arg)
{
    return httpd_listen(s, loop, host, port, handler, arg, 0);
}

int httpd_server_open(struct httpd_server *s, uv_loop_t *loop, int fd, httpd_handler_fn handler,
                      void *arg)
{
    httpd_server_init(s, loop, handler, arg);
    int err = uv_tcp_init(loop, &s->listener);
    if (err < 0)
        return err;
    s->listener.data = s;
    s->listening = 1;
    err = uv_tcp_open(&s->listener, fd);
    if (!err) /* listen(2) again on a listening socket only sets the backlog */
        err = uv_listen((uv_stream_t *)&s->listener, 256, httpd_accept_cb);
    if (err < 0)
        httpd_server_stop(s);
    return err;
}

void httpd_server_stop(struct httpd_server *s)
{
    while (s->conns)
        httpd_conn_close(s->conns);
    if (s->listening) {
        uv_close((uv_handle_t *)&s->listener, NULL);
        s->listening = 0;
    }
}
