/* SPDX-License-Identifier: MIT */
/* rtsp_media.c: the RTSP client's media half: RTP and RTCP from interleaved TCP frames or
 * UDP socket pairs into the ingest pipeline, UDP reordering, reception statistics and
 * receiver reports. Per packet: no allocation, no logging (failures of the stream as a
 * whole go through rtsp_fail). */
#include "ingest/rtsp_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/depack.h"
#include "common/sockbuf.h"
#include "common/udppair.h"

/* ---- RTP in ---- */

static void to_ingest(void *arg, const uint8_t *pkt, size_t len)
{
    struct rtsp_track *t = arg;
    /* Damaged units are counted by the pipeline; nothing to add per packet here. */
    (void)ingest_rtp(t->src->ing, (unsigned)t->ingest_idx, pkt, len);
}

static void on_reorder_timer(uv_timer_t *h);

/* Arms the reorder timer for the earliest deadline of any track. */
static void reorder_arm(struct rtsp_source *s, uint64_t now)
{
    uint64_t first = 0;
    for (unsigned i = 0; i < s->n_tracks; i++) {
        uint64_t d = s->tracks[i].reorder ? rtsp_reorder_deadline(s->tracks[i].reorder) : 0;
        if (d && (!first || d < first))
            first = d;
    }
    if (!first) {
        (void)uv_timer_stop(&s->reorder_timer);
        return;
    }
    uint64_t ms = first > now ? (first - now + 999999) / 1000000 : 0;
    (void)uv_timer_start(&s->reorder_timer, on_reorder_timer, ms, 0);
}

static void on_reorder_timer(uv_timer_t *h)
{
    struct rtsp_source *s = h->data;
    uint64_t now = rtsp_now_ns(s);
    for (unsigned i = 0; i < s->n_tracks; i++) {
        if (s->tracks[i].reorder && s->tracks[i].ingest_idx >= 0)
            rtsp_reorder_expire(s->tracks[i].reorder, now);
    }
    reorder_arm(s, now);
}

static void rtp_in(struct rtsp_source *s, struct rtsp_track *t, const uint8_t *p, size_t len)
{
    struct depack_rtp h;
    if (t->ingest_idx < 0 || depack_rtp_parse(p, len, &h) < 0 || h.pt != t->sdp.pt)
        return; /* not ours: another payload type (FEC, comfort noise) or not RTP */
    uint64_t now = rtsp_now_ns(s);
    s->last_rtp_ns = now;
    rtsp_rx_packet(&t->rx, h.seq, h.ts, h.ssrc, now);
    if (!rtsp_udp(s)) {
        to_ingest(t, p, len); /* TCP keeps order */
        return;
    }
    uint64_t before = rtsp_reorder_deadline(t->reorder);
    rtsp_reorder_push(t->reorder, p, len, now);
    if (rtsp_reorder_deadline(t->reorder) != before)
        reorder_arm(s, now);
}

static void rtcp_in(struct rtsp_source *s, struct rtsp_track *t, const uint8_t *p, size_t len)
{
    /* A malformed compound only costs the reports their LSR echo. */
    (void)rtsp_rx_rtcp(&t->rx, p, len, rtsp_now_ns(s));
}

void rtsp_media_interleaved(struct rtsp_source *s, uint8_t channel, const uint8_t *p, size_t len)
{
    for (unsigned i = 0; i < s->n_tracks; i++) {
        struct rtsp_track *t = &s->tracks[i];
        if (t->ch[0] == channel) {
            if (len < 12) {
                rtsp_fail(s, "bad interleaved frame length %zu on RTP channel %u", len, channel);
                return;
            }
            rtp_in(s, t, p, len);
            return;
        }
        if (t->ch[1] == channel) {
            rtcp_in(s, t, p, len);
            return;
        }
    }
    /* A channel we did not set up: RFC 2326 10.12 lets us skip it. */
}

/* ---- UDP sockets ---- */

static void on_udp_closed(uv_handle_t *h)
{
    struct rtsp_udp *u = (struct rtsp_udp *)h;
    struct rtsp_source *s = u->src;
    free(u);
    rtsp_handle_gone(s);
}

static void udp_close(struct rtsp_udp **pu)
{
    if (!*pu)
        return;
    rtsp_close_handle((uv_handle_t *)&(*pu)->h, on_udp_closed);
    *pu = NULL;
}

static int udp_bind(struct rtsp_source *s, struct rtsp_udp **out, unsigned track, bool rtcp,
                    unsigned port)
{
    struct rtsp_udp *u = calloc(1, sizeof(*u));
    if (!u)
        return UV_ENOMEM;
    u->src = s;
    u->track = track;
    u->rtcp = rtcp;
    (void)uv_udp_init(s->loop, &u->h);
    s->open_handles++;
    *out = u;
    struct sockaddr_storage any;
    memset(&any, 0, sizeof(any));
    if (s->peer.ss_family == AF_INET6)
        (void)uv_ip6_addr("::", (int)port, (struct sockaddr_in6 *)&any);
    else
        (void)uv_ip4_addr("0.0.0.0", (int)port, (struct sockaddr_in *)&any);
    int err = uv_udp_bind(&u->h, (const struct sockaddr *)&any, 0);
    if (err < 0) {
        udp_close(out);
        return err;
    }
    /* Keep a burst (a keyframe is hundreds of packets) while the loop is busy: libuv's
     * uv_recv_buffer_size is capped at rmem_max (208 KiB), which a 4K keyframe overflows. */
    uv_os_fd_t fd;
    if (uv_fileno((uv_handle_t *)&u->h, &fd) == 0)
        (void)sockbuf_set_rcv(fd, 4 << 20);
    return 0;
}

