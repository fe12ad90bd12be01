/* SPDX-License-Identifier: MIT */
/* whip.c: the WHIP publisher's session in the ingest. A forwarded POST is answered with the
 * session's SDP (whip_sdp.h) and its own UDP socket; datagrams on it are told apart by their
 * first byte (RFC 7983): STUN checks authenticate with our ICE password and bind the session
 * to the address that made them, DTLS from that address only drives the handshake, whose keys
 * start SRTP; then SRTP and SRTCP from that address only. RTP of a negotiated payload type
 * goes through a reorder buffer into the ingest pipeline; a jump in sequence numbers is NACKed
 * at once and again while the gap stays open (whip_nack.h), a gap given up on (or the first
 * picture) asks for a keyframe with PLI. What is
 * refused is counted, and the counts are logged when the session ends. Per packet: no
 * allocation, no logging. */
#include "ingest/whip.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "codec/depack.h"
#include "codec/rtcp.h"
#include "common/log.h"
#include "ingest/rtsp_reorder.h"
#include "ingest/rtsp_rtcp.h"
#include "ingest/whip_nack.h"
#include "ingest/whip_sdp.h"
#include "rtc/dtlsrv.h"
#include "rtc/esrtp.h"
#include "rtc/hostcand.h"
#include "rtc/icelite.h"
#include "shm/ring.h"

#define WHIP_MAGIC      "WHIP1 "
#define WHIP_TRACKS     2  /* one video, one audio */
#define WHIP_READS      64 /* datagrams per wakeup, then yield */
#define WHIP_TICK_MS    20 /* reorder deadlines, reports, timeouts */
#define WHIP_RR_NS      1000000000ull
#define WHIP_PLI_NS     500000000ull         /* at most two keyframe requests a second */
#define WHIP_NACK_MAX   64                   /* a bigger jump is a loss, not worth asking */
#define WHIP_REORDER_NS (150u * 1000 * 1000) /* an RTT or two for NACKed packets */
#define WHIP_ANSWER_MAX 8192

struct whip_sess;

struct whip_track {
    struct whip_sess *sess;
    int ring; /* ring track index, -1 until declared */
    int pt;
    bool video;
    bool have_ssrc;
    uint32_t ssrc; /* the sender's */
    uint16_t max_seq;
    uint64_t lost_seen; /* reorder.lost at the last keyframe request */
    struct rtsp_rx_stats rx;
    struct whip_nack nack; /* video only */
    struct rtsp_reorder reorder;
};

/* Counted, logged when the session ends. */
struct whip_counts {
    uint64_t packets, bytes, foreign, unknown, bad_srtp, bad_srtcp, unknown_pt, ssrc_changes,
        stun_refused;
    uint64_t nacks_sent;          /* NACK packets (first requests and retries) */
    struct whip_nack_counts nack; /* sequence numbers asked, retried, recovered, given up */
    uint64_t plis;
};

struct whip_sess {
    uv_poll_t poll; /* first: the close callbacks get these pointers */
    uv_timer_t tick;
    struct whip *w;
    int fd;
    int open;
    bool closing, connected, bound;
    const char *failed; /* why DTLS or SRTP failed: ended from the timer, not the callback */
    char failed_buf[160];
    char id[25];
    char peer[64];  /* the HTTP client */
    char media[64]; /* the address media comes from */
    char ufrag[9], pwd[33];
    struct sockaddr_storage remote;
    socklen_t remote_len;
    struct dtlsrv_conn *dtls;
    struct esrtp *srtp;
    uint32_t own_ssrc;
    uint64_t created_ns, rr_ns, pli_ns;
    uint64_t rx_ns; /* last authenticated datagram from the bound address: junk keeps nothing */
    struct whip_counts n;
    unsigned n_tracks;
    struct whip_track tracks[WHIP_TRACKS];
    struct whip_sdp_offer offer;
};

