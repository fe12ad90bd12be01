/* SPDX-License-Identifier: MIT */
/* rtsp.c: the RTSP pull client's control half: resolving and connecting, the request
 * sequence OPTIONS, DESCRIBE, SETUP per track, PLAY (RFC 2326 10), authentication retries,
 * redirects, keep-alive, TEARDOWN, and the one place failures are logged and retried with
 * backoff. Media (RTP/RTCP) is rtsp_media.c's. */
#include "ingest/rtsp_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"

#define TEARDOWN_WAIT_MS 1000

static void connect_start(struct rtsp_source *s);
static void shutdown_all(struct rtsp_source *s);
static void teardown_done(struct rtsp_source *s);

static uint64_t now_ns(const struct rtsp_source *s)
{
    return uv_now(s->loop) * 1000000ull;
}

/* ---- handles ---- */

static void finish_if_done(struct rtsp_source *s)
{
    if (!s->closing || s->open_handles > 0 || s->gai_busy)
        return;
    void (*done)(void *) = s->done;
    void *arg = s->done_arg;
    for (unsigned i = 0; i < RING_MAX_TRACKS; i++)
        free(s->tracks[i].reorder);
    free(s->udp_buf);
    free(s->rbuf);
    free(s);
    if (done)
        done(arg);
}

void rtsp_handle_gone(struct rtsp_source *s)
{
    s->open_handles--;
    finish_if_done(s);
}

static void on_timer_closed(uv_handle_t *h)
{
    rtsp_handle_gone(h->data);
}

static void on_conn_closed(uv_handle_t *h)
{
    struct rtsp_conn *c = (struct rtsp_conn *)h;
    struct rtsp_source *s = c->src;
    free(c);
    rtsp_handle_gone(s);
}

void rtsp_close_handle(uv_handle_t *h, uv_close_cb cb)
{
    if (!uv_is_closing(h))
        uv_close(h, cb);
}

static void conn_close(struct rtsp_source *s)
{
    if (!s->conn)
        return;
    rtsp_close_handle((uv_handle_t *)&s->conn->tcp, on_conn_closed);
    s->conn = NULL;
    s->rlen = 0;
}

/* Forgets everything of the current session; the next attempt starts from the configured
 * URL again. */
static void session_reset(struct rtsp_source *s)
{
    rtsp_media_stop(s);
    conn_close(s);
    (void)uv_timer_stop(&s->tick);
    (void)uv_timer_stop(&s->timer);
    s->pending[0] = '\0';
    s->session[0] = '\0';
    s->session_timeout = 0;
    s->n_tracks = 0;
    s->setup_next = 0;
    s->use_get_parameter = false;
    memset(&s->auth, 0, sizeof(s->auth));
    s->state = RTSP_IDLE;
}

/* ---- failures and backoff ---- */

static void on_backoff_done(uv_timer_t *t)
{
    struct rtsp_source *s = t->data;
    s->url = s->origin;
    s->redirects = 0;
    rtsp_lower_attempt(&s->lower);
    connect_start(s);
}

