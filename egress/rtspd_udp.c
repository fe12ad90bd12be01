/* SPDX-License-Identifier: MIT */
/* rtspd_udp.c: RTSP readers over UDP (RFC 2326 12.39): the worker's one pair of sockets (RTP on
 * an even port, RTCP on the next), bound from rtsp_udp_ports or where the kernel chooses, the
 * destinations of a session's tracks, and the clients' RTCP (receiver reports) matched to their
 * session by source address. Media leaves from these sockets through the send path
 * (struct media_udp); nothing is queued for a slow client: it loses datagrams. */
#include "egress/rtspd_udp.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/sockbuf.h"
#include "common/udppair.h"
#include "egress/worker.h"

#define RTSPD_UDP_READS  32        /* datagrams read per socket per wakeup, then yield */
#define RTSPD_UDP_SNDBUF (4 << 20) /* a keyframe to every UDP reader of the worker */

static void rtspd_udp_readable(uv_poll_t *h, int status, int events);

int rtspd_udp_open(struct worker *w, const union viewer_addr *a)
{
    struct rtspd *r = &w->rtsp;
    const struct config *cfg = &w->cfg;
    int rc = udppair_bind(&a->sa, cfg->rtsp_udp_lo, cfg->rtsp_udp_hi, r->udp_fd, &r->udp_port);
    if (rc < 0) /* -EADDRNOTAVAIL names a full range; the kernel's ports are only busy */
        return rc == -EADDRNOTAVAIL && !cfg->rtsp_udp_lo ? -EADDRINUSE : rc;
    r->udp_v6 = a->sa.sa_family == AF_INET6;
    log_info("rtsp: readers over UDP get RTP/RTCP from ports %u-%u", r->udp_port, r->udp_port + 1);
    for (unsigned i = 0; i < 2; i++) {
        (void)sockbuf_set_snd(r->udp_fd[i], RTSPD_UDP_SNDBUF);
        if ((rc = uv_poll_init(w->loop, &r->udp_poll[i], r->udp_fd[i])) < 0)
            return rc;
        r->udp_poll[i].data = w;
        r->udp_polling |= (uint8_t)(1u << i);
        if ((rc = uv_poll_start(&r->udp_poll[i], UV_READABLE, rtspd_udp_readable)) < 0)
            return rc;
    }
    return 0;
}

void rtspd_udp_shutdown(struct worker *w)
{
    for (unsigned i = 0; i < 2; i++)
        if (w->rtsp.udp_polling & (1u << i))
            uv_close((uv_handle_t *)&w->rtsp.udp_poll[i], NULL);
    w->rtsp.udp_polling = 0;
}

void rtspd_udp_free(struct worker *w)
{
    for (unsigned i = 0; i < 2; i++) {
        if (w->rtsp.udp_fd[i] >= 0)
            close(w->rtsp.udp_fd[i]);
        w->rtsp.udp_fd[i] = -1;
    }
}

int rtspd_udp_dest(const struct worker *w, struct rtspd_conn *c, unsigned track,
                   const int client_port[2])
{
    const struct rtspd *r = &w->rtsp;
    if (r->udp_fd[0] < 0 || track >= MEDIA_MAX_TRACKS)
        return -EPROTONOSUPPORT;
    if (client_port[0] < 1 || client_port[0] > 65535 || client_port[1] < 1 ||
        client_port[1] > 65535)
        return -EINVAL;
    /* The client's own address only, never a Transport destination=: we cannot be made to
     * send a stream at a third party. */
    for (unsigned k = 0; k < 2; k++) {
        union viewer_addr *d = (union viewer_addr *)&c->udp.dst[2 * track + k];
        uint16_t port = htons((uint16_t)client_port[k]);
        memset(d, 0, sizeof(*d));
        if (!r->udp_v6 && c->base.peer.sa.sa_family == AF_INET) {
            d->in = c->base.peer.in;
            d->in.sin_port = port;
        } else if (r->udp_v6 && c->base.peer.sa.sa_family == AF_INET) { /* v4-mapped */
            d->in6.sin6_family = AF_INET6;
            d->in6.sin6_addr.s6_addr[10] = d->in6.sin6_addr.s6_addr[11] = 0xff;
            memcpy(&d->in6.sin6_addr.s6_addr[12], &c->base.peer.in.sin_addr, 4);
            d->in6.sin6_port = port;
        } else if (r->udp_v6) {
            d->in6 = c->base.peer.in6;
            d->in6.sin6_port = port;
        } else {
            return -EAFNOSUPPORT;
        }
    }
    c->udp.fd[0] = r->udp_fd[0];
    c->udp.fd[1] = r->udp_fd[1];
    c->udp.len = r->udp_v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    return 0;
}

uint32_t rtspd_udp_source(const struct worker *w, const struct rtspd_conn *c)
{
    union viewer_addr local;
    socklen_t len = sizeof(local);
    if (w->rtsp.udp_v6 || getsockname(c->base.fd, &local.sa, &len) < 0 ||
        viewer_addr_unmap(&local) < 0 || local.sa.sa_family != AF_INET)
        return 0;
    return local.in.sin_addr.s_addr;
}

static bool rtspd_udp_same(const union viewer_addr *a, const union viewer_addr *b)
{
    if (a->sa.sa_family != b->sa.sa_family)
        return false;
    if (a->sa.sa_family == AF_INET)
        return a->in.sin_port == b->in.sin_port && a->in.sin_addr.s_addr == b->in.sin_addr.s_addr;
    return a->in6.sin6_port == b->in6.sin6_port &&
           memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr, 16) == 0;
}

/* The playing UDP session one of whose tracks sends its RTCP from src, or NULL. */
static struct rtspd_conn *rtspd_udp_find(struct worker *w, const union viewer_addr *src)
{
    for (int32_t i = 0; i < w->rtsp.tab.fresh; i++) {
        struct rtspd_conn *c = rtspd_at(&w->rtsp, i);
        if (c->base.state != CONNTAB_OPEN || !c->playing || c->lower != RTSPD_LOWER_UDP)
            continue;
        for (unsigned t = 0; t < MEDIA_MAX_TRACKS; t++)
            if ((c->tracks[t].flags & MEDIA_TRACK_SEND) &&
                rtspd_udp_same((const union viewer_addr *)&c->udp.dst[2 * t + 1], src))
                return c;
    }
    return NULL;
}

/* RTCP socket: a client's receiver reports go to its session (and keep it alive), anything
 * else is counted and dropped. RTP socket: clients send a few datagrams there to open their
 * NAT (ffmpeg, live555); they are read and dropped. */
static void rtspd_udp_readable(uv_poll_t *h, int status, int events)
{
    struct worker *w = h->data;
    unsigned which = h == &w->rtsp.udp_poll[1];
    if (status < 0 || !(events & UV_READABLE) || w->stopping)
        return;
    static uint8_t buf[2048];
    for (int i = 0; i < RTSPD_UDP_READS; i++) {
        union viewer_addr src;
        socklen_t sl = sizeof(src);
        ssize_t n = recvfrom(w->rtsp.udp_fd[which], buf, sizeof(buf), 0, &src.sa, &sl);
        if (n < 0)
            return; /* EAGAIN, or an ICMP error queued by an earlier send */
        if (!which)
            continue;
        struct rtspd_conn *c = rtspd_udp_find(w, &src);
        if (!c) {
            w->drops_unknown++;
            continue;
        }
        c->base.rx_ns = ctl_now_ns();
        (void)media_input(w->media, &c->v, buf, (size_t)n); /* malformed: counted there */
    }
}