struct whip {
    uv_loop_t *loop;
    struct ingest *ing;
    const struct config *cfg;
    char path[CONFIG_NAME_MAX];
    bool override;
    whip_claim_fn claim;
    void *claim_arg;
    struct dtlsrv_ctx *dtls;
    struct whip_sess *live;
    unsigned open; /* sessions whose handles are closing */
    bool closing;
    void (*done)(void *);
    void *done_arg;
    _Alignas(8) uint8_t buf[2048];
};

static uint64_t whip_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void whip_addr_str(const struct sockaddr_storage *ss, char *out, size_t len)
{
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr))
            (void)inet_ntop(AF_INET, &a->sin6_addr.s6_addr[12], host, sizeof(host));
        else
            (void)inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
        port = ntohs(a->sin6_port);
        snprintf(out, len, strchr(host, ':') ? "[%s]:%u" : "%s:%u", host, port);
        return;
    }
    const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
    (void)inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
    snprintf(out, len, "%s:%u", host, ntohs(a->sin_port));
}

/* ---- ending ---- */

static void whip_maybe_done(struct whip *w)
{
    if (!w->closing || w->open || w->live)
        return;
    void (*done)(void *) = w->done;
    void *arg = w->done_arg;
    dtlsrv_ctx_free(w->dtls);
    free(w);
    if (done)
        done(arg);
}

static void whip_sess_closed(uv_handle_t *h)
{
    struct whip_sess *s = h->data;
    if (--s->open > 0)
        return;
    struct whip *w = s->w;
    close(s->fd);
    free(s);
    w->open--;
    whip_maybe_done(w);
}

static void whip_sess_end(struct whip_sess *s, const char *why)
{
    if (s->closing)
        return;
    struct whip *w = s->w;
    s->closing = true;
    if (w->live == s)
        w->live = NULL;
    if (s->connected)
        ingest_pub_end(w->ing);
    const struct whip_counts *n = &s->n;
    uint64_t skipped = 0; /* numbers the pipeline never got */
    for (unsigned i = 0; i < s->n_tracks; i++)
        skipped += s->tracks[i].reorder.lost;
    log_info("whip %s: publisher %s (session %s, media from %s) left after %.1f s: %s; "
             "%" PRIu64 " packets, %" PRIu64 " bytes; refused: %" PRIu64 " from other "
             "addresses, %" PRIu64 " of no known kind, %" PRIu64 " bad SRTP, %" PRIu64
             " bad SRTCP, %" PRIu64 " of payload types not negotiated, %" PRIu64
             " failed checks; %" PRIu64 " SSRC changes; sent %" PRIu64 " NACKs (%" PRIu64
             " packets asked, %" PRIu64 " asked again, %" PRIu64 " recovered, %" PRIu64
             " given up), %" PRIu64 " PLIs, %" PRIu64 " sequence numbers skipped",
             w->path, s->peer, s->id, s->bound ? s->media : "-",
             (double)(whip_now() - s->created_ns) / 1e9, why, n->packets, n->bytes, n->foreign,
             n->unknown, n->bad_srtp, n->bad_srtcp, n->unknown_pt, n->stun_refused, n->ssrc_changes,
             n->nacks_sent, n->nack.asked, n->nack.retried, n->nack.recovered, n->nack.given_up,
             n->plis, skipped);
    dtlsrv_conn_free(s->dtls);
    s->dtls = NULL;
    esrtp_free(s->srtp);
    s->srtp = NULL;
    w->open++;
    uv_close((uv_handle_t *)&s->poll, whip_sess_closed);
    uv_close((uv_handle_t *)&s->tick, whip_sess_closed);
}

/* ---- sending ---- */

static void whip_send(struct whip_sess *s, const uint8_t *p, size_t len)
{
    if (!s->bound)
        return;
    /* Best effort: a datagram lost to a full socket buffer is like one lost on the way. */
    (void)sendto(s->fd, p, len, MSG_DONTWAIT, (const struct sockaddr *)&s->remote, s->remote_len);
}