void rtsp_fail(struct rtsp_source *s, const char *fmt, ...)
{
    char reason[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    if (s->closing) { /* leaving anyway: no retry, no alarm */
        shutdown_all(s);
        return;
    }
    /* Reasons may quote server text (a Location): credentials never reach the log. */
    char clean[512];
    rtsp_url_redact(reason, clean, sizeof(clean));
    if (s->state == RTSP_PLAYING && now_ns(s) - s->play_ns >= RTSP_HEALTHY_MS * 1000000ull)
        s->backoff_ms = RTSP_BACKOFF_MIN_MS;
    uint64_t delay = s->backoff_ms;
    log_warn("rtsp path %s: %s: %s; retrying in %.1f s", s->path, s->url_str, clean,
             (double)delay / 1000.0);
    s->backoff_ms =
        s->backoff_ms * 2 > RTSP_BACKOFF_MAX_MS ? RTSP_BACKOFF_MAX_MS : s->backoff_ms * 2;
    session_reset(s);
    (void)uv_timer_start(&s->timer, on_backoff_done, delay, 0);
}

static void on_deadline(uv_timer_t *t)
{
    struct rtsp_source *s = t->data;
    if (s->state == RTSP_TEARDOWN) {
        teardown_done(s);
        return;
    }
    if (s->state == RTSP_CONNECTING)
        rtsp_fail(s, "connect timed out after %u ms", RTSP_REPLY_TIMEOUT_MS);
    else
        rtsp_fail(s, "no answer to %s within %u ms", s->pending[0] ? s->pending : "request",
                  RTSP_REPLY_TIMEOUT_MS);
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
        teardown_done(s);
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

static void random_hex(char *out, size_t bytes)
{
    uint8_t r[16];
    if (bytes > sizeof(r))
        bytes = sizeof(r);
    if (uv_random(NULL, NULL, r, bytes, 0, NULL) < 0)
        memset(r, 0x5a, bytes); /* only a cnonce: predictable is weaker, not broken */
    for (size_t i = 0; i < bytes; i++)
        snprintf(out + 2 * i, 3, "%02x", r[i]);
}

/* Sends method on uri with the extra header lines (each ending CRLF). The request is kept
 * so that a 401 can be answered by sending it again with credentials. */
static int send_request(struct rtsp_source *s, const char *method, const char *uri,
                        const char *extra)
{
    char authz[1200] = "";
    if (s->auth.scheme != RTSP_AUTH_NONE) {
        char cnonce[33], value[1100];
        random_hex(cnonce, 16);
        int err =
            rtsp_auth_header(&s->auth, s->user, s->pass, method, uri, cnonce, value, sizeof(value));
        if (err < 0)
            return err;
        snprintf(authz, sizeof(authz), "Authorization: %s\r\n", value);
    }
    char session[160] = "";
    if (s->session[0])
        snprintf(session, sizeof(session), "Session: %s\r\n", s->session);
    char buf[4096];
    int n = snprintf(buf, sizeof(buf),
                     "%s %s RTSP/1.0\r\nCSeq: %u\r\nUser-Agent: ringcast\r\n%s%s%s\r\n", method,
                     uri, ++s->cseq, authz, session, extra);
    if (n < 0 || (size_t)n >= sizeof(buf))
        return -ENAMETOOLONG;
    snprintf(s->pending, sizeof(s->pending), "%s", method);
    snprintf(s->pending_uri, sizeof(s->pending_uri), "%s", uri);
    snprintf(s->pending_extra, sizeof(s->pending_extra), "%s", extra);
    s->pending_had_auth = s->auth.scheme != RTSP_AUTH_NONE;
    if (s->state != RTSP_PLAYING && s->state != RTSP_TEARDOWN)
        (void)uv_timer_start(&s->timer, on_deadline, RTSP_REPLY_TIMEOUT_MS, 0);
    return rtsp_conn_write(s, (const uint8_t *)buf, (size_t)n);
}

static void request_or_fail(struct rtsp_source *s, const char *method, const char *uri,
                            const char *extra)
{
    int err = send_request(s, method, uri, extra);
    if (err < 0)
        rtsp_fail(s, "cannot send %s: %s", method, uv_strerror(err));
}

/* TEARDOWN (RFC 2326 10.7) frees the server's session now rather than at its timeout;
 * teardown_done follows once it is written, answered, or after TEARDOWN_WAIT_MS. False when
 * there is no session to tear down or the request could not be sent. */
static bool teardown_start(struct rtsp_source *s)
{
    if (!s->conn || !s->session[0])
        return false;
    rtsp_media_stop(s);
    (void)uv_timer_stop(&s->tick);
    s->state = RTSP_TEARDOWN;
    if (send_request(s, "TEARDOWN", s->sdp.control, "") < 0)
        return false;
    (void)uv_timer_start(&s->timer, on_deadline, TEARDOWN_WAIT_MS, 0);
    return true;
}

/* The TEARDOWN is out: leave when closing, else connect again (the transport changed). */
static void teardown_done(struct rtsp_source *s)
{
    if (s->closing) {
        shutdown_all(s);
        return;
    }
    session_reset(s);
    connect_start(s);
}

/* ---- the request sequence ---- */

static void send_setup(struct rtsp_source *s)
{
    struct rtsp_track *t = &s->tracks[s->setup_next];
    char transport[160];
    if (rtsp_udp(s)) {
        int err = rtsp_media_udp_alloc(s);
        if (err < 0) {
            rtsp_fail(s, "no memory for UDP buffers");
            return;
        }
        err = rtsp_media_udp_open(s, s->setup_next);
        if (err < 0) {
            rtsp_fail(s, "no UDP port pair for track %u: %s", s->setup_next, uv_strerror(err));
            return;
        }
        snprintf(transport, sizeof(transport), "Transport: RTP/AVP;unicast;client_port=%u-%u\r\n",
                 t->client_port, t->client_port + 1u);
    } else {
        snprintf(transport, sizeof(transport),
                 "Transport: RTP/AVP/TCP;unicast;interleaved=%u-%u\r\n", 2 * s->setup_next,
                 2 * s->setup_next + 1);
    }
    s->state = RTSP_SETUP;
    request_or_fail(s, "SETUP", t->sdp.control, transport);
}

/* ---- choosing the lower transport (rtsp_lower.h decides) ---- */

/* s->lower.cur has just changed: logs why (once per change) and sets up again, on this
 * connection while the server holds no session, else after TEARDOWN on a new connection
 * (RFC 2326 has no portable way to change a session's transport). */
static void __attribute__((format(printf, 2, 3)))
lower_switched(struct rtsp_source *s, const char *fmt, ...)
{
    char why[640], clean[640];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    rtsp_url_redact(why, clean, sizeof(clean)); /* it may quote the server's Transport */
    log_info("rtsp path %s: %s: %s, using %s", s->path, s->url_str, clean,
             rtsp_lower_name(s->lower.cur));
    rtsp_media_stop(s);
    if (!s->session[0]) {
        s->setup_next = 0;
        send_setup(s);
        return;
    }
    if (!teardown_start(s))
        teardown_done(s);
}

/* SETUP refused the current transport (why: for the log): the other one next if the
 * configuration and this attempt allow, else the attempt fails. */
static void __attribute__((format(printf, 2, 3)))
lower_refused(struct rtsp_source *s, const char *fmt, ...)
{
    char why[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    const char *tried = rtsp_lower_name(s->lower.cur);
    if (rtsp_lower_next(&s->lower, RTSP_LOWER_REFUSED))
        lower_switched(s, "%s %s", tried, why);
    else
        rtsp_fail(s, "SETUP: %s %s", tried, why);
}

/* Whether any track has had RTP since PLAY (on_play restarts the statistics). */
static bool any_rtp(const struct rtsp_source *s)
{
    for (unsigned i = 0; i < s->n_tracks; i++) {
        if (s->tracks[i].ingest_idx >= 0 && s->tracks[i].rx.received > 0)
            return true;
    }
    return false;
}

static void on_describe(struct rtsp_source *s, const struct rtsp_response *r)
{
    if (r->body_len == 0) {
        rtsp_fail(s, "DESCRIBE: no SDP in the answer");
        return;
    }
    if (r->content_type[0] && strncasecmp(r->content_type, "application/sdp", 15) != 0) {
        rtsp_fail(s, "DESCRIBE: answer is %s, not application/sdp", r->content_type);
        return;
    }
    const char *base = r->content_base[0]       ? r->content_base
                       : r->content_location[0] ? r->content_location
                                                : s->url_str;
    int err = rtsp_sdp_parse(&s->sdp, r->body, r->body_len, base);
    if (err < 0) {
        rtsp_fail(s, "DESCRIBE: bad SDP (%s)", strerror(-err));
        return;
    }
    char offered[256] = "";
    s->n_tracks = 0;
    for (unsigned i = 0; i < s->sdp.n; i++) {
        const struct rtsp_sdp_track *st = &s->sdp.t[i];
        size_t ol = strlen(offered);
        snprintf(offered + ol, sizeof(offered) - ol, "%s%s %s", ol ? ", " : "", st->media,
                 st->encoding[0] ? st->encoding : "?");
        if (st->codec == RING_CODEC_NONE || s->n_tracks >= RING_MAX_TRACKS) {
            log_info("rtsp path %s: skipping %s track %s: %s", s->path, st->media,
                     st->encoding[0] ? st->encoding : "?",
                     st->codec == RING_CODEC_NONE ? "unsupported codec" : "too many tracks");
            continue;
        }
        struct rtsp_track *t = &s->tracks[s->n_tracks++];
        t->sdp = *st;
        t->ingest_idx = -1;
        t->ch[0] = t->ch[1] = -1;
    }
    if (s->n_tracks == 0) {
        rtsp_fail(s, "DESCRIBE: no supported track (offered: %s)", offered[0] ? offered : "none");
        return;
    }
    s->setup_next = 0;
    send_setup(s);
}

static void on_setup(struct rtsp_source *s, const struct rtsp_response *r)
{
    struct rtsp_track *t = &s->tracks[s->setup_next];
    if (!s->session[0]) {
        if (!r->session[0]) {
            rtsp_fail(s, "SETUP: no Session in the answer");
            return;
        }
        snprintf(s->session, sizeof(s->session), "%s", r->session);
        s->session_timeout = r->session_timeout ? r->session_timeout : 60;
    }
    struct rtsp_transport tr;
    rtsp_transport_parse(&tr, r->transport);
    if (rtsp_udp(s)) {
        if (tr.tcp) {
            lower_refused(s, "refused (answered %s)", r->transport);
            return;
        }
        t->has_server_rtcp = tr.server_port[1] > 0;
        if (t->has_server_rtcp) {
            t->server_rtcp = s->peer;
            struct sockaddr_in *a4 = (struct sockaddr_in *)&t->server_rtcp;
            struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&t->server_rtcp;
            if (a4->sin_family == AF_INET)
                a4->sin_port = htons((uint16_t)tr.server_port[1]);
            else
                a6->sin6_port = htons((uint16_t)tr.server_port[1]);
        }
    } else {
        if (r->transport[0] && !tr.tcp) {
            lower_refused(s, "refused (answered %s)", r->transport);
            return;
        }
        /* The server may pick other channels than asked (RFC 2326 12.39). */
        t->ch[0] = tr.interleaved[0] >= 0 ? tr.interleaved[0] : (int)(2 * s->setup_next);
        t->ch[1] = tr.interleaved[0] >= 0 ? tr.interleaved[1] : (int)(2 * s->setup_next + 1);
    }
    if (++s->setup_next < s->n_tracks) {
        send_setup(s);
        return;
    }
    s->state = RTSP_PLAY;
    request_or_fail(s, "PLAY", s->sdp.control, "Range: npt=0.000-\r\n");
}

static void on_tick(uv_timer_t *t);

static void on_play(struct rtsp_source *s)
{
    /* A new session: the pipeline forgets the previous one and the ring rebases time. */
    ingest_restart(s->ing);
    unsigned accepted = 0;
    char desc[256] = "";
    for (unsigned i = 0; i < s->n_tracks; i++) {
        struct rtsp_track *t = &s->tracks[i];
        int idx = rtsp_sdp_declare(s->ing, &t->sdp);
        if (idx < 0) {
            log_warn("rtsp path %s: track %u (%s): not accepted by the pipeline: %s", s->path, i,
                     t->sdp.encoding, strerror(-idx));
            continue;
        }
        t->ingest_idx = idx;
        rtsp_rx_init(&t->rx, t->sdp.clock_rate);
        if (t->reorder)
            rtsp_reorder_reset(t->reorder);
        if (rtsp_udp(s)) {
            int err = rtsp_media_udp_start(s, i);
            if (err < 0) {
                rtsp_fail(s, "cannot receive UDP for track %u: %s", i, uv_strerror(err));
                return;
            }
        }
        accepted++;
        size_t dl = strlen(desc);
        snprintf(desc + dl, sizeof(desc) - dl, "%s%s/%u pt %d", dl ? ", " : "", t->sdp.encoding,
                 t->sdp.clock_rate, t->sdp.pt);
    }
    if (accepted == 0) {
        rtsp_fail(s, "no track accepted by the pipeline");
        return;
    }
    s->state = RTSP_PLAYING;
    uint64_t now = now_ns(s);
    s->play_ns = s->last_rtp_ns = now;
    /* Keep-alive at half the session timeout (RFC 2326 12.37); the first receiver report
     * soon, then every 5 s (RFC 3550 6.2's minimum interval). */
    s->next_keepalive_ns = now + (uint64_t)s->session_timeout * 500000000ull;
    s->next_rr_ns = now + 1000000000ull;
    (void)uv_timer_stop(&s->timer);
    (void)uv_timer_start(&s->tick, on_tick, 1000, 1000);
    log_info("rtsp path %s: %s: playing %s over %s", s->path, s->url_str, desc,
             rtsp_lower_name(s->lower.cur));
}

static void on_unauthorized(struct rtsp_source *s, const struct rtsp_response *r,
                            const char *method)
{
    if (!s->user[0]) {
        rtsp_fail(s, "%s: 401 Unauthorized and no credentials configured", method);
        return;
    }
    struct rtsp_auth a;
    int err = rtsp_auth_challenge(
        &a, (const char *const[]){r->www_auth[0], r->www_auth[1], r->www_auth[2], r->www_auth[3]},
        r->n_auth);
    if (err < 0) {
        rtsp_fail(s, "%s: 401 Unauthorized with an unsupported challenge", method);
        return;
    }
    if (s->pending_had_auth && !(a.scheme == RTSP_AUTH_DIGEST && a.stale)) {
        rtsp_fail(s, "%s: 401 Unauthorized: credentials rejected", method);
        return;
    }
    s->auth = a;
    char uri[RTSP_URL_MAX], extra[sizeof(s->pending_extra)];
    snprintf(uri, sizeof(uri), "%s", s->pending_uri);
    snprintf(extra, sizeof(extra), "%s", s->pending_extra);
    request_or_fail(s, method, uri, extra);
}

static void on_redirect(struct rtsp_source *s, const struct rtsp_response *r, const char *method)
{
    struct rtsp_url u;
    if (!r->location[0]) {
        rtsp_fail(s, "%s: %d %s without a Location", method, r->status, r->reason);
        return;
    }
    if (++s->redirects > RTSP_MAX_REDIRECTS) {
        rtsp_fail(s, "%s: more than %d redirects", method, RTSP_MAX_REDIRECTS);
        return;
    }
    if (rtsp_url_parse(&u, r->location) < 0) {
        rtsp_fail(s, "%s: redirect to an unusable URL %s", method, r->location);
        return;
    }
    char loc[RTSP_URL_MAX];
    rtsp_url_redact(r->location, loc, sizeof(loc));
    log_info("rtsp path %s: %s: %s redirected (%d) to %s", s->path, s->url_str, method, r->status,
             loc);
    unsigned redirects = s->redirects;
    session_reset(s);
    s->redirects = redirects;
    s->url = u;
    connect_start(s);
}

static void on_response(struct rtsp_source *s, const struct rtsp_response *r)
{
    if (!s->pending[0] || (r->has_cseq && r->cseq != s->cseq)) {
        log_debug("rtsp path %s: ignoring an unexpected response (%d)", s->path, r->status);
        return;
    }
    char method[16];
    snprintf(method, sizeof(method), "%s", s->pending);
    s->pending[0] = '\0';
    if (s->state == RTSP_TEARDOWN) {
        teardown_done(s); /* answered before our write callback: go on all the same */
        return;
    }
    if (s->state == RTSP_PLAYING) {
        /* A keep-alive's answer. Only a lost session matters; some servers reject
         * GET_PARAMETER without a body, which changes nothing. */
        if (r->status == 454)
            rtsp_fail(s, "%s: 454 Session Not Found", method);
        return;
    }
    (void)uv_timer_stop(&s->timer);
    if (r->status == 401) {
        on_unauthorized(s, r, method);
        return;
    }
    if (r->status >= 300 && r->status < 400) {
        on_redirect(s, r, method);
        return;
    }
    if (r->status >= 400 && s->state == RTSP_SETUP) {
        lower_refused(s, "refused (%d %s)", r->status, r->reason);
        return;
    }
    if (r->status < 200 || r->status >= 300) {
        rtsp_fail(s, "%s: %d %s", method, r->status, r->reason);
        return;
    }
    switch (s->state) {
    case RTSP_OPTIONS:
        s->use_get_parameter = rtsp_list_has(r->publics, "GET_PARAMETER");
        s->state = RTSP_DESCRIBE;
        request_or_fail(s, "DESCRIBE", s->url_str, "Accept: application/sdp\r\n");
        break;
    case RTSP_DESCRIBE:
        on_describe(s, r);
        break;
    case RTSP_SETUP:
        on_setup(s, r);
        break;
    case RTSP_PLAY:
        on_play(s);
        break;
    default:
        break;
    }
}

/* Some servers send requests too (RFC 2326 10: OPTIONS as a ping). Answer politely. */
static void on_server_request(struct rtsp_source *s, const struct rtsp_request_in *q)
{
    char buf[128];
    bool ok = strcmp(q->method, "OPTIONS") == 0 || strcmp(q->method, "GET_PARAMETER") == 0;
    int n = snprintf(buf, sizeof(buf), "RTSP/1.0 %s\r\nCSeq: %u\r\n\r\n",
                     ok ? "200 OK" : "501 Not Implemented", q->cseq);
    if (q->has_cseq)
        (void)rtsp_conn_write(s, (const uint8_t *)buf, (size_t)n);
}

/* ---- connection ---- */

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

static void on_read(uv_stream_t *h, ssize_t nread, const uv_buf_t *buf)
{
    struct rtsp_conn *c = (struct rtsp_conn *)h;
    struct rtsp_source *s = c->src;
    (void)buf;
    if (nread < 0) {
        if (s->state == RTSP_TEARDOWN)
            teardown_done(s); /* the server may close as it answers (RFC 2326 10.7) */
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
            on_response(s, &it->resp);
        else if (it->kind == RTSP_ITEM_REQUEST)
            on_server_request(s, &it->req);
        else if (s->state == RTSP_PLAYING)
            rtsp_media_interleaved(s, it->channel, it->data, it->data_len);
        if (s->conn != c)
            return; /* failed, redirected or closing: the buffer is gone */
    }
    if (off > 0) {
        memmove(s->rbuf, s->rbuf + off, s->rlen - off);
        s->rlen -= off;
    }
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
    request_or_fail(s, "OPTIONS", s->url_str, "");
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct rtsp_source *s = req->data;
    s->gai_busy = false;
    if (s->closing || status == UV_EAI_CANCELED) {
        (void)uv_freeaddrinfo(res);
        finish_if_done(s);
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
    (void)uv_timer_start(&s->timer, on_deadline, RTSP_REPLY_TIMEOUT_MS, 0);
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

static void connect_start(struct rtsp_source *s)
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

/* ---- playing ---- */

static void on_tick(uv_timer_t *t)
{
    struct rtsp_source *s = t->data;
    uint64_t now = now_ns(s);
    if (rtsp_udp(s) && !any_rtp(s) && now - s->play_ns >= RTSP_UDP_PROBE_MS * 1000000ull &&
        rtsp_lower_next(&s->lower, RTSP_LOWER_NO_RTP)) {
        lower_switched(s, "UDP delivered no RTP within %u s", RTSP_UDP_PROBE_MS / 1000);
        return;
    }
    if (now - s->last_rtp_ns >= RTSP_RTP_TIMEOUT_MS * 1000000ull) {
        rtsp_fail(s, "no RTP for %u s", RTSP_RTP_TIMEOUT_MS / 1000);
        return;
    }
    if (now - s->play_ns >= RTSP_HEALTHY_MS * 1000000ull)
        s->backoff_ms = RTSP_BACKOFF_MIN_MS;
    /* GET_PARAMETER when the server lists it, else OPTIONS, which every server answers. */
    if (now >= s->next_keepalive_ns) {
        s->next_keepalive_ns = now + (uint64_t)s->session_timeout * 500000000ull;
        const char *m = s->use_get_parameter ? "GET_PARAMETER" : "OPTIONS";
        request_or_fail(s, m, s->sdp.control, "");
        if (s->state != RTSP_PLAYING)
            return;
    }
    if (now >= s->next_rr_ns) {
        s->next_rr_ns = now + 5000000000ull;
        rtsp_media_send_reports(s, now);
    }
}

/* ---- lifecycle ---- */

static void shutdown_all(struct rtsp_source *s)
{
    session_reset(s);
    rtsp_close_handle((uv_handle_t *)&s->timer, on_timer_closed);
    rtsp_close_handle((uv_handle_t *)&s->tick, on_timer_closed);
    rtsp_close_handle((uv_handle_t *)&s->reorder_timer, on_timer_closed);
    if (s->gai_busy)
        (void)uv_cancel((uv_req_t *)&s->gai);
}

static int rtsp_start(struct source *base)
{
    struct rtsp_source *s = (struct rtsp_source *)base;
    s->backoff_ms = RTSP_BACKOFF_MIN_MS;
    connect_start(s);
    return 0;
}

static void rtsp_close(struct source *base, void (*done)(void *arg), void *arg)
{
    struct rtsp_source *s = (struct rtsp_source *)base;
    s->closing = true;
    s->done = done;
    s->done_arg = arg;
    if (!teardown_start(s))
        shutdown_all(s);
}

static const struct source_ops rtsp_ops = {
    .kind = "rtsp",
    .start = rtsp_start,
    .close = rtsp_close,
};

int rtsp_source_create(struct source **out, uv_loop_t *loop, struct ingest *ing,
                       const struct config_path *path)
{
    struct rtsp_url u;
    if (rtsp_url_parse(&u, path->source) < 0)
        return -EINVAL;
    struct rtsp_source *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->base.ops = &rtsp_ops;
    s->loop = loop;
    s->ing = ing;
    snprintf(s->path, sizeof(s->path), "%s", path->name);
    rtsp_lower_init(&s->lower, path->transport);
    snprintf(s->cfg_user, sizeof(s->cfg_user), "%s", path->username);
    snprintf(s->cfg_pass, sizeof(s->cfg_pass), "%s", path->password);
    s->origin = s->url = u;
    for (unsigned i = 0; i < RING_MAX_TRACKS; i++)
        s->tracks[i].src = s;
    rtsp_url_format(&u, s->url_str, sizeof(s->url_str));
    s->rbuf = malloc(RTSP_RBUF_SIZE);
    if (!s->rbuf) {
        free(s);
        return -ENOMEM;
    }
    if (uv_random(NULL, NULL, &s->own_ssrc, sizeof(s->own_ssrc), 0, NULL) < 0)
        s->own_ssrc = (uint32_t)(uintptr_t)s;
    (void)uv_timer_init(loop, &s->timer);
    (void)uv_timer_init(loop, &s->tick);
    (void)uv_timer_init(loop, &s->reorder_timer);
    s->timer.data = s->tick.data = s->reorder_timer.data = s;
    s->open_handles = 3;
    *out = &s->base;
    return 0;
}