static unsigned bound_port(struct rtsp_udp *u)
{
    struct sockaddr_storage a;
    int len = sizeof(a);
    if (uv_udp_getsockname(&u->h, (struct sockaddr *)&a, &len) < 0)
        return 0;
    return a.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&a)->sin6_port)
                                   : ntohs(((struct sockaddr_in *)&a)->sin_port);
}

/* RTP on an even port, RTCP on the next (RFC 3550 11): try pairs from the configured range,
 * or let the kernel pick an RTP port and hope the next one is free. */
int rtsp_media_udp_open(struct rtsp_source *s, unsigned i)
{
    struct rtsp_track *t = &s->tracks[i];
    unsigned lo = 0, hi = 0;
    const char *range = getenv(RTSP_UDP_PORTS_ENV);
    if (range && sscanf(range, "%u-%u", &lo, &hi) == 2 && lo > 0 && hi <= 65535 && lo < hi)
        lo = (lo + 1) & ~1u;
    else
        lo = hi = 0;
    int err = UV_EADDRINUSE;
    for (unsigned attempt = 0; attempt < (hi ? (hi - lo + 1) / 2 : 32); attempt++) {
        unsigned port = hi ? lo + 2 * attempt : 0;
        if (hi && port + 1 > hi)
            break;
        err = udp_bind(s, &t->udp[0], i, false, port);
        if (err < 0)
            continue;
        port = bound_port(t->udp[0]);
        if (port == 0 || (port & 1) || port == 65535 ||
            (err = udp_bind(s, &t->udp[1], i, true, port + 1)) < 0) {
            udp_close(&t->udp[0]);
            err = err < 0 ? err : UV_EADDRINUSE;
            continue;
        }
        t->client_port = (uint16_t)port;
        return 0;
    }
    return err;
}

static void on_udp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    struct rtsp_udp *u = (struct rtsp_udp *)h;
    (void)hint;
    *buf = uv_buf_init((char *)u->src->udp_buf, RTSP_UDP_BUF);
}

static void on_udp_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
                        const struct sockaddr *addr, unsigned flags)
{
    struct rtsp_udp *u = (struct rtsp_udp *)h;
    struct rtsp_source *s = u->src;
    (void)flags;
    /* Only the server's address may feed the ring: anyone can send us datagrams. */
    if (nread <= 0 || !addr || !udppair_same_host(addr, (const struct sockaddr *)&s->peer) ||
        s->state != RTSP_PLAYING)
        return;
    struct rtsp_track *t = &s->tracks[u->track];
    if (u->rtcp)
        rtcp_in(s, t, (const uint8_t *)buf->base, (size_t)nread);
    else
        rtp_in(s, t, (const uint8_t *)buf->base, (size_t)nread);
}

int rtsp_media_udp_start(struct rtsp_source *s, unsigned i)
{
    struct rtsp_track *t = &s->tracks[i];
    for (unsigned k = 0; k < 2; k++) {
        int err = uv_udp_recv_start(&t->udp[k]->h, on_udp_alloc, on_udp_recv);
        if (err < 0)
            return err;
    }
    return 0;
}

void rtsp_media_stop(struct rtsp_source *s)
{
    for (unsigned i = 0; i < RING_MAX_TRACKS; i++) {
        struct rtsp_track *t = &s->tracks[i];
        udp_close(&t->udp[0]);
        udp_close(&t->udp[1]);
        if (t->reorder)
            rtsp_reorder_reset(t->reorder);
        t->ingest_idx = -1;
    }
    (void)uv_timer_stop(&s->reorder_timer);
}

int rtsp_media_udp_alloc(struct rtsp_source *s)
{
    if (!s->udp_buf && !(s->udp_buf = malloc(RTSP_UDP_BUF)))
        return -ENOMEM;
    for (unsigned i = 0; i < RING_MAX_TRACKS; i++) {
        struct rtsp_track *t = &s->tracks[i];
        if (t->reorder)
            continue;
        t->reorder = malloc(sizeof(*t->reorder));
        if (!t->reorder)
            return -ENOMEM;
        rtsp_reorder_init(t->reorder, RTSP_REORDER_WINDOW_NS, to_ingest, t);
    }
    return 0;
}

/* ---- receiver reports ---- */

void rtsp_media_send_reports(struct rtsp_source *s, uint64_t now_ns)
{
    for (unsigned i = 0; i < s->n_tracks; i++) {
        struct rtsp_track *t = &s->tracks[i];
        uint8_t buf[4 + 128];
        if (t->ingest_idx < 0)
            continue;
        int n = rtsp_rr_build(&t->rx, s->own_ssrc, "ringcast", buf + 4, sizeof(buf) - 4, now_ns);
        if (n < 0)
            continue;
        if (rtsp_udp(s)) {
            if (!t->has_server_rtcp || !t->udp[1])
                continue;
            uv_buf_t b = uv_buf_init((char *)buf + 4, (unsigned)n);
            /* Best effort: a report lost to a full socket buffer is not worth a retry. */
            (void)uv_udp_try_send(&t->udp[1]->h, &b, 1, (const struct sockaddr *)&t->server_rtcp);
        } else if (t->ch[1] >= 0) {
            buf[0] = '$';
            buf[1] = (uint8_t)t->ch[1];
            buf[2] = (uint8_t)(n >> 8);
            buf[3] = (uint8_t)n;
            (void)rtsp_conn_write(s, buf, 4 + (size_t)n);
        }
    }
}
