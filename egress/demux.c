/* SPDX-License-Identifier: MIT */
/* demux.c: the worker's UDP media socket. Datagrams are read in batches and sorted by first
 * byte (RFC 7983). An authenticated ICE check makes its source address one of the session's
 * candidate pairs (an address belongs to one live session); DTLS runs only on such a pair and
 * media starts on the pair that completed it, which is then bound: SRTCP and consent count
 * only there. A pair the viewer nominates later gets media once it answers our own consent
 * request (RFC 7675), which proves the viewer receives there. ICE-TCP connections (icetcp.c)
 * hand their frames here too: a connection is a pair, found through it rather than by
 * address. */
#include "egress/demux.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "common/log.h"
#include "common/reuseport.h"
#include "common/sockbuf.h"
#include "egress/adopt.h"
#include "rtc/icelite.h"
#include "egress/icetcp.h"
#include "egress/worker.h"

#define DEMUX_RX_BATCH  32
#define DEMUX_RX_ROUNDS 4
#define DEMUX_RCVBUF    (4 << 20)
#define DEMUX_RX_MAX    2048 /* larger datagrams (none we expect) are dropped */
/* A renominated pair's consent request is repeated with the peer's checks, at most this
 * often: a lost request or answer costs one check interval, not the move. */
#define DEMUX_PROBE_INTERVAL_NS (200 * 1000000ull)

static void demux_drop(struct worker *w)
{
    w->drops_unknown++;
    ctl_count(&w->counters->rx_unknown, 1);
}

/* Sends from local (the address the peer's checks arrived at) when known: the socket is
 * bound to the wildcard address, and a reply from another source address fails the
 * peer's check (RFC 8445 7.2.5.2.1) or lands on a pair it did not select. */
static void demux_send_from(struct worker *w, const union viewer_addr *dst, uint32_t local,
                            const uint8_t *p, size_t len)
{
    struct iovec iov = {.iov_base = (void *)p, .iov_len = len};
    union {
        char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
        struct cmsghdr align;
    } ctrl;
    struct msghdr mh = {.msg_name = (void *)&dst->sa,
                        .msg_namelen = viewer_addr_len(dst),
                        .msg_iov = &iov,
                        .msg_iovlen = 1};
    if (local) {
        memset(&ctrl, 0, sizeof(ctrl));
        mh.msg_control = ctrl.buf;
        mh.msg_controllen = sizeof(ctrl.buf);
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = IPPROTO_IP;
        c->cmsg_type = IP_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
        struct in_pktinfo pi = {.ipi_spec_dst.s_addr = local};
        memcpy(CMSG_DATA(c), &pi, sizeof(pi));
    }
    if (sendmsg(w->udp_fd, &mh, MSG_DONTWAIT) < 0)
        ctl_count(&w->counters->send_drops, 1);
}

/* Sends on one of v's pairs: its connection for ICE-TCP, else from the checked address. */
static void demux_send_pair(struct worker *w, const struct viewer *v, int pair, const uint8_t *p,
                            size_t len)
{
    const struct viewer_pair *vp = &v->pairs[pair];
    if (vp->tcp)
        icetcp_send(w, vp->conn, p, len);
    else
        demux_send_from(w, &vp->addr, vp->local, p, len);
}

/* The session one of whose pairs src is, with the pair's index. */
static struct viewer *demux_find(struct worker *w, const struct demux_src *src, int *pair)
{
    if (src->conn >= 0)
        return viewer_by_conn(&w->viewers, icetcp_owner(w, src->conn), src->conn, pair);
    return viewer_by_addr(&w->viewers, src->sa, pair);
}

/* The media record's view of one of v's pairs. */
static struct tcpq *demux_pair_queue(struct worker *w, const struct viewer_pair *vp)
{
    return vp->tcp ? icetcp_queue(w, vp->conn) : NULL;
}

/* ---- DTLS, on the pair it arrives on ---- */

static void demux_dtls_send(void *arg, const uint8_t *p, size_t len)
{
    struct viewer *v = arg;
    int pair = v->state == VIEWER_MEDIA ? v->bound : v->dtls_pair;
    if (pair >= 0)
        demux_send_pair(v->owner, v, pair, p, len);
}