/* Sends RTCP feedback: an empty RR first (RFC 3550 6.1: compound packets start with a
 * report), then fb[0..len), protected. */
static void whip_send_feedback(struct whip_sess *s, const uint8_t *fb, size_t len)
{
    _Alignas(4) uint8_t pkt[8 + 8 + 4 * 2 * WHIP_NACK_MAX + ESRTP_TRAILER_MAX];
    int rr = codec_rtcp_write_rr(pkt, sizeof(pkt), s->own_ssrc, NULL, 0);
    if (!s->srtp || rr < 0 || (size_t)rr + len + ESRTP_TRAILER_MAX > sizeof(pkt))
        return;
    memcpy(pkt + rr, fb, len);
    int n = esrtp_protect_rtcp(s->srtp, pkt, (size_t)rr + len);
    if (n > 0)
        whip_send(s, pkt, (size_t)n);
}

static void whip_pli(struct whip_sess *s, struct whip_track *t, uint64_t now)
{
    uint8_t fb[12];
    if (!t->video || !t->have_ssrc || now - s->pli_ns < WHIP_PLI_NS)
        return;
    if (codec_rtcp_write_pli(fb, sizeof(fb), s->own_ssrc, t->ssrc) < 0)
        return;
    s->pli_ns = now;
    t->lost_seen = t->reorder.lost;
    s->n.plis++;
    whip_send_feedback(s, fb, sizeof(fb));
}

/* Asks for the video packets whip_nack.h says are due (RFC 4585 6.2.1); audio is concealed,
 * not asked for. */
static void whip_send_nacks(struct whip_sess *s, struct whip_track *t, uint64_t now)
{
    uint16_t miss[WHIP_NACK_MAX];
    size_t n = whip_nack_due(&t->nack, now, miss, WHIP_NACK_MAX);
    uint8_t fb[12 + 4 * WHIP_NACK_MAX];
    int len = n ? codec_rtcp_write_nack(fb, sizeof(fb), s->own_ssrc, t->ssrc, miss, n) : -EINVAL;
    if (len < 0)
        return;
    s->n.nacks_sent++;
    whip_send_feedback(s, fb, (size_t)len);
}

static void whip_reports(struct whip_sess *s, uint64_t now)
{
    for (unsigned i = 0; i < s->n_tracks; i++) {
        struct whip_track *t = &s->tracks[i];
        _Alignas(4) uint8_t pkt[300 + ESRTP_TRAILER_MAX];
        if (!t->have_ssrc)
            continue;
        int n = rtsp_rr_build(&t->rx, s->own_ssrc, "ringcast", pkt, sizeof(pkt) - 32, now);
        if (n > 0 && (n = esrtp_protect_rtcp(s->srtp, pkt, (size_t)n)) > 0)
            whip_send(s, pkt, (size_t)n);
    }
}

/* ---- receiving ---- */

static void whip_to_ingest(void *arg, const uint8_t *p, size_t len)
{
    struct whip_track *t = arg;
    /* Damaged units are counted by the pipeline. */
    (void)ingest_rtp(t->sess->w->ing, (unsigned)t->ring, p, len);
}

/* A packet of a track's sender with a payload type not negotiated (a codec switched mid-stream)
 * still used up its sequence number: SRTP has seen its index, so a copy asked for would be
 * refused as a replay. The number counts as received; the gap it leaves in the track is
 * given up by the reorder buffer, which asks for a keyframe. */
static void whip_pt_refused(struct whip_sess *s, const struct depack_rtp *h)
{
    for (unsigned i = 0; i < s->n_tracks; i++) {
        struct whip_track *t = &s->tracks[i];
        if (t->have_ssrc && t->ssrc == h->ssrc && (int16_t)(h->seq - t->max_seq) > 0)
            t->max_seq = h->seq;
    }
}

