/* SPDX-License-Identifier: MIT */
/* publish.c: the publish source: the path's handover socket, whose senders are checked by
 * their credentials, and the RTSP server session (RFC 2326 10.3 ANNOUNCE, 10.4 SETUP with
 * mode=record, 10.11 RECORD) of the one publisher that owns the path; its media is in
 * publish_media.c. A second publisher is refused with 409 unless override_publisher lets it
 * take over; a publisher that breaks the protocol (garbled requests or framing, RTP of a
 * payload type its SDP did not declare, an SDP without a usable track) is answered 4xx and
 * disconnected before anything of it reaches the ring. WHIP requests that come the same way go
 * to the path's WHIP side (ingest/whip.h); one publisher at a time across both. */
#include "ingest/publish_priv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "codec/codec.h"
#include "codec/depack.h"
#include "common/handover.h"
#include "common/log.h"
#include "common/sockbuf.h"
#include "common/udppair.h"
#include "ingest/rtsp_reorder.h"
#include "ingest/rtsp_rtcp.h"
#include "ingest/rtsp_sdp.h"
#include "ingest/whip.h"
#include "rtsp/msg.h"
#include "shm/ring.h"

uint64_t pub_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void pub_handle_gone(struct publish *p)
{
    if (--p->open_handles == 0 && p->closing) {
        void (*done)(void *) = p->done;
        void *arg = p->done_arg;
        free(p);
        if (done)
            done(arg);
    }
}

/* ---- connections ---- */

/* The close callback of each of c's handles; the last one frees c. */
static void conn_handle_closed(struct pub_conn *c)
{
    if (--c->handles > 0)
        return;
    struct publish *p = c->pub;
    for (unsigned i = 0; i < c->n_tracks; i++)
        free(c->tracks[i].reorder);
    close(c->fd);
    free(c);
    pub_handle_gone(p);
}

static void conn_closed_cb(uv_handle_t *h)
{
    conn_handle_closed(h->data);
}

static void udp_closed_cb(uv_handle_t *h)
{
    struct pub_udp *u = (struct pub_udp *)h;
    struct pub_conn *c = u->c;
    close(u->fd);
    free(u);
    conn_handle_closed(c);
}

/* Ends c: logs why (info for the path's publisher, its bytes and time) and frees it. The ring
 * keeps its frames and numbering: a publisher that comes back is a pause for viewers. */
void pub_conn_close(struct pub_conn *c, const char *why)
{
    if (c->closing)
        return;
    struct publish *p = c->pub;
    c->closing = true;
    if (p->live == c) {
        p->live = NULL;
        if (c->recording)
            ingest_pub_end(p->ing);
        char udp[64] = "";
        if (c->lower == PUB_LOWER_UDP)
            snprintf(udp, sizeof(udp), " over UDP (%" PRIu64 " datagrams from other hosts dropped)",
                     c->foreign);
        log_info("publish %s: publisher %s left after %.1f s, %" PRIu64 " bytes%s: %s", p->path,
                 c->peer, (double)(pub_now_ns() - c->since_ns) / 1e9, c->bytes, udp, why);
    } else {
        log_info("publish %s: connection from %s closed: %s", p->path, c->peer, why);
    }
    uv_close((uv_handle_t *)&c->poll, conn_closed_cb);
    for (unsigned i = 0; i < c->n_tracks; i++)
        for (unsigned k = 0; k < 2; k++)
            if (c->tracks[i].udp[k])
                uv_close((uv_handle_t *)&c->tracks[i].udp[k]->poll, udp_closed_cb);
}

static void conn_cb(uv_poll_t *h, int status, int events);

void pub_conn_watch(struct pub_conn *c, bool writing)
{
    if (c->writing == writing || c->closing)
        return;
    c->writing = writing;
    (void)uv_poll_start(&c->poll, UV_READABLE | (writing ? UV_WRITABLE : 0), conn_cb);
}

