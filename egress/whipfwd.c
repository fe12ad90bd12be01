/* SPDX-License-Identifier: MIT */
/* whipfwd.c: WHIP requests from the worker's HTTP port to the path's ingest. A request is
 * checked here (a WHIP publisher is authorized by the path's publish_token, or comes from
 * loopback when none is set), then sent with one end of a fresh socketpair to the ingest's
 * handover socket; the HTTP request is deferred until the ingest's one reply on the other
 * end ("<status> <session>\n" and the SDP answer or a one-line reason), or a timeout. One
 * small heap object per forwarded request, freed when its handles have closed. */
#include "egress/whipfwd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/handover.h"
#include "common/log.h"
#include "egress/whep.h"
#include "egress/worker.h"

#define WHIPFWD_REPLY_MAX 16384

struct whipfwd_req {
    uv_poll_t poll;
    uv_timer_t timer;
    struct worker *w;
    int fd;
    int open; /* handles not yet closed */
    bool done;
    uint64_t token;
    char path[CONFIG_NAME_MAX];
    char remote[64];
    char method[8];
    uint8_t reply[WHIPFWD_REPLY_MAX];
};

static void whipfwd_closed(uv_handle_t *h)
{
    struct whipfwd_req *r = h->data;
    if (--r->open == 0) {
        close(r->fd);
        free(r);
    }
}

static void whipfwd_finish(struct whipfwd_req *r, const struct httpd_response *res)
{
    if (r->done)
        return;
    r->done = true;
    (void)httpd_complete(&r->w->http, r->token, res); /* gone meanwhile: nothing to do */
    uv_close((uv_handle_t *)&r->poll, whipfwd_closed);
    uv_close((uv_handle_t *)&r->timer, whipfwd_closed);
}

/* The ingest's reply: "<status> <session>\n<body>". 201 carries the SDP answer. */
static void whipfwd_reply(struct whipfwd_req *r, const uint8_t *p, size_t len)
{
    struct worker *w = r->w;
    struct httpd_response res = {0};
    int status = 0, off = 0;
    char session[VIEWER_SESSION_LEN + 8] = "";
    const uint8_t *nl = memchr(p, '\n', len);
    char head[96];
    size_t hl = nl ? (size_t)(nl - p) : 0;
    if (nl && hl < sizeof(head)) {
        memcpy(head, p, hl);
        head[hl] = '\0';
        if (sscanf(head, "%d %33s%n", &status, session, &off) < 2)
            status = 0;
    }
    if (status < 200 || status > 599) {
        log_warn("whip %s: %s from %s: the ingest's reply is garbled", r->path, r->method,
                 r->remote);
        httpd_set_text(&res, 503, "the path's ingest answered nothing usable\n");
        whipfwd_finish(r, &res);
        return;
    }
    const uint8_t *body = nl + 1;
    size_t body_len = len - hl - 1;
    char *copy = malloc(body_len + 1);
    if (!copy) {
        httpd_set_text(&res, 503, "out of memory\n");
        whipfwd_finish(r, &res);
        return;
    }
    memcpy(copy, body, body_len);
    copy[body_len] = '\0';
    res.owned = copy;
    res.status = status;
    res.body = copy;
    res.body_len = body_len;
    if (status == 201) {
        res.content_type = "application/sdp";
        httpd_add_header(&res, "Location", "%s/%s/whip/%s", w->cfg.public_url, r->path, session);
        httpd_add_header(&res, "ETag", "\"%s\"", session);
        log_info("whip %s: publisher %s: session %s", r->path, r->remote, session);
    } else {
        res.content_type = "text/plain; charset=utf-8";
        if (status == 503)
            httpd_add_header(&res, "Retry-After", "2");
        log_info("whip %s: %s from %s: %d %.*s", r->path, r->method, r->remote, status,
                 (int)strcspn(copy, "\n"), copy);
    }
    whipfwd_finish(r, &res);
    free(copy);
}

