/* SPDX-License-Identifier: MIT */
/* rtspd.c: the RTSP server's sessions (RFC 2326) for readers: the listener, a fixed table of
 * connections, the methods (OPTIONS, DESCRIBE, SETUP, PLAY, GET_PARAMETER, TEARDOWN), read
 * authorization by the path's read_token, and the limits that keep a hostile client to its own
 * connection. Media goes out through the send path as for a WHEP viewer, unprotected, framed
 * into the connection's queue (our responses too, which must never split a frame), or over
 * UDP (rtspd_udp.c). */
#include "egress/rtspd.h"

#include <errno.h>
#include <inttypes.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/handover.h"
#include "common/head.h"
#include "common/log.h"
#include "egress/rtspd_udp.h"
#include "egress/worker.h"
#include "rtsp/auth.h"
#include "rtsp/describe.h"

#define RTSPD_BACKLOG 256
#define RTSPD_READS   4 /* reads per connection per wakeup */
#define RTSPD_PLAY_NS ((uint64_t)RTSPD_PLAY_MS * 1000000)
#define RTSPD_PUBLIC                                                                               \
    "Public: OPTIONS, DESCRIBE, ANNOUNCE, SETUP, PLAY, RECORD, GET_PARAMETER, TEARDOWN\r\n"
#define RTSPD_REALM "ringcast"

/* Ends c's session, if any: its reader stops. */
static void rtspd_session_end(struct worker *w, struct rtspd_conn *c)
{
    if (c->playing)
        media_viewer_stop(w->media, &c->v);
    c->playing = 0;
    c->lower = RTSPD_LOWER_NONE;
    c->session[0] = '\0';
    memset(c->tracks, 0, sizeof(c->tracks));
}

/* Closes c; counted in rtsp_refused and logged at info when only a broken or hostile client
 * causes it (why), else at debug. */
static void rtspd_close(struct worker *w, struct rtspd_conn *c, const char *why, bool refused)
{
    if (c->base.state != CONNTAB_OPEN)
        return;
    if (refused || !c->playing) {
        conntab_log_close(&c->base, why, refused);
    } else {
        char peer[64];
        viewer_format_addr(&c->base.peer.sa, peer, sizeof(peer));
        /* Over UDP only the client's receiver reports tell what it lost on the way. */
        int64_t lost = 0;
        uint32_t rtt = 0;
        for (unsigned t = 0; t < MEDIA_MAX_TRACKS; t++) {
            lost += c->v.rec.tracks[t].rr_cum_lost;
            rtt = c->v.rec.tracks[t].rtt_us > rtt ? c->v.rec.tracks[t].rtt_us : rtt;
        }
        log_info("rtsp %s: session %s of %s ended: %s (%" PRIu64 " packets dropped; the client "
                 "reported %" PRId64 " lost, RTT %u us)",
                 c->path, c->session, peer, why, c->v.rec.send_drops, lost, rtt);
    }
    rtspd_session_end(w, c);
    conntab_close(&c->base);
}

/* ---- responses ---- */

/* Queues a response behind any media already queued, and writes. */
static void rtspd_respond(struct worker *w, struct rtspd_conn *c, int status,
                          const struct rtsp_request *q, const char *headers, const char *body,
                          size_t body_len)
{
    char out[RTSP_SDP_MAX + 2048];
    int n = rtsp_response_write(out, sizeof(out), status, q, headers, body, body_len);
    if (n < 0 || tcpq_push_raw(&c->base.q, (const uint8_t *)out, (size_t)n) < 0) {
        ctl_count(&w->counters->send_drops, 1);
        return;
    }
    if (tcpq_write(&c->base.q) != 0)
        conntab_watch(&c->base, true);
}

/* The session header of c's answers: "Session: ID;timeout=60". */
static void rtspd_session_hdr(const struct rtspd_conn *c, char *out, size_t len)
{
    snprintf(out, len, "Session: %s;timeout=%u\r\n", c->session, RTSPD_TIMEOUT_S);
}

/* ---- authorization ---- */

static bool rtspd_token_equal(const char *got, const char *want)
{
    size_t gl = strlen(got), wl = strlen(want);
    return gl == wl && CRYPTO_memcmp(got, want, wl) == 0;
}