static void whip_rtp(struct whip_sess *s, uint8_t *p, size_t len, uint64_t now)
{
    int n = esrtp_unprotect_rtp(s->srtp, p, len);
    struct depack_rtp h;
    if (n < 0 || depack_rtp_parse(p, (size_t)n, &h) < 0) {
        s->n.bad_srtp++;
        return;
    }
    s->rx_ns = now;
    if (s->dtls) {
        /* The peer has our keys: the handshake settled, its state can go. */
        dtlsrv_conn_free(s->dtls);
        s->dtls = NULL;
    }
    struct whip_track *t = NULL;
    for (unsigned i = 0; i < s->n_tracks && !t; i++)
        if (s->tracks[i].pt == h.pt && s->tracks[i].ring >= 0)
            t = &s->tracks[i];
    if (!t) {
        s->n.unknown_pt++; /* RTX, FEC, or a codec not negotiated */
        whip_pt_refused(s, &h);
        return;
    }
    s->n.packets++;
    s->n.bytes += (uint64_t)n;
    if (!t->have_ssrc || t->ssrc != h.ssrc) {
        /* A new sender (first packet, or the publisher restarted its encoder): its numbering
         * starts over; the pipeline sees a gap at most. */
        if (t->have_ssrc)
            s->n.ssrc_changes++;
        rtsp_reorder_reset(&t->reorder);
        whip_nack_reset(&t->nack);
        rtsp_rx_init(&t->rx, t->rx.clock_rate);
        t->have_ssrc = true;
        t->ssrc = h.ssrc;
        t->max_seq = (uint16_t)(h.seq - 1);
        t->lost_seen = t->reorder.lost;
        whip_pli(s, t, now); /* a new sender: start at a keyframe */
    }
    int16_t d = (int16_t)(h.seq - t->max_seq);
    if (t->video) {
        whip_nack_received(&t->nack, h.seq, now);
        if (d > 1 && d <= WHIP_NACK_MAX) {
            whip_nack_missing(&t->nack, (uint16_t)(t->max_seq + 1), h.seq, now);
            whip_send_nacks(s, t, now);
        }
    }
    if (d > 0)
        t->max_seq = h.seq;
    rtsp_rx_packet(&t->rx, h.seq, h.ts, h.ssrc, now);
    rtsp_reorder_push(&t->reorder, p, (size_t)n, now);
}

static void whip_rtcp(struct whip_sess *s, uint8_t *p, size_t len, uint64_t now)
{
    int n = esrtp_unprotect_rtcp(s->srtp, p, len);
    if (n < 0) {
        s->n.bad_srtcp++;
        return;
    }
    s->rx_ns = now;
    /* Sender reports: their times are echoed in our reports (LSR/DLSR). */
    for (unsigned i = 0; i < s->n_tracks; i++)
        (void)rtsp_rx_rtcp(&s->tracks[i].rx, p, (size_t)n, now);
}

static const char *whip_lookup(void *arg, const char *local_ufrag, const char *remote_ufrag,
                               void **session)
{
    struct whip_sess *s = arg;
    if (strcmp(local_ufrag, s->ufrag) != 0 || strcmp(remote_ufrag, s->offer.ufrag) != 0)
        return NULL;
    *session = s;
    return s->pwd;
}

static bool whip_from_remote(const struct whip_sess *s, const struct sockaddr_storage *src,
                             socklen_t sl)
{
    return s->bound && sl == s->remote_len && memcmp(src, &s->remote, sl) == 0;
}

