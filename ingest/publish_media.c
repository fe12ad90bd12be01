/* SPDX-License-Identifier: MIT */
/* publish_media.c: a publisher's media: its RTP, interleaved on the connection or on a UDP port
 * pair per track (taken from its host only, reordered as an RTSP pull's), into the ingest
 * pipeline; its sender reports into the reception statistics; receiver reports back every
 * second. Per packet: no allocation, no logging. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec/depack.h"
#include "common/log.h"
#include "common/sockbuf.h"
#include "common/udppair.h"
#include "ingest/publish_priv.h"

static void to_ingest(void *arg, const uint8_t *pkt, size_t len)
{
    struct pub_track *t = arg;
    /* Damaged units are counted by the pipeline. */
    (void)ingest_rtp(t->c->pub->ing, (unsigned)t->ingest_idx, pkt, len);
}

/* Arms the reorder timer for the earliest deadline of the live publisher's tracks. */
static void reorder_arm(struct publish *p, uint64_t now)
{
    uint64_t first = 0;
    for (unsigned i = 0; p->live && i < p->live->n_tracks; i++) {
        const struct rtsp_reorder *r = p->live->tracks[i].reorder;
        uint64_t d = r ? rtsp_reorder_deadline(r) : 0;
        if (d && (!first || d < first))
            first = d;
    }
    if (!first)
        (void)uv_timer_stop(&p->reorder_timer);
    else
        (void)uv_timer_start(&p->reorder_timer, pub_reorder_timer_cb,
                             first > now ? (first - now + 999999) / 1000000 : 0, 0);
}

void pub_reorder_timer_cb(uv_timer_t *h)
{
    struct publish *p = h->data;
    uint64_t now = pub_now_ns();
    for (unsigned i = 0; p->live && i < p->live->n_tracks; i++)
        if (p->live->tracks[i].reorder && p->live->tracks[i].ingest_idx >= 0)
            rtsp_reorder_expire(p->live->tracks[i].reorder, now);
    reorder_arm(p, now);
}

/* RTP of recorded track t: counted for reports, then into the pipeline (over UDP in sequence
 * order again). RTP the SDP did not declare for it is refused. False when c was closed. */
static bool track_rtp(struct pub_conn *c, struct pub_track *t, const uint8_t *d, size_t len)
{
    struct depack_rtp h;
    int bad = depack_rtp_parse(d, len, &h) < 0 ? -1 : h.pt != c->sdp.t[t->sdp].pt ? h.pt : 0;
    if (bad) {
        log_info("publish %s: %s sends %s%d on track %d (its SDP declared payload type %d)",
                 c->pub->path, c->peer, bad < 0 ? "no RTP, " : "payload type ", bad,
                 (int)(t - c->tracks), c->sdp.t[t->sdp].pt);
        pub_conn_refuse(c, 400, NULL, "", "RTP it did not announce");
        return false;
    }
    uint64_t now = pub_now_ns();
    rtsp_rx_packet(&t->rx, h.seq, h.ts, h.ssrc, now);
    if (!t->reorder) {
        to_ingest(t, d, len); /* TCP keeps order */
        return true;
    }
    uint64_t before = rtsp_reorder_deadline(t->reorder);
    rtsp_reorder_push(t->reorder, d, len, now);
    if (rtsp_reorder_deadline(t->reorder) != before)
        reorder_arm(c->pub, now);
    return true;
}

/* One interleaved frame: RTP of a recorded track into the pipeline, its RTCP (sender reports)
 * into the reception statistics; channels not set up are skipped (RFC 2326 10.12). False when
 * c was closed. */
bool pub_frame(struct pub_conn *c, uint8_t ch, const uint8_t *d, size_t len)
{
    if (!c->recording)
        return true; /* nothing of it reaches the ring before RECORD */
    for (unsigned i = 0; i < c->n_tracks; i++) {
        struct pub_track *t = &c->tracks[i];
        if (t->ingest_idx < 0 || t->ch < 0)
            continue;
        if (ch == t->ch)
            return track_rtp(c, t, d, len);
        if (ch == t->ch + 1) /* a malformed compound only costs the reports their LSR echo */
            (void)rtsp_rx_rtcp(&t->rx, d, len, pub_now_ns());
    }
    return true;
}

/* A track's socket is readable: RTP or RTCP from the publisher's host while recording; other
 * hosts' datagrams are counted and dropped, anything before RECORD dropped. */