/* Writes what the socket takes of tx. 0, or -errno for a dead connection. */
int pub_conn_flush(struct pub_conn *c)
{
    while (c->tx_len > 0) {
        ssize_t n = send(c->fd, c->tx, c->tx_len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -errno;
        memmove(c->tx, c->tx + n, c->tx_len - (size_t)n);
        c->tx_len -= (size_t)n;
    }
    return 0;
}

/* Queues an answer and writes. A publisher that does not read its answers fills tx and is
 * closed. */
static void conn_respond(struct pub_conn *c, int status, const struct rtsp_request *q,
                         const char *headers)
{
    int n = rtsp_response_write((char *)c->tx + c->tx_len, sizeof(c->tx) - c->tx_len, status, q,
                                headers, NULL, 0);
    if (n < 0) {
        pub_conn_close(c, "it does not read our answers");
        return;
    }
    c->tx_len += (size_t)n;
    int e = pub_conn_flush(c);
    if (e < 0)
        pub_conn_close(c, strerror(-e));
    else
        pub_conn_watch(c, c->tx_len > 0);
}

/* Answers status (a 4xx: the publisher broke the protocol or cannot be served), writes what
 * the socket takes at once, and closes. */
void pub_conn_refuse(struct pub_conn *c, int status, const struct rtsp_request *q,
                     const char *headers, const char *why)
{
    conn_respond(c, status, q, headers);
    pub_conn_close(c, why);
}

/* The session header of our answers. */
static void session_hdr(const struct pub_conn *c, char *out, size_t len)
{
    snprintf(out, len, "Session: %s;timeout=%u\r\n", c->session, PUBLISH_TIMEOUT_S);
}

/* ---- methods ---- */

static void on_announce(struct pub_conn *c, const struct rtsp_request *q, const uint8_t *body)
{
    struct publish *p = c->pub;
    struct rtsp_target t;
    if (c->n_tracks > 0 || c->recording) {
        conn_respond(c, 455, q, ""); /* one ANNOUNCE per connection */
        return;
    }
    if (rtsp_target_parse(&t, q->uri) < 0 || strcmp(t.path, p->path) != 0) {
        pub_conn_refuse(c, 404, q, "", "ANNOUNCE of another path");
        return;
    }
    /* Track controls resolve against the request URI without its query (RFC 2326 C.1.1). */
    char base[RTSP_URL_MAX];
    snprintf(base, sizeof(base), "%.*s", (int)strcspn(q->uri, "?"), q->uri);
    int e = q->body_len ? rtsp_sdp_parse(&c->sdp, body, q->body_len, base) : -EBADMSG;
    if (e < 0) {
        pub_conn_refuse(c, 400, q, "", "an ANNOUNCE without a usable SDP");
        return;
    }
    for (unsigned i = 0; i < c->sdp.n && c->n_tracks < RING_MAX_TRACKS; i++) {
        const struct rtsp_sdp_track *st = &c->sdp.t[i];
        uint8_t params[RING_PARAMS_MAX];
        /* Parameter sets the pipeline would refuse at RECORD are refused now, with the SDP. */
        if (st->codec == RING_CODEC_NONE ||
            codec_params_from_fmtp(st->codec, st->fmtp, strlen(st->fmtp), params, sizeof(params)) <
                0) {
            log_info("publish %s: %s skips %s track %s: %s", p->path, c->peer, st->media,
                     st->encoding[0] ? st->encoding : "?",
                     st->codec == RING_CODEC_NONE ? "unsupported codec" : "bad parameter sets");
            continue;
        }
        c->tracks[c->n_tracks++] =
            (struct pub_track){.c = c, .sdp = (int)i, .ch = -1, .ingest_idx = -1};
    }
    if (c->n_tracks == 0) {
        pub_conn_refuse(c, 415, q, "", "no track of H264, H265, opus, PCMU or PCMA in its SDP");
        return;
    }
    if (whip_live(p->whip)) {
        if (!p->override) {
            log_info("publish %s: publisher %s refused: a WHIP publisher is live "
                     "(override_publisher = no)",
                     p->path, c->peer);
            pub_conn_refuse(c, 409, q, "", "another publisher is live");
            return;
        }
        char why[96];
        snprintf(why, sizeof(why), "taken over by RTSP publisher %s (override_publisher)", c->peer);
        whip_end(p->whip, why);
    }
    if (p->live && p->live != c) {
        if (!p->override) {
            log_info("publish %s: publisher %s refused: %s publishes (override_publisher = no)",
                     p->path, c->peer, p->live->peer);
            pub_conn_refuse(c, 409, q, "", "another publisher is live");
            return;
        }
        char why[96];
        snprintf(why, sizeof(why), "taken over by %s (override_publisher)", c->peer);
        pub_conn_close(p->live, why);
    }
    p->live = c;
    c->since_ns = pub_now_ns();
    conn_respond(c, 200, q, "");
}

/* The announced track a SETUP URI names: its resolved control exactly, else the same last
 * segment (a publisher may resolve against another spelling of our host). -1 if none. */
static int track_for(const struct pub_conn *c, const char *uri)
{
    size_t ul = strcspn(uri, "?");
    const char *last = memrchr(uri, '/', ul);
    for (unsigned i = 0; i < c->n_tracks; i++) {
        const char *ctl = c->sdp.t[c->tracks[i].sdp].control;
        if (strlen(ctl) == ul && strncmp(ctl, uri, ul) == 0)
            return (int)i;
    }
    for (unsigned i = 0; last && i < c->n_tracks; i++) {
        const char *ctl = c->sdp.t[c->tracks[i].sdp].control, *cl = strrchr(ctl, '/');
        if (cl && strlen(cl) == (size_t)(uri + ul - last) && strncmp(cl, last, strlen(cl)) == 0)
            return (int)i;
    }
    return -1;
}

static bool channel_taken(const struct pub_conn *c, int ch, unsigned except)
{
    for (unsigned i = 0; i < c->n_tracks; i++)
        if (i != except && c->tracks[i].ch >= 0 &&
            (ch == c->tracks[i].ch || ch == c->tracks[i].ch + 1 || ch + 1 == c->tracks[i].ch))
            return true;
    return false;
}

static void on_setup(struct pub_conn *c, const struct rtsp_request *q)
{
    if (c->pub->live != c || c->recording) {
        conn_respond(c, 455, q, "");
        return;
    }
    if (c->session[0] && strcmp(q->session, c->session) != 0) {
        conn_respond(c, 454, q, "");
        return;
    }
    int k = track_for(c, q->uri);
    if (k < 0) {
        conn_respond(c, 404, q, "");
        return;
    }
    struct rtsp_transport tr;
    rtsp_transport_parse(&tr, q->transport);
    enum pub_lower lower = tr.tcp ? PUB_LOWER_TCP : PUB_LOWER_UDP;
    /* One lower transport per session: its tracks are timed out and reported alike. */
    if (!tr.rtp_avp || !tr.record || tr.multicast || (c->lower && c->lower != lower) ||
        (lower == PUB_LOWER_UDP && (tr.client_port[0] < 1 || tr.client_port[1] < 1))) {
        conn_respond(c, 461, q, "");
        return;
    }
    struct pub_track *t = &c->tracks[k];
    char hdr[256];
    if (lower == PUB_LOWER_UDP) {
        int e = t->udp[1] ? 0 : pub_udp_open(c, (unsigned)k);
        if (e < 0) {
            log_warn("publish %s: %s: no UDP port pair for track %d: %s", c->pub->path, c->peer, k,
                     strerror(-e));
            conn_respond(c, 503, q, "");
            return;
        }
        pub_udp_dest(c, t, (uint16_t)tr.client_port[1]);
    } else {
        int ch = tr.interleaved[0];
        if (ch < 0 || ch > 254 || channel_taken(c, ch, (unsigned)k))
            for (ch = 2 * k; channel_taken(c, ch, (unsigned)k); ch += 2)
                ;
        t->ch = ch;
    }
    c->lower = lower;
    if (!c->session[0]) {
        uint64_t id;
        if (getrandom(&id, sizeof(id), 0) != sizeof(id))
            id = pub_now_ns();
        snprintf(c->session, sizeof(c->session), "%016" PRIx64, id);
    }
    session_hdr(c, hdr, sizeof(hdr));
    size_t hl = strlen(hdr);
    if (lower == PUB_LOWER_UDP)
        snprintf(hdr + hl, sizeof(hdr) - hl,
                 "Transport: RTP/AVP;unicast;client_port=%d-%d;server_port=%u-%u;mode=record\r\n",
                 tr.client_port[0], tr.client_port[1], t->port, t->port + 1u);
    else
        snprintf(hdr + hl, sizeof(hdr) - hl,
                 "Transport: RTP/AVP/TCP;unicast;interleaved=%d-%d;mode=record\r\n", t->ch,
                 t->ch + 1);
    conn_respond(c, 200, q, hdr);
}

static void on_record(struct pub_conn *c, const struct rtsp_request *q)
{
    struct publish *p = c->pub;
    char hdr[128], desc[256] = "";
    if (p->live != c || !c->session[0]) {
        conn_respond(c, 455, q, ""); /* RECORD before SETUP */
        return;
    }
    if (strcmp(q->session, c->session) != 0) {
        conn_respond(c, 454, q, "");
        return;
    }
    session_hdr(c, hdr, sizeof(hdr));
    if (c->recording) {
        conn_respond(c, 200, q, hdr);
        return;
    }
    /* A new source session: the pipeline forgets the previous publisher's tracks and the
     * ring rebases time, so viewers see a pause, not a jump. */
    ingest_restart(p->ing);
    for (unsigned i = 0; i < c->n_tracks; i++) {
        struct pub_track *t = &c->tracks[i];
        const struct rtsp_sdp_track *st = &c->sdp.t[t->sdp];
        if (t->ch < 0 && !t->udp[0])
            continue; /* announced, not set up: the publisher does not send it */
        int idx = rtsp_sdp_declare(p->ing, st);
        if (idx < 0) {
            log_warn("publish %s: %s: track %s not accepted by the pipeline: %s", p->path, c->peer,
                     st->encoding, strerror(-idx));
            continue;
        }
        t->ingest_idx = idx;
        rtsp_rx_init(&t->rx, st->clock_rate);
        if (t->reorder)
            rtsp_reorder_reset(t->reorder);
        size_t dl = strlen(desc);
        if (c->lower == PUB_LOWER_UDP)
            snprintf(desc + dl, sizeof(desc) - dl, "%s%s/%u pt %d on UDP %u", dl ? ", " : "",
                     st->encoding, st->clock_rate, st->pt, t->port);
        else
            snprintf(desc + dl, sizeof(desc) - dl, "%s%s/%u pt %d on %d", dl ? ", " : "",
                     st->encoding, st->clock_rate, st->pt, t->ch);
    }
    if (!desc[0]) {
        pub_conn_refuse(c, 455, q, "", "RECORD without a track set up");
        return;
    }
    c->recording = true;
    c->media_ns = pub_now_ns();
    conn_respond(c, 200, q, hdr);
    ingest_pub_begin(p->ing, c->lower == PUB_LOWER_UDP ? CTL_PUB_RTSP_UDP : CTL_PUB_RTSP_TCP,
                     c->peer);
    log_info("publish %s: %s records: %s", p->path, c->peer, desc);
}

static void on_request(struct pub_conn *c, const struct rtsp_request *q, const uint8_t *body)
{
    if (!strcmp(q->method, "OPTIONS")) {
        conn_respond(c, 200, q, PUB_PUBLIC);
    } else if (!strcmp(q->method, "ANNOUNCE")) {
        on_announce(c, q, body);
    } else if (!strcmp(q->method, "SETUP")) {
        on_setup(c, q);
    } else if (!strcmp(q->method, "RECORD")) {
        on_record(c, q);
    } else if (!strcmp(q->method, "GET_PARAMETER") || !strcmp(q->method, "SET_PARAMETER")) {
        conn_respond(c, 200, q, ""); /* keep-alives */
    } else if (!strcmp(q->method, "TEARDOWN")) {
        conn_respond(c, 200, q, "");
        if (!c->closing) {
            (void)pub_conn_flush(c);
            pub_conn_close(c, "TEARDOWN");
        }
    } else if (!strcmp(q->method, "DESCRIBE") || !strcmp(q->method, "PLAY") ||
               !strcmp(q->method, "PAUSE")) {
        char hdr[128];
        snprintf(hdr, sizeof(hdr), "Allow: %s", &PUB_PUBLIC[sizeof("Public: ") - 1]);
        conn_respond(c, 405, q, hdr);
    } else {
        conn_respond(c, 501, q, "");
    }
}

/* Handles what is in c->rx: requests and interleaved frames. */
static void conn_parse(struct pub_conn *c)
{
    static struct rtsp_request q; /* 2 KB: one request at a time */
    size_t off = 0;
    while (!c->closing && off < c->rx_len) {
        const uint8_t *b = c->rx + off;
        size_t len = c->rx_len - off;
        if (b[0] == '$') {
            if (len < 4)
                break;
            size_t fl = (size_t)b[2] << 8 | b[3];
            if (len < 4 + fl)
                break;
            if (fl < RTSP_INTERLEAVED_MIN) {
                pub_conn_refuse(c, 400, NULL, "", "an interleaved frame too short for RTP or RTCP");
                return;
            }
            if (!pub_frame(c, b[1], b + 4, fl))
                return;
            off += 4 + fl;
            continue;
        }
        int n = rtsp_request_parse(&q, b, len);
        if (n == 0)
            break;
        if (n < 0) {
            pub_conn_refuse(c, n == -EMSGSIZE ? 413 : 400, NULL, "",
                            n == -EMSGSIZE ? "a request beyond 8 KiB head or 4 KiB body"
                                           : "bytes that are neither a request nor a frame");
            return;
        }
        on_request(c, &q, b + n - q.body_len);
        off += (size_t)n;
    }
    if (c->closing)
        return;
    memmove(c->rx, c->rx + off, c->rx_len - off);
    c->rx_len -= off;
}

static void conn_readable(struct pub_conn *c)
{
    for (int r = 0; r < PUB_READS && !c->closing; r++) {
        size_t room = sizeof(c->rx) - c->rx_len;
        ssize_t n = recv(c->fd, c->rx + c->rx_len, room, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return;
        if (n <= 0) {
            pub_conn_close(c, n == 0 ? "closed by the publisher" : strerror(errno));
            return;
        }
        c->rx_len += (size_t)n;
        c->bytes += (uint64_t)n;
        c->rx_ns = pub_now_ns();
        conn_parse(c);
        if ((size_t)n < room)
            return;
    }
}

static void conn_cb(uv_poll_t *h, int status, int events)
{
    struct pub_conn *c = (struct pub_conn *)h;
    if (c->closing)
        return;
    if (status < 0) {
        pub_conn_close(c, uv_strerror(status));
        return;
    }
    if (events & UV_WRITABLE) {
        int e = pub_conn_flush(c);
        if (e < 0) {
            pub_conn_close(c, strerror(-e));
            return;
        }
        pub_conn_watch(c, c->tx_len > 0);
    }
    if (events & UV_READABLE)
        conn_readable(c);
}

/* A handed-over connection: what the worker read (its ANNOUNCE on) is handled as if read
 * here, then the connection is watched. fd is ours from here on. */
static void conn_start(struct publish *p, int fd, const uint8_t *bytes, size_t len)
{
    struct pub_conn *c = calloc(1, sizeof(*c));
    if (!c || uv_poll_init(p->loop, &c->poll, fd) < 0) {
        log_warn("publish %s: a publisher dropped: out of memory", p->path);
        free(c);
        close(fd);
        return;
    }
    p->open_handles++;
    c->poll.data = c;
    c->handles = 1;
    c->pub = p;
    c->fd = fd;
    (void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    if (getrandom(&c->own_ssrc, sizeof(c->own_ssrc), 0) != sizeof(c->own_ssrc))
        c->own_ssrc = (uint32_t)pub_now_ns();
    socklen_t ll = sizeof(c->local_sa);
    (void)getsockname(fd, (struct sockaddr *)&c->local_sa, &ll);
    struct sockaddr_storage ss = {0};
    socklen_t sl = sizeof(ss);
    char host[64] = "?";
    unsigned port = 0;
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0) {
        c->peer_sa = ss;
        const void *a = ss.ss_family == AF_INET6
                            ? (const void *)&((struct sockaddr_in6 *)&ss)->sin6_addr
                            : (const void *)&((struct sockaddr_in *)&ss)->sin_addr;
        port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                              : ((struct sockaddr_in *)&ss)->sin_port);
        (void)inet_ntop(ss.ss_family, a, host, sizeof(host));
    }
    snprintf(c->peer, sizeof(c->peer), ss.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", host, port);
    c->since_ns = c->rx_ns = pub_now_ns();
    memcpy(c->rx, bytes, len);
    c->rx_len = len;
    c->bytes = len;
    conn_parse(c);
    if (!c->closing)
        (void)uv_poll_start(&c->poll, UV_READABLE | (c->writing ? UV_WRITABLE : 0), conn_cb);
}

/* ---- the handover socket ---- */

/* Whether a handover's sender may give us a publisher: this user's process, and when
 * supervised one of the node's egress workers. */
static bool sender_ok(const struct publish *p, const struct ucred *cred)
{
    if (cred->uid != getuid())
        return false;
    if (!p->ctl)
        return true;
    for (unsigned i = 0; i < CTL_MAX_CHILDREN; i++) {
        const struct ctl_child *s = &p->ctl->children[i];
        if (s->role == CTL_ROLE_EGRESS &&
            atomic_load_explicit(&s->state, memory_order_relaxed) != CTL_STATE_EMPTY &&
            atomic_load_explicit(&s->pid, memory_order_relaxed) == cred->pid)
            return true;
    }
    return false;
}

static void on_handover(uv_poll_t *h, int status, int events)
{
    struct publish *p = h->data;
    if (status < 0 || !(events & UV_READABLE))
        return;
    for (int i = 0; i < 16 && !p->closing; i++) {
        int fd = -1;
        size_t len = 0;
        struct ucred cred;
        int e = handover_recv(p->lfd, &fd, p->hbuf, sizeof(p->hbuf), &len, &cred);
        if (e == -EAGAIN)
            return;
        if (e == 0 && sender_ok(p, &cred)) {
            if (whip_is_request(p->hbuf, len))
                whip_request(p->whip, fd, p->hbuf, len);
            else
                conn_start(p, fd, p->hbuf, len);
            continue;
        }
        if (fd >= 0)
            close(fd);
        /* Any local process can send here: logged at most once a second. */
        p->refused++;
        if (log_limit_pass(&p->refused_log, pub_now_ns(), 1000000000ull, 1, NULL))
            log_warn("publish %s: handover from pid %d uid %d refused (%" PRIu64 " so far)",
                     p->path, (int)cred.pid, (int)cred.uid, p->refused);
    }
}

/* Every second: a handed-over publisher must record within PUBLISH_RECORD_MS and send
 * something (RTP, RTCP or a keep-alive) every PUBLISH_TIMEOUT_S, over UDP RTP or RTCP too;
 * a recording one gets its receiver reports. */
static void on_tick(uv_timer_t *t)
{
    struct publish *p = t->data;
    struct pub_conn *c = p->live;
    uint64_t now = pub_now_ns(), timeout = (uint64_t)PUBLISH_TIMEOUT_S * 1000000000;
    if (!c)
        return;
    if (!c->recording && now - c->since_ns > (uint64_t)PUBLISH_RECORD_MS * 1000000)
        pub_conn_close(c, "no RECORD within 10 s");
    else if (now - c->rx_ns > timeout)
        pub_conn_close(c, "session timeout (nothing received for 60 s)");
    else if (c->recording && c->lower == PUB_LOWER_UDP && now - c->media_ns > timeout)
        pub_conn_close(c, "session timeout (no RTP or RTCP over UDP for 60 s)");
    else if (c->recording)
        pub_send_reports(c);
}

static void on_handle_closed(uv_handle_t *h)
{
    pub_handle_gone(h->data);
}

static void on_whip_closed(void *arg)
{
    pub_handle_gone(arg);
}

/* whip_claim_fn: a WHIP publisher takes the path from an RTSP one only by override. */
static int publish_claim(void *arg, const char *peer)
{
    struct publish *p = arg;
    if (!p->live)
        return 0;
    if (!p->override)
        return -EBUSY;
    char why[96];
    snprintf(why, sizeof(why), "taken over by WHIP publisher %s (override_publisher)", peer);
    pub_conn_close(p->live, why);
    return 0;
}

static int publish_start(struct source *s)
{
    struct publish *p = (struct publish *)s;
    p->lfd = handover_listen(p->prefix, p->path);
    if (p->lfd < 0)
        return p->lfd; /* -EADDRINUSE: another ingest of this path runs */
    int e = uv_poll_init(p->loop, &p->lpoll, p->lfd);
    if (e < 0) {
        close(p->lfd);
        p->lfd = -1;
        return e;
    }
    p->open_handles++;
    p->lpoll.data = p;
    (void)uv_poll_start(&p->lpoll, UV_READABLE, on_handover);
    log_info("publish %s: waiting for publishers", p->path);
    return 0;
}

static void publish_close(struct source *s, void (*done)(void *arg), void *arg)
{
    struct publish *p = (struct publish *)s;
    p->closing = true;
    p->done = done;
    p->done_arg = arg;
    if (p->live)
        pub_conn_close(p->live, "the ingest stops");
    if (p->lfd >= 0) {
        uv_close((uv_handle_t *)&p->lpoll, on_handle_closed);
        close(p->lfd); /* uv_poll does not own it; the name goes with the last descriptor */
        p->lfd = -1;
    }
    uv_close((uv_handle_t *)&p->tick, on_handle_closed);
    uv_close((uv_handle_t *)&p->reorder_timer, on_handle_closed);
    whip_close(p->whip, on_whip_closed, p);
}

static const struct source_ops publish_ops = {
    .kind = "publish", .start = publish_start, .close = publish_close};

int publish_source_create(struct source **out, uv_loop_t *loop, struct ingest *ing,
                          const struct config *cfg, const struct config_path *path,
                          const struct ctl_hdr *ctl)
{
    struct publish *p = calloc(1, sizeof(*p));
    char err[160] = "";
    int e = p ? whip_create(&p->whip, loop, ing, cfg, path, publish_claim, p, err, sizeof(err))
              : -ENOMEM;
    if (e < 0) {
        log_error("publish %s: WHIP: %s", path->name, err[0] ? err : strerror(-e));
        free(p);
        return e;
    }
    p->base.ops = &publish_ops;
    p->loop = loop;
    p->cfg = cfg;
    p->ing = ing;
    p->ctl = ctl;
    p->lfd = -1;
    p->override = path->override_publisher != 0;
    snprintf(p->path, sizeof(p->path), "%s", path->name);
    snprintf(p->prefix, sizeof(p->prefix), "%s", cfg->shm_prefix);
    (void)uv_timer_init(loop, &p->tick);
    (void)uv_timer_init(loop, &p->reorder_timer);
    p->tick.data = p->reorder_timer.data = p;
    p->open_handles = 3; /* the timers and the WHIP side */
    ingest_pub_end(ing); /* a previous ingest's publisher is gone */
    (void)uv_timer_start(&p->tick, on_tick, 1000, 1000);
    *out = &p->base;
    return 0;
}