/* A request for path may proceed: it has no read_token, or the request carries it (Basic
 * password, any user name; or ?token= in the URI), or an earlier request on this connection
 * did (a client resolves SETUP's URI against Content-Base, which has no query). Otherwise
 * answers 401 and returns false. */
static bool rtspd_authorize(struct worker *w, struct rtspd_conn *c, const struct rtsp_request *q,
                            const struct rtsp_target *t, const struct config_path *cp)
{
    char pass[256];
    if (!cp->read_token[0] || !strcmp(c->authorized, cp->name) ||
        (t->token[0] && rtspd_token_equal(t->token, cp->read_token)) ||
        (rtsp_basic_password(q->authorization, pass, sizeof(pass)) == 0 &&
         rtspd_token_equal(pass, cp->read_token))) {
        snprintf(c->authorized, sizeof(c->authorized), "%s", cp->name);
        return true;
    }
    OPENSSL_cleanse(pass, sizeof(pass));
    rtspd_respond(w, c, 401, q, "WWW-Authenticate: Basic realm=\"ringcast\"\r\n", NULL, 0);
    return false;
}

/* The configured path q names, authorized; else answers 400, 404 or 401 and returns NULL. */
static const struct config_path *rtspd_path(struct worker *w, struct rtspd_conn *c,
                                            const struct rtsp_request *q, struct rtsp_target *t)
{
    if (rtsp_target_parse(t, q->uri) < 0) {
        rtspd_respond(w, c, 400, q, "", NULL, 0);
        return NULL;
    }
    const struct config_path *cp = config_find_path(&w->cfg, t->path);
    if (!cp) {
        rtspd_respond(w, c, 404, q, "", NULL, 0);
        return NULL;
    }
    return rtspd_authorize(w, c, q, t, cp) ? cp : NULL;
}

/* ---- methods ---- */

static void rtspd_describe(struct worker *w, struct rtspd_conn *c, const struct rtsp_request *q)
{
    struct rtsp_target t;
    const struct config_path *cp = rtspd_path(w, c, q, &t);
    if (!cp)
        return;
    static struct media_track_info info[MEDIA_MAX_TRACKS]; /* 5 KB: one request at a time */
    int n = media_path_tracks(w->media, cp->name, info);
    if (n < 0) { /* no ingest running, or no track declared yet (no publisher so far) */
        rtspd_respond(w, c, config_path_is_publish(cp) ? 503 : 404, q, "", NULL, 0);
        return;
    }
    struct rtsp_sdp_track st[MEDIA_MAX_TRACKS];
    for (int i = 0; i < n; i++)
        st[i] = (struct rtsp_sdp_track){info[i].index,    info[i].codec,  info[i].clock_rate,
                                        info[i].channels, info[i].params, info[i].params_len};
    /* o= names the address the client reached us at. */
    union viewer_addr local;
    socklen_t ll = sizeof(local);
    char ip[INET6_ADDRSTRLEN] = "0.0.0.0";
    if (getsockname(c->base.fd, &local.sa, &ll) == 0 && viewer_addr_unmap(&local) == 0)
        (void)inet_ntop(local.sa.sa_family,
                        local.sa.sa_family == AF_INET ? (void *)&local.in.sin_addr
                                                      : (void *)&local.in6.sin6_addr,
                        ip, sizeof(ip));
    char sdp[RTSP_SDP_MAX];
    uint64_t sid;
    if (getrandom(&sid, sizeof(sid), 0) != sizeof(sid))
        sid = ctl_now_ns();
    int len = rtsp_sdp_build(sdp, sizeof(sdp), cp->name, ip, sid >> 1, st, (unsigned)n);
    if (len < 0) {
        log_warn("rtsp %s: no SDP for its tracks: %s", cp->name, strerror(-len));
        rtspd_respond(w, c, 500, q, "", NULL, 0);
        return;
    }
    /* Content-Base: the aggregate URI with a '/', so that a=control:trackID=N resolves under
     * it (without the query: the connection is authorized already). */
    char hdr[RTSP_URL_MAX + 96];
    size_t ul = strcspn(q->uri, "?");
    while (ul > 0 && q->uri[ul - 1] == '/')
        ul--;
    snprintf(hdr, sizeof(hdr), "Content-Base: %.*s/\r\nContent-Type: application/sdp\r\n", (int)ul,
             q->uri);
    rtspd_respond(w, c, 200, q, hdr, sdp, (size_t)len);
}