static void on_udp(uv_poll_t *h, int status, int events)
{
    struct pub_udp *u = (struct pub_udp *)h;
    struct pub_conn *c = u->c;
    struct publish *p = c->pub;
    if (status < 0 || !(events & UV_READABLE))
        return;
    for (int i = 0; i < PUB_UDP_READS && !c->closing; i++) {
        struct sockaddr_storage src;
        socklen_t sl = sizeof(src);
        ssize_t n =
            recvfrom(u->fd, p->ubuf, sizeof(p->ubuf), MSG_DONTWAIT, (struct sockaddr *)&src, &sl);
        if (n < 0)
            return; /* EAGAIN, or an ICMP error queued by a report we sent */
        if (!udppair_same_host((struct sockaddr *)&src, (struct sockaddr *)&c->peer_sa)) {
            c->foreign++;
            continue;
        }
        struct pub_track *t = &c->tracks[u->track];
        if (!c->recording || t->ingest_idx < 0)
            continue;
        c->bytes += (uint64_t)n;
        c->media_ns = pub_now_ns();
        if (u->rtcp)
            (void)rtsp_rx_rtcp(&t->rx, p->ubuf, (size_t)n, c->media_ns);
        else if (!track_rtp(c, t, p->ubuf, (size_t)n))
            return;
    }
}

/* Opens track k's socket pair on the address the publisher connected to: from rtsp_udp_ports
 * when set, else where the kernel chooses; starts reading both. 0 or -errno. */
int pub_udp_open(struct pub_conn *c, unsigned k)
{
    struct pub_track *t = &c->tracks[k];
    const struct config *cfg = c->pub->cfg;
    int fd[2];
    int e = udppair_bind((const struct sockaddr *)&c->local_sa, cfg->rtsp_udp_lo, cfg->rtsp_udp_hi,
                         fd, &t->port);
    if (e < 0)
        return e;
    if (!t->reorder && !(t->reorder = malloc(sizeof(*t->reorder)))) {
        close(fd[0]);
        close(fd[1]);
        return -ENOMEM;
    }
    rtsp_reorder_init(t->reorder, RTSP_REORDER_WINDOW_NS, to_ingest, t);
    for (unsigned i = 0; i < 2; i++) {
        struct pub_udp *u = calloc(1, sizeof(*u));
        if (!u || uv_poll_init(c->pub->loop, &u->poll, fd[i]) < 0) {
            free(u);
            for (unsigned j = i; j < 2; j++)
                close(fd[j]);
            return -ENOMEM; /* the sockets opened so far go with the connection */
        }
        u->poll.data = u;
        u->c = c;
        u->fd = fd[i];
        u->track = k;
        u->rtcp = i == 1;
        c->handles++;
        t->udp[i] = u;
        (void)sockbuf_set_rcv(fd[i], PUB_UDP_RCVBUF);
        (void)uv_poll_start(&u->poll, UV_READABLE, on_udp);
    }
    return 0;
}

/* Receiver reports of t go to the publisher's host at its RTCP port. */
void pub_udp_dest(struct pub_conn *c, struct pub_track *t, uint16_t rtcp_port)
{
    t->rtcp = c->peer_sa;
    if (t->rtcp.ss_family == AF_INET6)
        ((struct sockaddr_in6 *)&t->rtcp)->sin6_port = htons(rtcp_port);
    else
        ((struct sockaddr_in *)&t->rtcp)->sin_port = htons(rtcp_port);
}

/* A receiver report (RR + SDES, RFC 3550 6.4.2) for every recorded track that has had RTP,
 * on its interleaved RTCP channel or to its RTCP port; the publisher's figures to the control
 * slot. Best effort: a report the socket has no room for is skipped. */
void pub_send_reports(struct pub_conn *c)
{
    uint64_t now = pub_now_ns(), lost = 0;
    for (unsigned i = 0; i < c->n_tracks; i++) {
        struct pub_track *t = &c->tracks[i];
        uint8_t buf[4 + 128];
        if (t->ingest_idx < 0 || !t->rx.init)
            continue;
        lost += rtsp_rx_lost(&t->rx);
        int n = rtsp_rr_build(&t->rx, c->own_ssrc, "ringcast", buf + 4, sizeof(buf) - 4, now);
        if (n < 0)
            continue;
        if (t->udp[1]) {
            (void)sendto(t->udp[1]->fd, buf + 4, (size_t)n, MSG_DONTWAIT,
                         (const struct sockaddr *)&t->rtcp,
                         t->rtcp.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                       : sizeof(struct sockaddr_in));
        } else if (c->tx_len + 4 + (size_t)n <= sizeof(c->tx)) {
            uint8_t *f = c->tx + c->tx_len;
            f[0] = '$';
            f[1] = (uint8_t)(t->ch + 1);
            f[2] = (uint8_t)(n >> 8);
            f[3] = (uint8_t)n;
            memcpy(f + 4, buf + 4, (size_t)n);
            c->tx_len += 4 + (size_t)n;
        }
    }
    ingest_pub_update(c->pub->ing, c->bytes, lost, 0);
    int e = pub_conn_flush(c);
    if (e < 0)
        pub_conn_close(c, strerror(-e));
    else
        pub_conn_watch(c, c->tx_len > 0);
}
