/* SPDX-License-Identifier: MIT */
/* lg_whep.c: the load generator's WHEP signalling (draft-ietf-wish-whep): one HTTP/1.1
 * request per TCP connection from a set-up slot: POST of the offer, DELETE of the
 * session at the end, sent where its Location points (behind a load balancer, the node). */
#include "tools/loadgen/lg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"

static void on_tcp_closed(uv_handle_t *h)
{
    struct lg_setup *s = h->data;
    s->tcp_open = 0;
}

static void tcp_close(struct lg_setup *s)
{
    if (s->tcp_open && !uv_is_closing((uv_handle_t *)&s->tcp))
        uv_close((uv_handle_t *)&s->tcp, on_tcp_closed);
}

void lg_setup_release(struct lg_setup *s)
{
    tcp_close(s);
    lg_dtls_free(&s->dtls);
    if (s->v)
        s->v->setup = NULL;
    s->v = NULL;
    s->busy = 0;
}

/* The request is over (answer handled, or failed): err 0 or -errno. */
static void request_done(struct lg_setup *s, int err, const char *what)
{
    struct lg *lg = s->lg;
    struct lg_viewer *v = s->v;
    tcp_close(s);
    if (s->kind == LG_REQ_DELETE) {
        if (err)
            log_debug("DELETE %s: %s: %s", v->location, what, uv_strerror(err));
        lg_setup_release(s);
        lg_delete_finished(lg);
        return;
    }
    if (err) {
        lg_viewer_close(v);
        v->state = LG_V_FAILED;
        lg_setup_finished(lg, v, err, what);
    }
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    struct lg_setup *s = h->data;
    (void)hint;
    size_t room = sizeof(s->resp) - s->resp_len;
    *buf = uv_buf_init((char *)s->resp + s->resp_len, (unsigned)room);
}

/* Where the session's DELETE goes: a path on the server the POST went to, or an absolute URL
 * (a node's public_url behind a balancer). 0 or -errno. */
static int whep_location(struct lg *lg, struct lg_viewer *v, const char *location)
{
    struct lg_http_url u;
    int err = lg_http_url_split(location, &u);
    if (err == 0 && u.host[0])
        err = lg_resolve(&u, &v->loc_addr, v->loc_host, sizeof(v->loc_host));
    if (err)
        return err;
    if (!u.host[0]) {
        v->loc_addr = lg->http_addr;
        snprintf(v->loc_host, sizeof(v->loc_host), "%s", lg->http_host);
    }
    snprintf(v->location, sizeof(v->location), "%s", u.path);
    return 0;
}

static void handle_response(struct lg_setup *s, int at_eof)
{
    struct lg_http_resp r;
    int pr = lg_http_parse_response(s->resp, s->resp_len, &r);
    if (pr == 0 && !at_eof)
        return;
    if (pr <= 0) {
        request_done(s, pr < 0 ? pr : -EPIPE, "bad HTTP response");
        return;
    }
    size_t body = s->resp_len - r.hdr_len;
    if (r.has_clen)
        body = r.clen;
    else if (!at_eof)
        return; /* body runs to EOF */
    if (s->kind == LG_REQ_DELETE) {
        request_done(s, r.status / 100 == 2 ? 0 : -EPROTO, "DELETE status");
        return;
    }
    struct lg_viewer *v = s->v;
    if (r.status != 201 && r.status != 200) {
        static char what[48];
        snprintf(what, sizeof(what), "POST answered HTTP %d", r.status);
        request_done(s, -EPROTO, what);
        return;
    }
    if (whep_location(s->lg, v, r.location) != 0) {
        log_warn("viewer %u: cannot DELETE at Location \"%s\" (http:// and an IPv4 host only); "
                 "its session times out on the server",
                 v->idx, r.location);
        v->location[0] = '\0';
    }
    tcp_close(s);
    int err = lg_viewer_answer(s->lg, v, s->resp + r.hdr_len, body);
    if (err)
        request_done(s, err, "SDP answer");
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    struct lg_setup *s = st->data;
    (void)buf;
    if (n == UV_EOF) {
        handle_response(s, 1);
        return;
    }
    if (n < 0) {
        request_done(s, (int)n, "HTTP read");
        return;
    }
    s->resp_len += (size_t)n;
    if (s->resp_len == sizeof(s->resp)) {
        request_done(s, -EMSGSIZE, "HTTP response too large");
        return;
    }
    handle_response(s, 0);
}