/* True if q names c's session (or c has none and q names none); else answers 454. */
static bool rtspd_session_match(struct worker *w, struct rtspd_conn *c,
                                const struct rtsp_request *q)
{
    if (!strcmp(q->session, c->session))
        return true;
    rtspd_respond(w, c, 454, q, "", NULL, 0);
    return false;
}

static void rtspd_setup(struct worker *w, struct rtspd_conn *c, const struct rtsp_request *q)
{
    struct rtsp_target t;
    const struct config_path *cp = rtspd_path(w, c, q, &t);
    if (!cp || (q->session[0] && !rtspd_session_match(w, c, q)))
        return;
    if (c->playing || (c->session[0] && strcmp(c->path, cp->name))) {
        rtspd_respond(w, c, 455, q, "", NULL, 0); /* one path per session, set up before PLAY */
        return;
    }
    static struct media_track_info info[MEDIA_MAX_TRACKS];
    int n = media_path_tracks(w->media, cp->name, info), k = -1;
    for (int i = 0; i < n; i++)
        if (info[i].index == t.track)
            k = i;
    if (k < 0) {
        rtspd_respond(w, c,
                      n < 0 && config_path_is_publish(cp) ? 503
                      : t.track < 0                       ? 459
                                                          : 404,
                      q, "", NULL, 0);
        return;
    }
    struct rtsp_transport tr;
    rtsp_transport_parse(&tr, q->transport);
    uint8_t lower = tr.tcp ? RTSPD_LOWER_TCP : RTSPD_LOWER_UDP;
    if (!tr.rtp_avp || tr.multicast || tr.record || (c->lower && c->lower != lower)) {
        /* One lower transport per session; a client offered only multicast retries unicast. */
        rtspd_respond(w, c, 461, q, "", NULL, 0);
        return;
    }
    if (lower == RTSPD_LOWER_UDP) {
        /* Channels 2N, 2N+1 name track N's RTP and RTCP destinations (struct media_udp). */
        int rc = rtspd_udp_dest(w, c, (unsigned)t.track, tr.client_port);
        if (rc < 0) {
            rtspd_respond(w, c, rc == -EINVAL ? 400 : 461, q, "", NULL, 0);
            return;
        }
        tr.interleaved[0] = 2 * t.track;
        tr.server_port[0] = w->rtsp.udp_port;
        tr.server_port[1] = w->rtsp.udp_port + 1;
    } else if (tr.interleaved[0] < 0 || tr.interleaved[0] > 254) {
        tr.interleaved[0] = 2 * t.track;
    }
    tr.interleaved[1] = tr.interleaved[0] + 1; /* RTCP: the next channel, whatever it asked */
    if (!c->session[0]) {
        uint64_t id;
        if (getrandom(&id, sizeof(id), 0) != sizeof(id))
            id = ctl_now_ns() ^ (uint64_t)conntab_index(&w->rtsp.tab, &c->base) << 48;
        snprintf(c->session, sizeof(c->session), "%016" PRIx64, id);
        snprintf(c->path, sizeof(c->path), "%s", cp->name);
        media_viewer_init(&c->v);
        c->lower = lower;
    }
    struct rtsp_sdp_track st = {.index = info[k].index,
                                .codec = info[k].codec,
                                .clock_rate = info[k].clock_rate,
                                .channels = info[k].channels};
    struct media_track_params *p = &c->tracks[t.track];
    *p = (struct media_track_params){
        .flags = MEDIA_TRACK_SEND, .pt = rtsp_sdp_pt(&st), .channel = (uint8_t)tr.interleaved[0]};
    tr.has_ssrc = true;
    tr.ssrc = c->v.rec.tracks[t.track].ssrc;
    char hdr[768], trs[600];
    rtspd_session_hdr(c, hdr, sizeof(hdr));
    size_t hl = strlen(hdr);
    if (rtsp_transport_format(&tr, trs, sizeof(trs)) > 0)
        snprintf(hdr + hl, sizeof(hdr) - hl, "Transport: %s\r\n", trs);
    rtspd_respond(w, c, 200, q, hdr, NULL, 0);
}