static void whip_stun(struct whip_sess *s, const uint8_t *p, size_t len,
                      const struct sockaddr_storage *src, socklen_t sl, uint64_t now)
{
    struct icelite_result res;
    if (icelite_handle(p, len, (const struct sockaddr *)src, whip_lookup, s, &res) < 0) {
        s->n.stun_refused++;
        return;
    }
    /* The session moves to the nominated pair, or to the first that checks, until DTLS is
     * done; then it stays where its keys were agreed. */
    if (!s->bound || (res.use_candidate && !s->connected && !whip_from_remote(s, src, sl))) {
        memcpy(&s->remote, src, sl);
        s->remote_len = sl;
        s->bound = true;
        whip_addr_str(src, s->media, sizeof(s->media));
    }
    if (whip_from_remote(s, src, sl))
        s->rx_ns = now;
    (void)sendto(s->fd, res.response, res.response_len, MSG_DONTWAIT, (const struct sockaddr *)src,
                 sl);
}

static void whip_datagram(struct whip_sess *s, uint8_t *p, size_t len,
                          const struct sockaddr_storage *src, socklen_t sl, uint64_t now)
{
    /* Only what authenticates from the bound address refreshes s->rx_ns (anyone can send
     * junk to the port, and must not keep a gone publisher's session alive). */
    /* RFC 7983 7: 0..3 STUN, 20..63 DTLS, 128..191 RTP and RTCP. */
    if (p[0] <= 3) {
        whip_stun(s, p, len, src, sl, now);
        return;
    }
    if (p[0] < 20 || (p[0] > 63 && p[0] < 128) || p[0] > 191) {
        s->n.unknown++;
        return;
    }
    if (!whip_from_remote(s, src, sl)) {
        s->n.foreign++;
        return;
    }
    if (p[0] <= 63) {
        if (s->dtls && !s->failed) {
            s->rx_ns = now;
            dtlsrv_conn_input(s->dtls, p, len);
        }
    } else if (s->connected) { /* SRTP before our keys are settled is dropped */
        if (codec_rtcp_is_rtcp(p, len))
            whip_rtcp(s, p, len, now);
        else
            whip_rtp(s, p, len, now);
    }
}

static void whip_readable(uv_poll_t *h, int status, int events)
{
    struct whip_sess *s = h->data;
    struct whip *w = s->w;
    (void)events;
    if (status < 0 || s->closing)
        return;
    uint64_t now = whip_now();
    for (int i = 0; i < WHIP_READS && !s->closing; i++) {
        struct sockaddr_storage src;
        socklen_t sl = sizeof(src);
        ssize_t n =
            recvfrom(s->fd, w->buf, sizeof(w->buf), MSG_DONTWAIT, (struct sockaddr *)&src, &sl);
        if (n <= 0)
            return;
        whip_datagram(s, w->buf, (size_t)n, &src, sl, now);
    }
}

/* ---- DTLS ---- */

static void whip_dtls_send(void *arg, const uint8_t *p, size_t len)
{
    whip_send(arg, p, len);
}

/* A new source session for the pipeline, as an RTSP publisher's RECORD: the ring rebases time,
 * so viewers see a pause, not a jump. */
static void whip_declare(struct whip_sess *s)
{
    struct whip *w = s->w;
    char desc[160] = "";
    ingest_restart(w->ing);
    for (unsigned i = 0; i < s->offer.n; i++) {
        const struct whip_sdp_section *sec = &s->offer.s[i];
        if (!sec->accepted || s->n_tracks == WHIP_TRACKS)
            continue;
        struct whip_track *t = &s->tracks[s->n_tracks++];
        t->sess = s;
        t->pt = sec->t.pt;
        t->video = sec->t.codec == RING_CODEC_H264 || sec->t.codec == RING_CODEC_H265;
        t->ring = rtsp_sdp_declare(w->ing, &sec->t);
        rtsp_rx_init(&t->rx, sec->t.clock_rate);
        rtsp_reorder_init(&t->reorder, WHIP_REORDER_NS, whip_to_ingest, t);
        whip_nack_init(&t->nack, WHIP_REORDER_NS, &s->n.nack);
        if (t->ring < 0) {
            log_warn("whip %s: %s: track %s not accepted by the pipeline: %s", w->path, s->peer,
                     sec->t.encoding, strerror(-t->ring));
            continue;
        }
        size_t dl = strlen(desc);
        snprintf(desc + dl, sizeof(desc) - dl, "%s%s/%u pt %d", dl ? ", " : "", sec->t.encoding,
                 sec->t.clock_rate, sec->t.pt);
    }
    log_info("whip %s: publisher %s connected from %s: %s", w->path, s->peer, s->media, desc);
    ingest_pub_begin(w->ing, CTL_PUB_WHIP, s->media);
}