static void demux_dtls_connected(void *arg, const struct dtlsrv_keys *keys)
{
    struct viewer *v = arg;
    struct worker *w = v->owner;
    /* The pair that carried the handshake is the one the viewer proved it receives on: the
     * server's flights went there, and the viewer's Finished answered them. */
    v->bound = v->dtls_pair;
    v->dtls_pair = -1;
    const struct viewer_pair *vp = &v->pairs[v->bound];
    viewer_format_addr(&vp->addr.sa, v->peer, sizeof(v->peer));
    struct media_viewer_params p = {
        .path = v->path,
        .remote = &vp->addr.sa,
        .remote_len = viewer_addr_len(&vp->addr),
        .tcp = demux_pair_queue(w, vp),
        .local_addr = vp->local,
        .srtp_profile = keys->profile,
        .keying = keys->material,
        .keying_len = keys->len,
    };
    memcpy(p.tracks, v->tracks, sizeof(p.tracks));
    int err = media_viewer_start(w->media, &v->media, &p);
    if (err < 0) {
        char reason[96];
        snprintf(reason, sizeof(reason), "media could not start (%s)", strerror(-err));
        worker_end_session(w, v, reason);
        return;
    }
    v->state = VIEWER_MEDIA;
    v->media_ns = v->consent_ns = ctl_now_ns();
    adopt_save(w, v);
    log_info("whep %s: session %s of %s connected (%sDTLS-SRTP %s)", v->path, v->session, v->peer,
             vp->tcp ? "ICE-TCP, " : "",
             keys->profile == ESRTP_AEAD_AES_128_GCM ? "AEAD_AES_128_GCM"
                                                     : "AES_CM_128_HMAC_SHA1_80");
}

static void demux_dtls_failed(void *arg, int err, const char *reason)
{
    struct viewer *v = arg;
    struct worker *w = v->owner;
    char why[160];
    snprintf(why, sizeof(why), "DTLS failed: %s (%s)", reason, strerror(-err));
    ctl_count(&w->counters->dtls_failures, 1);
    worker_end_session(w, v, why);
}

/* The viewer retransmitted its Finished: it never got ours, so it dropped the media sent
 * since; it gets it again from the latest keyframe instead of waiting for the next one. */
static void demux_dtls_resent(void *arg)
{
    struct viewer *v = arg;
    struct worker *w = v->owner;
    if (v->state != VIEWER_MEDIA)
        return;
    media_viewer_restart(w->media, &v->media);
    log_debug("whep %s: session %s: our last DTLS flight resent; media restarts at the latest "
              "keyframe",
              v->path, v->session);
}

static const struct dtlsrv_callbacks demux_dtls_cb = {
    .send = demux_dtls_send,
    .connected = demux_dtls_connected,
    .failed = demux_dtls_failed,
    .resent = demux_dtls_resent,
};

/* ---- ICE checks, consent and pair moves ---- */

static const char *demux_ice_lookup(void *arg, const char *local_ufrag, const char *remote_ufrag,
                                    void **session)
{
    (void)remote_ufrag; /* aiortc sends the tagged section's or its own; ours identifies */
    struct worker *w = arg;
    struct viewer *v = viewer_by_ufrag(&w->viewers, local_ufrag);
    *session = v;
    return v ? v->pwd : NULL;
}

/* Asks the peer, on the pair it nominated, to prove that it receives there (RFC 7675 5.1):
 * a fresh transaction each time, so only an answer to what reached that address counts. */
static void demux_probe(struct worker *w, struct viewer *v, int pair, uint64_t now)
{
    if (v->probe_pair == pair && now - v->probe_ns < DEMUX_PROBE_INTERVAL_NS)
        return;
    uint8_t req[ICELITE_REQUEST_MAX];
    if (getrandom(v->probe_tid, sizeof(v->probe_tid), 0) != (ssize_t)sizeof(v->probe_tid))
        return;
    int n = icelite_consent_request(req, v->remote_ufrag, v->ufrag, v->remote_pwd, v->probe_tid);
    if (n < 0)
        return;
    v->probe_pair = (int8_t)pair;
    v->probe_ns = now;
    demux_send_pair(w, v, pair, req, (size_t)n);
}

void demux_consent_probe(struct worker *w, struct viewer *v, uint64_t now)
{
    if (v->probe_pair < 0 || v->probe_pair == v->bound) /* a renomination's answer does too */
        demux_probe(w, v, v->bound, now);
}

/* The answer to a consent request: on the bound pair, consent; on another, the session moves
 * to that pair for media, SRTCP and consent alike. */
static void demux_probe_answer(struct worker *w, const uint8_t *p, size_t len,
                               const struct demux_src *src)
{
    int pair;
    struct viewer *v = demux_find(w, src, &pair);
    if (!v || pair != v->probe_pair ||
        icelite_consent_response(p, len, v->probe_tid, v->remote_pwd) < 0) {
        demux_drop(w);
        return;
    }
    v->probe_pair = -1;
    v->consent_ns = ctl_now_ns();
    if (v->state != VIEWER_MEDIA || pair == v->bound)
        return;
    const struct viewer_pair *vp = &v->pairs[pair];
    v->bound = (int8_t)pair;
    media_viewer_move(w->media, &v->media, &vp->addr.sa, viewer_addr_len(&vp->addr), vp->local,
                      demux_pair_queue(w, vp));
    adopt_save(w, v);
    char from[64];
    snprintf(from, sizeof(from), "%s", v->peer);
    viewer_format_addr(src->sa, v->peer, sizeof(v->peer));
    ctl_count(&w->counters->pair_moves, 1);
    log_info("whep %s: session %s moved from %s to %s (nominated, answered our consent check)",
             v->path, v->session, from, v->peer);
}