static void rtspd_play(struct worker *w, struct rtspd_conn *c, const struct rtsp_request *q)
{
    if (!rtspd_session_match(w, c, q))
        return;
    if (!c->session[0]) {
        rtspd_respond(w, c, 455, q, "", NULL, 0); /* PLAY before SETUP */
        return;
    }
    char hdr[128];
    rtspd_session_hdr(c, hdr, sizeof(hdr));
    if (c->playing) {
        rtspd_respond(w, c, 200, q, hdr, NULL, 0);
        return;
    }
    struct media_viewer_params prm = {
        .path = c->path,
        .remote = &c->base.peer.sa,
        .remote_len = viewer_addr_len(&c->base.peer),
        .tcp = c->lower == RTSPD_LOWER_UDP ? NULL : &c->base.q,
        .udp = c->lower == RTSPD_LOWER_UDP ? &c->udp : NULL,
        .local_addr = c->lower == RTSPD_LOWER_UDP ? rtspd_udp_source(w, c) : 0,
    };
    memcpy(prm.tracks, c->tracks, sizeof(prm.tracks));
    /* The answer goes into the queue first: media follows it. */
    strncat(hdr, "Range: npt=0.000-\r\n", sizeof(hdr) - strlen(hdr) - 1);
    int rc = media_viewer_start(w->media, &c->v, &prm);
    if (rc < 0) {
        char peer[64];
        viewer_format_addr(&c->base.peer.sa, peer, sizeof(peer));
        log_warn("rtsp %s: cannot serve %s: %s", c->path, peer, strerror(-rc));
        rtspd_respond(w, c, rc == -ENOENT ? 404 : 503, q, "", NULL, 0);
        return;
    }
    rtspd_respond(w, c, 200, q, hdr, NULL, 0);
    c->playing = 1;
    ctl_count(&w->counters->sessions_total, 1);
    char peer[64];
    viewer_format_addr(&c->base.peer.sa, peer, sizeof(peer));
    log_info("rtsp %s: session %s of %s plays over %s (viewers %u)", c->path, c->session, peer,
             c->lower == RTSPD_LOWER_UDP ? "UDP" : "TCP", media_worker_viewers(w->media));
}

/* ---- publishers ---- */

static bool rtspd_loopback(const union viewer_addr *a)
{
    if (a->sa.sa_family == AF_INET)
        return (ntohl(a->in.sin_addr.s_addr) >> 24) == 127;
    return a->sa.sa_family == AF_INET6 && IN6_IS_ADDR_LOOPBACK(&a->in6.sin6_addr);
}

/* A publisher may proceed: the path's publish_user/publish_password are proven (Basic, or
 * Digest answering this connection's nonce), or none is set and it connects from loopback.
 * Otherwise answers 401 with the challenges, or 403, and returns false. */
static bool rtspd_publisher_ok(struct worker *w, struct rtspd_conn *c, const struct rtsp_request *q,
                               const struct config_path *cp, const char *peer)
{
    if (!cp->publish_user[0] && !cp->publish_password[0]) {
        if (rtspd_loopback(&c->base.peer))
            return true;
        log_info("rtsp %s: publisher %s refused: no publish_user set, loopback only", cp->name,
                 peer);
        rtspd_respond(w, c, 403, q, "", NULL, 0);
        return false;
    }
    if (!c->nonce[0]) {
        uint8_t r[16];
        if (getrandom(r, sizeof(r), 0) != sizeof(r)) {
            rtspd_respond(w, c, 503, q, "", NULL, 0);
            return false;
        }
        for (unsigned i = 0; i < sizeof(r); i++)
            snprintf(c->nonce + 2 * i, 3, "%02x", r[i]);
    }
    int rc = rtsp_auth_check(q->authorization, q->method, RTSPD_REALM, c->nonce, cp->publish_user,
                             cp->publish_password);
    if (rc == 0)
        return true;
    char hdr[256];
    if (rc != -ENOENT) {
        log_info("rtsp %s: publisher %s refused: %s", cp->name, peer,
                 rc == -EACCES ? "wrong credentials" : "unusable Authorization");
        if (++c->bad >= RTSPD_BAD_MAX) { /* no endless guessing on one connection */
            rtspd_respond(w, c, 403, q, "", NULL, 0);
            (void)tcpq_write(&c->base.q);
            rtspd_close(w, c, "too many failed publisher authorizations", true);
            return false;
        }
    }
    if (rtsp_auth_challenge_write(hdr, sizeof(hdr), RTSPD_REALM, c->nonce) < 0)
        hdr[0] = '\0';
    rtspd_respond(w, c, 401, q, hdr, NULL, 0);
    return false;
}