static void whip_dtls_connected(void *arg, const struct dtlsrv_keys *k)
{
    struct whip_sess *s = arg;
    int e = esrtp_create(&s->srtp, k->profile, k->material, k->len);
    if (e == 0)
        e = esrtp_rtp_rx_start(s->srtp, k->material, k->len);
    if (e < 0) {
        snprintf(s->failed_buf, sizeof(s->failed_buf), "no SRTP context: %s", strerror(-e));
        s->failed = s->failed_buf;
        return;
    }
    s->connected = true;
    whip_declare(s);
}

static void whip_dtls_failed(void *arg, int err, const char *reason)
{
    struct whip_sess *s = arg;
    snprintf(s->failed_buf, sizeof(s->failed_buf), "DTLS failed: %s (%s)", reason, strerror(-err));
    s->failed = s->failed_buf;
}

static void whip_dtls_resent(void *arg)
{
    (void)arg; /* the publisher retransmits what we dropped before its keys: NACK covers it */
}

static const struct dtlsrv_callbacks whip_dtls_cb = {
    .send = whip_dtls_send,
    .connected = whip_dtls_connected,
    .failed = whip_dtls_failed,
    .resent = whip_dtls_resent,
};

/* ---- the session's timer ---- */

static void whip_tick(uv_timer_t *h)
{
    struct whip_sess *s = h->data;
    uint64_t now = whip_now();
    if (s->closing)
        return;
    if (s->failed) {
        whip_sess_end(s, s->failed);
        return;
    }
    if (!s->connected && now - s->created_ns > (uint64_t)WHIP_CONNECT_MS * 1000000) {
        whip_sess_end(s, s->bound ? "no DTLS handshake within 10 s" : "no ICE check within 10 s");
        return;
    }
    if (now - s->rx_ns > (uint64_t)WHIP_TIMEOUT_MS * 1000000) {
        whip_sess_end(s, "nothing received for 15 s");
        return;
    }
    if (!s->connected)
        return;
    for (unsigned i = 0; i < s->n_tracks; i++) {
        struct whip_track *t = &s->tracks[i];
        if (t->nack.pending)
            whip_send_nacks(s, t, now); /* retries due, and giving up */
        rtsp_reorder_expire(&t->reorder, now);
        /* Packets given up on: the picture is broken until the next keyframe. */
        if (t->reorder.lost != t->lost_seen)
            whip_pli(s, t, now);
    }
    if (now - s->rr_ns >= WHIP_RR_NS) {
        s->rr_ns = now;
        whip_reports(s, now);
        uint64_t lost = 0;
        for (unsigned i = 0; i < s->n_tracks; i++)
            lost += rtsp_rx_lost(&s->tracks[i].rx);
        ingest_pub_update(s->w->ing, s->n.bytes, lost, s->n.nacks_sent);
    }
}

/* ---- requests from the workers ---- */

static void whip_reply(int fd, int status, const char *session, const char *body, size_t len)
{
    char head[64];
    int hl = snprintf(head, sizeof(head), "%d %s\n", status, session);
    struct iovec iov[2] = {{head, (size_t)hl}, {(void *)body, len}};
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
    /* The worker waits for this one message; it is lost only with the worker. */
    (void)sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
}