/* Records an authenticated check of v from src as one of its pairs: its index, or -EADDRINUSE
 * when the address (or connection) is another session's. */
static int demux_pair_checked(struct worker *w, struct viewer *v, const struct demux_src *src,
                              uint64_t now)
{
    if (src->conn < 0)
        return viewer_pair_checked(&w->viewers, v, src->sa, src->local, now);
    int pair;
    int32_t owner = icetcp_owner(w, src->conn);
    if (owner >= 0 && owner != viewer_index(&w->viewers, v) &&
        viewer_by_conn(&w->viewers, owner, src->conn, &pair))
        return -EADDRINUSE;
    icetcp_claim(w, src->conn, v);
    return viewer_pair_checked_tcp(&w->viewers, v, src->sa, src->conn, now);
}

static void demux_stun(struct worker *w, const uint8_t *p, size_t len, const struct demux_src *src)
{
    const struct sockaddr *sa = src->sa;
    struct icelite_result r;
    int err = icelite_handle(p, len, sa, demux_ice_lookup, w, &r);
    if (err == -ENOTSUP) {
        demux_probe_answer(w, p, len, src);
        return;
    }
    if (err < 0) {
        demux_drop(w);
        return;
    }
    struct viewer *v = r.session;
    uint64_t now = ctl_now_ns();
    int pair = demux_pair_checked(w, v, src, now);
    if (pair == -ENOMEM) {
        demux_drop(w);
        return;
    }
    if (pair < 0) {
        /* The check authenticates, but its address is another session's: answering would let
         * one session's credentials claim, or probe, another viewer's address. */
        char from[64];
        viewer_format_addr(sa, from, sizeof(from));
        ctl_count(&w->counters->addr_conflicts, 1);
        log_debug("whep %s: session %s: check from %s refused: the address belongs to another "
                  "session",
                  v->path, v->session, from);
        return;
    }
    demux_send_pair(w, v, pair, r.response, r.response_len);
    v->pairs[pair].nominated |= (uint8_t)r.use_candidate;
    if (v->state == VIEWER_MEDIA) {
        if (pair == v->bound)
            v->consent_ns = now; /* RFC 7675: consent is per pair, the one media uses */
        else if (r.use_candidate)
            demux_probe(w, v, pair, now);
        return;
    }
    v->consent_ns = now; /* set-up: any checked pair shows the viewer is still there */
    if (v->state == VIEWER_ICE) {
        err = dtlsrv_conn_new(&v->dtls, w->dtls, w->loop, &v->remote_fp, &demux_dtls_cb, v);
        if (err < 0) {
            worker_end_session(w, v, "cannot create DTLS state");
            return;
        }
        v->state = VIEWER_DTLS;
        v->dtls_pair = (int8_t)pair;
        viewer_format_addr(sa, v->peer, sizeof(v->peer));
        log_debug("whep %s: session %s: ICE check from %s, DTLS next", v->path, v->session,
                  v->peer);
        /* A check of ours on the pair the viewer just validated: a controlling agent that
         * nominates by a later check of its own (pion's: its next tick, 200 ms on) nominates
         * on receiving it, as with a full agent's triggered check (RFC 8445 7.3.1.4). */
        if (!r.use_candidate)
            demux_probe(w, v, pair, now);
    }
}

void demux_packet(struct worker *w, const uint8_t *p, size_t len, const struct demux_src *src)
{
    uint8_t b = p[0];
    /* RFC 7983 7: 0..3 STUN, 20..63 DTLS, 128..191 RTP/RTCP; the rest is dropped. */
    if (b <= 3) {
        demux_stun(w, p, len, src);
        return;
    }
    int pair;
    struct viewer *v = demux_find(w, src, &pair);
    if (!v) {
        demux_drop(w);
        return;
    }
    if (b >= 20 && b <= 63 && v->dtls && (v->state == VIEWER_DTLS || pair == v->bound)) {
        /* During the handshake the viewer may change pairs: the server's flights follow it.
         * Once media runs, only the bound pair's retransmitted flights are answered. */
        if (v->state == VIEWER_DTLS)
            v->dtls_pair = (int8_t)pair;
        dtlsrv_conn_input(v->dtls, p, len);
    } else if (b >= 128 && b <= 191 && v->state == VIEWER_MEDIA && pair == v->bound) {
        /* SRTCP from the peer proves it finished the handshake: DTLS state can go. */
        if (v->dtls) {
            dtlsrv_conn_free(v->dtls);
            v->dtls = NULL;
        }
        (void)media_input(w->media, &v->media, p, len); /* counted by media */
    } else {
        demux_drop(w);
    }
}

