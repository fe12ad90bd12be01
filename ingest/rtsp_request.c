/* SPDX-License-Identifier: MIT */
/* rtsp_request.c: the RTSP client's request/response exchange (RFC 2326 6, 7): requests with
 * CSeq, Authorization and Session, each awaited under a deadline; a response matched to it,
 * answered again with credentials after a 401, followed on a 3xx; the server's own requests
 * answered. The session's steps (rtsp_session.c) act on the successful responses. */
#include "ingest/rtsp_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"

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
int rtsp_request_send(struct rtsp_source *s, const char *method, const char *uri, const char *extra)
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
        rtsp_arm_deadline(s, RTSP_REPLY_TIMEOUT_MS);
    return rtsp_conn_write(s, (const uint8_t *)buf, (size_t)n);
}

void rtsp_request_or_fail(struct rtsp_source *s, const char *method, const char *uri,
                          const char *extra)
{
    int err = rtsp_request_send(s, method, uri, extra);
    if (err < 0)
        rtsp_fail(s, "cannot send %s: %s", method, uv_strerror(err));
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
    rtsp_request_or_fail(s, method, uri, extra);
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
    rtsp_session_reset(s);
    s->redirects = redirects;
    s->url = u;
    rtsp_conn_start(s);
}

void rtsp_request_response(struct rtsp_source *s, const struct rtsp_response *r)
{
    if (!s->pending[0] || (r->has_cseq && r->cseq != s->cseq)) {
        log_debug("rtsp path %s: ignoring an unexpected response (%d)", s->path, r->status);
        return;
    }
    char method[16];
    snprintf(method, sizeof(method), "%s", s->pending);
    s->pending[0] = '\0';
    if (s->state == RTSP_TEARDOWN) {
        rtsp_session_teardown_done(s); /* answered before our write callback: go on all the same */
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
        rtsp_session_lower_refused(s, "refused (%d %s)", r->status, r->reason);
        return;
    }
    if (r->status < 200 || r->status >= 300) {
        rtsp_fail(s, "%s: %d %s", method, r->status, r->reason);
        return;
    }
    rtsp_session_step(s, r);
}

/* Some servers send requests too (RFC 2326 10: OPTIONS as a ping). Answer politely. */
void rtsp_request_from_server(struct rtsp_source *s, const struct rtsp_request_in *q)
{
    char buf[128];
    bool ok = strcmp(q->method, "OPTIONS") == 0 || strcmp(q->method, "GET_PARAMETER") == 0;
    int n = snprintf(buf, sizeof(buf), "RTSP/1.0 %s\r\nCSeq: %u\r\n\r\n",
                     ok ? "200 OK" : "501 Not Implemented", q->cseq);
    if (q->has_cseq)
        (void)rtsp_conn_write(s, (const uint8_t *)buf, (size_t)n);
}