static void whip_refuse(struct whip *w, int fd, const char *peer, int status, const char *why)
{
    log_info("whip %s: publisher %s refused: %d %s", w->path, peer, status, why);
    char line[200];
    int n = snprintf(line, sizeof(line), "%s\n", why);
    whip_reply(fd, status, "-", line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

/* Opens the session's socket: dual-stack where the host has IPv6, any port. */
static int whip_socket(bool *v6, uint16_t *port)
{
    int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), off = 0;
    struct sockaddr_storage ss = {0};
    socklen_t sl;
    *v6 = fd >= 0 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) == 0;
    if (*v6) {
        ((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
        sl = sizeof(struct sockaddr_in6);
    } else {
        if (fd >= 0)
            close(fd);
        fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        ((struct sockaddr_in *)&ss)->sin_family = AF_INET;
        sl = sizeof(struct sockaddr_in);
    }
    if (fd < 0 || bind(fd, (struct sockaddr *)&ss, sl) < 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
        int e = -errno;
        if (fd >= 0)
            close(fd);
        return e;
    }
    *port = ntohs(*v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                      : ((struct sockaddr_in *)&ss)->sin_port);
    return fd;
}

/* Session id, ICE credentials, SSRC: random. */
static int whip_sess_ids(struct whip_sess *s)
{
    uint8_t r[12];
    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r) ||
        getrandom(&s->own_ssrc, sizeof(s->own_ssrc), 0) != (ssize_t)sizeof(s->own_ssrc))
        return -EIO;
    for (size_t i = 0; i < sizeof(r); i++)
        snprintf(s->id + 2 * i, 3, "%02x", r[i]);
    if (icelite_random_string(s->ufrag, 8) < 0 || icelite_random_string(s->pwd, 32) < 0)
        return -EIO;
    return 0;
}

/* Builds the answer and the session; replies 201 or the refusal. */
static void whip_post(struct whip *w, int fd, const char *peer, const uint8_t *sdp, size_t len)
{
    struct whip_sess *s = calloc(1, sizeof(*s));
    if (!s)
        return whip_refuse(w, fd, peer, 503, "out of memory");
    snprintf(s->peer, sizeof(s->peer), "%s", peer);
    int e = whip_sdp_parse(&s->offer, sdp, len);
    if (e < 0) {
        whip_refuse(w, fd, peer, e == -ENOMEDIUM ? 406 : e == -ENOMEM ? 503 : 400, s->offer.reason);
        free(s);
        return;
    }
    if (w->live && !w->override) {
        free(s);
        return whip_refuse(w, fd, peer, 409, "another publisher is live (override_publisher = no)");
    }
    if (w->claim(w->claim_arg, peer) < 0) {
        free(s);
        return whip_refuse(w, fd, peer, 409, "an RTSP publisher is live (override_publisher = no)");
    }
    bool v6;
    uint16_t port = 0;
    char cands[WHIP_SDP_MAX_CANDIDATES][HOSTCAND_ADDR_MAX];
    s->fd = whip_socket(&v6, &port);
    if (s->fd < 0 || whip_sess_ids(s) < 0) {
        if (s->fd >= 0)
            close(s->fd);
        free(s);
        return whip_refuse(w, fd, peer, 503, "cannot open a media socket");
    }
    struct whip_sdp_local l = {
        .ufrag = s->ufrag,
        .pwd = s->pwd,
        .fingerprint = dtlsrv_ctx_fingerprint(w->dtls),
        .candidates = (const char(*)[HOSTCAND_ADDR_MAX])cands,
        .n_candidates = hostcand_gather(w->cfg, v6, cands, WHIP_SDP_MAX_CANDIDATES),
        .port = port,
        .session_id = s->own_ssrc,
    };
    char *answer = malloc(WHIP_ANSWER_MAX);
    int alen = answer ? whip_sdp_answer(answer, WHIP_ANSWER_MAX, &s->offer, &l) : -ENOMEM;
    if (alen < 0 ||
        dtlsrv_conn_new(&s->dtls, w->dtls, w->loop, &s->offer.fps, &whip_dtls_cb, s) < 0) {
        free(answer);
        close(s->fd);
        free(s);
        return whip_refuse(w, fd, peer, 503, "cannot set up a session");
    }
    if (w->live) {
        char why[96];
        snprintf(why, sizeof(why), "taken over by %s (override_publisher)", peer);
        whip_sess_end(w->live, why);
    }
    s->w = w;
    s->created_ns = s->rx_ns = whip_now();
    (void)uv_poll_init(w->loop, &s->poll, s->fd);
    (void)uv_timer_init(w->loop, &s->tick);
    s->poll.data = s->tick.data = s;
    s->open = 2;
    (void)uv_poll_start(&s->poll, UV_READABLE, whip_readable);
    (void)uv_timer_start(&s->tick, whip_tick, WHIP_TICK_MS, WHIP_TICK_MS);
    w->live = s;
    log_info("whip %s: publisher %s: session %s, media port %u", w->path, peer, s->id, port);
    whip_reply(fd, 201, s->id, answer, (size_t)alen);
    free(answer);
}