/* ANNOUNCE: a publisher for a `source = publish` path, once authorized, is handed over with
 * the bytes from its ANNOUNCE on (raw) to the path's ingest, which answers it; the worker
 * closes its copy of the connection. */
static void rtspd_announce(struct worker *w, struct rtspd_conn *c, const struct rtsp_request *q,
                           const uint8_t *raw, size_t raw_len)
{
    struct rtsp_target t;
    if (rtsp_target_parse(&t, q->uri) < 0) {
        rtspd_respond(w, c, 400, q, "", NULL, 0);
        return;
    }
    const struct config_path *cp = config_find_path(&w->cfg, t.path);
    if (!cp) {
        rtspd_respond(w, c, 404, q, "", NULL, 0);
        return;
    }
    if (!config_path_is_publish(cp) || c->session[0]) {
        rtspd_respond(w, c, c->session[0] ? 455 : 405, q, "", NULL, 0);
        return;
    }
    char peer[64];
    viewer_format_addr(&c->base.peer.sa, peer, sizeof(peer));
    if (!rtspd_publisher_ok(w, c, q, cp, peer))
        return;
    /* Our earlier answers must be out before the ingest writes on the same connection. */
    int e = tcpq_write(&c->base.q) != 0
                ? -EAGAIN
                : handover_send(w->cfg.shm_prefix, cp->name, c->base.fd, raw, raw_len);
    if (e < 0) {
        log_warn("rtsp %s: publisher %s: the path's ingest is not reachable: %s", cp->name, peer,
                 strerror(-e));
        rtspd_respond(w, c, 503, q, "", NULL, 0);
        return;
    }
    log_info("rtsp %s: publisher %s (%.*s) handed to the path's ingest", cp->name, peer,
             q->authorization[0] ? (int)strcspn(q->authorization, " ") : 8,
             q->authorization[0] ? q->authorization : "loopback");
    rtspd_close(w, c, "handed to the ingest", false);
}

static void rtspd_request(struct worker *w, struct rtspd_conn *c, const struct rtsp_request *q,
                          const uint8_t *raw, size_t raw_len)
{
    char hdr[128];
    if (!strcmp(q->method, "OPTIONS")) {
        rtspd_respond(w, c, 200, q, RTSPD_PUBLIC, NULL, 0);
    } else if (!strcmp(q->method, "DESCRIBE")) {
        rtspd_describe(w, c, q);
    } else if (!strcmp(q->method, "SETUP")) {
        rtspd_setup(w, c, q);
    } else if (!strcmp(q->method, "PLAY")) {
        rtspd_play(w, c, q);
    } else if (!strcmp(q->method, "GET_PARAMETER")) { /* a keep-alive */
        if (!q->session[0] || rtspd_session_match(w, c, q))
            rtspd_respond(w, c, 200, q, "", NULL, 0);
    } else if (!strcmp(q->method, "TEARDOWN")) {
        if (rtspd_session_match(w, c, q)) {
            rtspd_session_end(w, c);
            rtspd_respond(w, c, 200, q, "", NULL, 0);
            (void)tcpq_write(&c->base.q);
            rtspd_close(w, c, "TEARDOWN", false);
        }
    } else if (!strcmp(q->method, "ANNOUNCE")) {
        rtspd_announce(w, c, q, raw, raw_len);
    } else if (!strcmp(q->method, "RECORD")) {
        rtspd_respond(w, c, 455, q, "", NULL, 0); /* the ingest answers a publisher's RECORD */
    } else if (!strcmp(q->method, "PAUSE") || !strcmp(q->method, "SET_PARAMETER")) {
        snprintf(hdr, sizeof(hdr), "Allow: %s", &RTSPD_PUBLIC[sizeof("Public: ") - 1]);
        rtspd_respond(w, c, 405, q, hdr, NULL, 0);
    } else {
        rtspd_respond(w, c, 501, q, "", NULL, 0);
    }
}