static void whipfwd_readable(uv_poll_t *h, int status, int events)
{
    struct whipfwd_req *r = h->data;
    (void)events;
    if (r->done)
        return;
    ssize_t n = status < 0 ? -1 : recv(r->fd, r->reply, sizeof(r->reply), MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return;
    if (n <= 0) {
        struct httpd_response res = {0};
        log_warn("whip %s: %s from %s: the ingest closed without an answer", r->path, r->method,
                 r->remote);
        httpd_add_header(&res, "Retry-After", "2");
        httpd_set_text(&res, 503, "the path's ingest did not answer\n");
        whipfwd_finish(r, &res);
        return;
    }
    whipfwd_reply(r, r->reply, (size_t)n);
}

static void whipfwd_timeout(uv_timer_t *t)
{
    struct whipfwd_req *r = t->data;
    struct httpd_response res = {0};
    log_warn("whip %s: %s from %s: no answer from the ingest within %u ms", r->path, r->method,
             r->remote, WHIPFWD_TIMEOUT_MS);
    httpd_add_header(&res, "Retry-After", "2");
    httpd_set_text(&res, 503, "the path's ingest did not answer in time\n");
    whipfwd_finish(r, &res);
}

/* Sends "WHIP1 <method> <remote> <arg>\n" + body to the path's ingest with a socketpair end
 * and defers res until its reply. */
static void whipfwd_send(struct worker *w, const struct httpd_request *req, const char *path,
                         const char *method, const char *arg, struct httpd_response *res)
{
    char head[256];
    int hl = snprintf(head, sizeof(head), "WHIP1 %s %s %s\n", method, req->remote, arg);
    size_t body_len = strcmp(method, "POST") == 0 ? req->body_len : 0;
    if (hl < 0 || (size_t)hl + body_len > HANDOVER_BYTES_MAX)
        return whep_refuse(res, req, path, 400, "offer larger than 16 KiB");
    uint8_t *msg = malloc((size_t)hl + body_len);
    struct whipfwd_req *r = calloc(1, sizeof(*r));
    int sv[2] = {-1, -1};
    if (!msg || !r || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        free(msg);
        free(r);
        return whep_refuse(res, req, path, 503, "cannot reach the path's ingest (resources)");
    }
    memcpy(msg, head, (size_t)hl);
    memcpy(msg + hl, req->body, body_len);
    int e = handover_send(w->cfg.shm_prefix, path, sv[1], msg, (size_t)hl + body_len);
    free(msg);
    close(sv[1]);
    if (e < 0) {
        close(sv[0]);
        free(r);
        httpd_add_header(res, "Retry-After", "2");
        return whep_refuse(res, req, path, 503,
                           e == -ECONNREFUSED ? "the path's ingest is not running"
                                              : "the path's ingest is busy");
    }
    r->w = w;
    r->fd = sv[0];
    r->token = req->token;
    snprintf(r->path, sizeof(r->path), "%s", path);
    snprintf(r->remote, sizeof(r->remote), "%s", req->remote);
    snprintf(r->method, sizeof(r->method), "%s", method);
    (void)uv_poll_init(w->loop, &r->poll, r->fd);
    (void)uv_timer_init(w->loop, &r->timer);
    r->poll.data = r->timer.data = r;
    r->open = 2;
    (void)uv_poll_start(&r->poll, UV_READABLE | UV_DISCONNECT, whipfwd_readable);
    (void)uv_timer_start(&r->timer, whipfwd_timeout, WHIPFWD_TIMEOUT_MS, 0);
    res->status = HTTPD_DEFERRED;
    res->defer_ms = WHIPFWD_TIMEOUT_MS + 500; /* our own 503 comes first */
}

static bool whipfwd_loopback(const char *ip)
{
    struct in6_addr a;
    if (inet_pton(AF_INET, ip, &a) == 1)
        return ((const uint8_t *)&a)[0] == 127;
    return inet_pton(AF_INET6, ip, &a) == 1 && IN6_IS_ADDR_LOOPBACK(&a);
}

/* RFC 9725 4.5: a bearer token; without publish_token, loopback publishers only. Returns 1
 * when the request may proceed, else has answered 401 or 403. */
static int whipfwd_authorized(const struct httpd_request *req, const struct config_path *cp,
                              struct httpd_response *res)
{
    if (!cp->publish_token[0]) {
        if (whipfwd_loopback(req->remote_ip))
            return 1;
        whep_refuse(res, req, cp->name, 403,
                    "no publish_token is set for this path: WHIP publishing from loopback only");
        return 0;
    }
    if (whep_bearer_ok(req, cp->publish_token))
        return 1;
    httpd_add_header(res, "WWW-Authenticate", "Bearer realm=\"ringcast\"");
    whep_refuse(res, req, cp->name, 401, "missing or wrong bearer token");
    return 0;
}

void whipfwd_post(struct worker *w, const struct httpd_request *req, const struct config_path *cp,
                  struct httpd_response *res)
{
    if (!config_path_is_publish(cp))
        return whep_refuse(res, req, cp->name, 405,
                           "this path does not take publishers (source is not publish)");
    if (!whipfwd_authorized(req, cp, res))
        return;
    if (!whep_is_sdp(req->content_type))
        return whep_refuse(res, req, cp->name, 415, "expected Content-Type: application/sdp");
    if (req->body_len == 0)
        return whep_refuse(res, req, cp->name, 400, "empty offer");
    whipfwd_send(w, req, cp->name, "POST", "-", res);
}

void whipfwd_delete(struct worker *w, const struct httpd_request *req, const struct config_path *cp,
                    const char *session, struct httpd_response *res)
{
    if (!config_path_is_publish(cp))
        return whep_refuse(res, req, cp->name, 404, "no such session");
    if (!whipfwd_authorized(req, cp, res))
        return;
    whipfwd_send(w, req, cp->name, "DELETE", session, res);
}