static void on_written(uv_write_t *w, int status)
{
    struct lg_setup *s = w->data;
    if (status < 0 && status != UV_ECANCELED)
        request_done(s, status, "HTTP write");
}

static void on_connect(uv_connect_t *c, int status)
{
    struct lg_setup *s = c->data;
    if (status < 0) {
        if (status != UV_ECANCELED)
            request_done(s, status, "HTTP connect");
        return;
    }
    uv_buf_t b = uv_buf_init(s->req, (unsigned)s->req_len);
    int err = uv_read_start((uv_stream_t *)&s->tcp, on_alloc, on_read);
    if (!err)
        err = uv_write(&s->wr, (uv_stream_t *)&s->tcp, &b, 1, on_written);
    if (err)
        request_done(s, err, "HTTP start");
}

static int request_start(struct lg *lg, struct lg_setup *s, const struct sockaddr_in *to)
{
    s->resp_len = 0;
    int err = uv_tcp_init(lg->loop, &s->tcp);
    if (err)
        return err;
    s->tcp.data = s;
    s->conn.data = s;
    s->wr.data = s;
    s->tcp_open = 1;
    (void)uv_tcp_nodelay(&s->tcp, 1);
    err = uv_tcp_connect(&s->conn, &s->tcp, (const struct sockaddr *)to, on_connect);
    if (err)
        tcp_close(s);
    return err;
}

static int auth_header(struct lg *lg, char *out, size_t n)
{
    return lg->opt.token ? snprintf(out, n, "Authorization: Bearer %s\r\n", lg->opt.token)
                         : snprintf(out, n, "%s", "");
}

/* The request path of viewer v: the URL's, or with --paths P, its first segment suffixed
 * with v's path number ("/cam/whep" -> "/cam7/whep"). */
static void viewer_path(const struct lg *lg, const struct lg_viewer *v, char *out, size_t n)
{
    const char *rest = strchr(lg->path + 1, '/');
    if (!lg->opt.paths || !rest) {
        snprintf(out, n, "%s", lg->path);
        return;
    }
    snprintf(out, n, "%.*s%u%s", (int)(rest - lg->path), lg->path, v->idx % lg->opt.paths, rest);
}

int lg_whep_post(struct lg *lg, struct lg_setup *s, struct lg_viewer *v)
{
    char path[300];
    viewer_path(lg, v, path, sizeof(path));
    char offer[4096], auth[320], ip[INET_ADDRSTRLEN];
    if (!inet_ntop(AF_INET, &v->laddr.sin_addr, ip, sizeof(ip)))
        return -errno;
    struct lg_offer_params prm = {.ice_ufrag = v->ufrag,
                                  .ice_pwd = v->pwd,
                                  .fingerprint = lg->dtls.fingerprint,
                                  .local_ip = ip,
                                  .local_port = lg->opt.tcp ? 9 : ntohs(v->laddr.sin_port),
                                  .session_id = lg_rand(lg) >> 2,
                                  .tcp = lg->opt.tcp};
    int olen = lg_sdp_offer(&prm, offer, sizeof(offer));
    if (olen < 0)
        return olen;
    auth_header(lg, auth, sizeof(auth));
    int n =
        snprintf(s->req, sizeof(s->req),
                 "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/sdp\r\n"
                 "Accept: application/sdp\r\n%sContent-Length: %d\r\nConnection: close\r\n\r\n%s",
                 path, lg->http_host, auth, olen, offer);
    if (n < 0 || (size_t)n >= sizeof(s->req))
        return -ENOSPC;
    s->req_len = (size_t)n;
    s->kind = LG_REQ_POST;
    return request_start(lg, s, &lg->http_addr);
}

int lg_whep_delete(struct lg *lg, struct lg_setup *s, struct lg_viewer *v)
{
    char auth[320];
    auth_header(lg, auth, sizeof(auth));
    int n = snprintf(s->req, sizeof(s->req),
                     "DELETE %s HTTP/1.1\r\nHost: %s\r\n%sContent-Length: 0\r\n"
                     "Connection: close\r\n\r\n",
                     v->location, v->loc_host, auth);
    if (n < 0 || (size_t)n >= sizeof(s->req))
        return -ENOSPC;
    s->req_len = (size_t)n;
    s->kind = LG_REQ_DELETE;
    s->v = v;
    return request_start(lg, s, &v->loc_addr);
}