/* ---- reading ---- */

/* A malformed request: 400, then skip to the end of its head when there is one (-EBADMSG), or
 * close (too many, or a head that cannot end within the cap). Returns false when closed. */
static bool rtspd_malformed(struct worker *w, struct rtspd_conn *c, int err)
{
    long hl = err == -EBADMSG ? head_end(c->rx, c->rx_len, sizeof(c->rx)) : 0;
    const uint8_t *end = hl > 0 ? c->rx + hl : NULL;
    if (!end && err == -EBADMSG && c->rx_len < sizeof(c->rx))
        return true; /* wait for the head's end (or the PLAY deadline) */
    rtspd_respond(w, c, 400, NULL, "", NULL, 0);
    if (++c->bad >= RTSPD_BAD_MAX || !end) {
        (void)tcpq_write(&c->base.q);
        rtspd_close(w, c,
                    end ? "too many malformed requests"
                        : "a request head beyond 8 KiB or body "
                          "beyond 4 KiB",
                    true);
        return false;
    }
    size_t used = (size_t)(end - c->rx);
    memmove(c->rx, end, c->rx_len - used);
    c->rx_len -= used;
    return true;
}

/* Handles what is in c->rx: requests and the client's interleaved RTCP. */
static void rtspd_parse(struct worker *w, struct rtspd_conn *c)
{
    static struct rtsp_request q; /* 2 KB: one request at a time */
    size_t off = 0;
    while (c->base.state == CONNTAB_OPEN && off < c->rx_len) {
        const uint8_t *p = c->rx + off;
        size_t len = c->rx_len - off;
        int n;
        if (p[0] == '$') { /* RFC 2326 10.12: the client's RTCP (receiver reports) */
            if (len < 4)
                break;
            size_t fl = (size_t)p[2] << 8 | p[3];
            if (4 + fl > sizeof(c->rx)) {
                rtspd_close(w, c, "an interleaved frame beyond 12 KiB", true);
                return;
            }
            if (len < 4 + fl)
                break;
            if (c->playing && (p[1] & 1))
                (void)media_input(w->media, &c->v, p + 4, fl); /* malformed: counted there */
            n = (int)(4 + fl);
        } else {
            n = rtsp_request_parse(&q, p, len);
            if (n == 0)
                break;
            if (n < 0) {
                memmove(c->rx, p, len);
                c->rx_len = len;
                off = 0;
                if (!rtspd_malformed(w, c, n) || c->rx_len == len)
                    return;
                continue;
            }
            rtspd_request(w, c, &q, p, len);
        }
        off += (size_t)n;
    }
    if (c->base.state != CONNTAB_OPEN)
        return;
    memmove(c->rx, c->rx + off, c->rx_len - off);
    c->rx_len -= off;
}

static void rtspd_readable(struct worker *w, struct rtspd_conn *c)
{
    for (int r = 0; r < RTSPD_READS && c->base.state == CONNTAB_OPEN; r++) {
        size_t room = sizeof(c->rx) - c->rx_len;
        ssize_t n = read(c->base.fd, c->rx + c->rx_len, room);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return;
        if (n <= 0) {
            rtspd_close(w, c, n == 0 ? "closed by the peer" : strerror(errno), false);
            return;
        }
        c->rx_len += (size_t)n;
        c->base.rx_ns = ctl_now_ns();
        rtspd_parse(w, c);
        if ((size_t)n < room)
            return;
    }
}

static void rtspd_readable_cb(struct conntab_conn *base)
{
    rtspd_readable(base->tab->owner, (struct rtspd_conn *)base);
}

static void rtspd_broken(struct conntab_conn *base, const char *why)
{
    rtspd_close(base->tab->owner, (struct rtspd_conn *)base, why, false);
}

/* ---- accepting ---- */

static int rtspd_accepted(struct conntab_conn *base)
{
    conntab_queue(base, TCPQ_CAP); /* our responses go through it from the start */
    return 0;
}