bool whip_is_request(const uint8_t *msg, size_t len)
{
    return len >= sizeof(WHIP_MAGIC) - 1 && memcmp(msg, WHIP_MAGIC, sizeof(WHIP_MAGIC) - 1) == 0;
}

void whip_request(struct whip *w, int fd, const uint8_t *msg, size_t len)
{
    /* "WHIP1 <POST|DELETE> <peer> <session or ->\n" then the offer. */
    const uint8_t *nl = memchr(msg, '\n', len);
    char head[160], method[8] = "", peer[64] = "", arg[40] = "";
    size_t hl = nl ? (size_t)(nl - msg) : 0;
    if (nl && hl < sizeof(head)) {
        memcpy(head, msg, hl);
        head[hl] = '\0';
        if (sscanf(head, "WHIP1 %7s %63s %39s", method, peer, arg) != 3)
            method[0] = '\0';
    }
    if (w->closing) {
        whip_refuse(w, fd, peer, 503, "the ingest stops");
    } else if (strcmp(method, "POST") == 0) {
        whip_post(w, fd, peer, nl + 1, len - hl - 1);
    } else if (strcmp(method, "DELETE") == 0) {
        if (w->live && strcmp(w->live->id, arg) == 0) {
            whip_sess_end(w->live, "DELETE");
            whip_reply(fd, 200, arg, "", 0);
        } else {
            whip_reply(fd, 404, "-", "no such session\n", 16);
        }
    } else {
        log_warn("whip %s: a garbled request from a worker", w->path);
        whip_reply(fd, 400, "-", "garbled request\n", 16);
    }
    close(fd);
}

bool whip_live(const struct whip *w)
{
    return w->live != NULL;
}

void whip_end(struct whip *w, const char *why)
{
    if (w->live)
        whip_sess_end(w->live, why);
}

int whip_create(struct whip **out, uv_loop_t *loop, struct ingest *ing, const struct config *cfg,
                const struct config_path *path, whip_claim_fn claim, void *claim_arg, char *err,
                size_t errlen)
{
    struct whip *w = calloc(1, sizeof(*w));
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    int e = dtlsrv_ctx_new(&w->dtls, err, errlen);
    if (e == 0)
        e = esrtp_global_init();
    if (e < 0) {
        if (!err[0])
            snprintf(err, errlen, "SRTP: %s", strerror(-e));
        dtlsrv_ctx_free(w->dtls);
        free(w);
        return e;
    }
    w->loop = loop;
    w->ing = ing;
    w->cfg = cfg;
    w->claim = claim;
    w->claim_arg = claim_arg;
    w->override = path->override_publisher != 0;
    snprintf(w->path, sizeof(w->path), "%s", path->name);
    *out = w;
    return 0;
}

void whip_close(struct whip *w, void (*done)(void *arg), void *arg)
{
    w->closing = true;
    w->done = done;
    w->done_arg = arg;
    whip_end(w, "the ingest stops");
    whip_maybe_done(w);
}