/* ---- the receive loop ---- */

/* Receive buffers, sized once: one batch of datagrams per recvmmsg (one worker per
 * process, used only on the loop's thread). */
static struct demux_rx {
    struct mmsghdr msg[DEMUX_RX_BATCH];
    struct iovec iov[DEMUX_RX_BATCH];
    union viewer_addr from[DEMUX_RX_BATCH];
    union {
        char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
        struct cmsghdr align;
    } ctrl[DEMUX_RX_BATCH];
    uint8_t data[DEMUX_RX_BATCH][DEMUX_RX_MAX];
} demux_rx;

static uint32_t demux_rx_local(struct msghdr *mh)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c))
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            struct in_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof(pi));
            return pi.ipi_addr.s_addr;
        }
    return 0;
}

static void demux_readable(uv_poll_t *h, int status, int events)
{
    struct worker *w = h->data;
    if (status < 0 || !(events & UV_READABLE))
        return;
    struct demux_rx *rx = &demux_rx;
    /* Bounded: a flood yields to the loop after a few batches. */
    for (int round = 0; round < DEMUX_RX_ROUNDS && !w->stopping; round++) {
        for (int i = 0; i < DEMUX_RX_BATCH; i++) {
            rx->iov[i] = (struct iovec){.iov_base = rx->data[i], .iov_len = DEMUX_RX_MAX};
            rx->msg[i].msg_hdr = (struct msghdr){.msg_name = &rx->from[i],
                                                 .msg_namelen = sizeof(rx->from[i]),
                                                 .msg_iov = &rx->iov[i],
                                                 .msg_iovlen = 1,
                                                 .msg_control = rx->ctrl[i].buf,
                                                 .msg_controllen = sizeof(rx->ctrl[i].buf)};
        }
        int n = recvmmsg(w->udp_fd, rx->msg, DEMUX_RX_BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0)
            return;
        for (int i = 0; i < n && !w->stopping; i++) {
            struct msghdr *mh = &rx->msg[i].msg_hdr;
            size_t len = rx->msg[i].msg_len;
            /* the socket sends to either form of an IPv4 peer; we keep the plain one */
            if (len == 0 || (mh->msg_flags & MSG_TRUNC) || viewer_addr_unmap(&rx->from[i]) < 0) {
                demux_drop(w);
                continue;
            }
            struct demux_src src = {.sa = &rx->from[i].sa, .local = demux_rx_local(mh), .conn = -1};
            demux_packet(w, rx->data[i], len, &src);
        }
        if (n < DEMUX_RX_BATCH)
            return;
    }
}

/* SO_REUSEPORT: a successor binds the port while its predecessor still serves, and the
 * kernel hashes each 5-tuple to one of the two sockets until the predecessor closes its own
 * (egress/adopt.h: a planned handover). */
int demux_open(struct worker *w)
{
    int one = 1, zero = 0, err = 0;
    w->udp_fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    w->udp_v6 = w->udp_fd >= 0;
    if (w->udp_v6) {
        struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6,
                                    .sin6_port = htons(w->udp_port),
                                    .sin6_addr = IN6ADDR_ANY_INIT};
        if (setsockopt(w->udp_fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) < 0 ||
            setsockopt(w->udp_fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) < 0)
            err = -errno;
        else
            err = reuseport_bind(w->udp_fd, (struct sockaddr *)&sin6, sizeof(sin6),
                                 w->predecessor > 0);
    } else {
        struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(w->udp_port)};
        w->udp_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (w->udp_fd < 0 || setsockopt(w->udp_fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) < 0)
            err = -errno;
        else
            err =
                reuseport_bind(w->udp_fd, (struct sockaddr *)&sin, sizeof(sin), w->predecessor > 0);
    }
    if (err < 0)
        return err;
    /* Every viewer's RRs and consent checks arrive here while the loop may be busy sending a
     * keyframe to all of them: the default 208 KiB held ~200 datagrams, and at 1,500 viewers
     * whole rounds of consent checks were dropped until sessions expired. Best effort, as
     * for the send buffer. */
    (void)sockbuf_set_rcv(w->udp_fd, DEMUX_RCVBUF);
    return worker_poll_readable(w, &w->udp_poll, w->udp_fd, WORKER_OPEN_UDP, demux_readable);
}