/* An edge's ingests pulling many paths from this origin come from one address. */
static bool rtspd_unlimited(const struct conntab *t, const union viewer_addr *peer)
{
    return peer->sa.sa_family == AF_INET
               ? worker_trusted_proxy(t->owner, AF_INET, &peer->in.sin_addr)
               : worker_trusted_proxy(t->owner, AF_INET6, &peer->in6.sin6_addr);
}

/* As ICE-TCP's: the queue, not the kernel's buffer, notices a slow reader. */
static const struct conntab_params rtspd_params = {
    .log_name = "rtsp",
    .kind = "RTSP",
    .cap = RTSPD_CONNS,
    .per_address = RTSPD_PER_ADDRESS,
    .size = sizeof(struct rtspd_conn),
    .zeroed = offsetof(struct rtspd_conn, rx), /* rx is overwritten as it is read */
    .sndbuf = 256 << 10,
    .accepted = rtspd_accepted,
    .readable = rtspd_readable_cb,
    .broken = rtspd_broken,
    .unlimited = rtspd_unlimited,
};

static void rtspd_listen_cb(uv_poll_t *h, int status, int events)
{
    struct worker *w = h->data;
    if (status >= 0 && (events & UV_READABLE) && !w->stopping)
        conntab_accept(&w->rtsp.tab);
}

int rtspd_open(struct worker *w)
{
    w->rtsp.tab.fd = w->rtsp.udp_fd[0] = w->rtsp.udp_fd[1] = -1;
    if (!w->cfg.rtsp_port)
        return 0;
    union viewer_addr a;
    memset(&a, 0, sizeof(a));
    int err = uv_ip4_addr(w->cfg.rtsp_host, w->cfg.rtsp_port, &a.in);
    if (err < 0 && (err = uv_ip6_addr(w->cfg.rtsp_host, w->cfg.rtsp_port, &a.in6)) < 0)
        return -EINVAL;
    err = conntab_init(&w->rtsp.tab, &rtspd_params, w->loop, w, &w->counters->rtsp_refused);
    if (err < 0)
        return err;
    int fd = socket(a.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
    if (fd < 0)
        return -errno;
    w->rtsp.tab.fd = fd;
    /* Every worker binds the same port, as the HTTP one: the kernel spreads the readers. */
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
        bind(fd, &a.sa, viewer_addr_len(&a)) < 0 || listen(fd, RTSPD_BACKLOG) < 0)
        return -errno;
    int rc = rtspd_udp_open(w, &a);
    if (rc == -EADDRNOTAVAIL) /* the worker's error names only the listener */
        log_error(
            "rtsp: every pair of rtsp_udp_ports %u-%u on %s is in use (each worker takes one)",
            w->cfg.rtsp_udp_lo, w->cfg.rtsp_udp_hi, w->cfg.rtsp_host);
    if (rc < 0)
        return rc;
    return worker_poll_readable(w, &w->rtsp.tab.poll, fd, WORKER_OPEN_RTSP, rtspd_listen_cb);
}

void rtspd_shutdown(struct worker *w)
{
    if (!w->rtsp.tab.slots)
        return;
    for (int32_t i = 0; i < w->rtsp.tab.fresh; i++)
        rtspd_close(w, rtspd_at(&w->rtsp, i), "worker stopping", false);
    rtspd_udp_shutdown(w);
}

void rtspd_free(struct worker *w)
{
    if (w->rtsp.tab.slots) /* else rtspd_open never ran, or left the UDP sockets unset */
        rtspd_udp_free(w);
    conntab_free(&w->rtsp.tab);
}

void rtspd_tick(struct worker *w, uint64_t now)
{
    if (!w->rtsp.tab.slots || !w->rtsp.tab.n_open)
        return;
    for (int32_t i = 0; i < w->rtsp.tab.fresh && !w->stopping; i++) {
        struct rtspd_conn *c = rtspd_at(&w->rtsp, i);
        if (c->base.state != CONNTAB_OPEN)
            continue;
        if (!c->playing && now - c->base.open_ns > RTSPD_PLAY_NS)
            rtspd_close(w, c, "no PLAY within 10 s", true);
        else if (now - c->base.rx_ns > (uint64_t)RTSPD_TIMEOUT_S * 1000000000)
            rtspd_close(w, c, "session timeout (nothing received for 60 s)", true);
    }
}
