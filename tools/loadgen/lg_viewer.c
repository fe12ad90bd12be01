/* SPDX-License-Identifier: MIT */
/* lg_viewer.c: one simulated viewer after its WHEP answer: ICE checks as the controlling
 * full agent, the DTLS handshake, then the media path (recvmmsg batches, or RFC 4571 frames
 * of an ICE-TCP connection, SRTP unprotect, sequence accounting, deliberate drops and their
 * NACKs, RRs, consent). */
#include "tools/loadgen/lg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <unistd.h>

#include "codec/rtcp.h"
#include "common/log.h"
#include "common/sockbuf.h"

/* RFC 8445 5.1.2.1: a peer-reflexive candidate's priority (type preference 110). */
#define LG_PRFLX_PRIORITY ((110u << 24) | (65535u << 8) | 255u)
#define LG_STUN_RTO_MS    100
#define LG_NOMINATE_MS    200  /* --regular-nomination: pion's check interval */
#define LG_TCP_TAIL_MS    1000 /* a frame the send buffer took in part: time to finish it */

static void viewer_fail(struct lg *lg, struct lg_viewer *v, int err, const char *what)
{
    lg_viewer_close(v);
    v->state = LG_V_FAILED;
    if (v->setup) {
        lg_setup_finished(lg, v, err, what);
        return;
    }
    /* After its set-up (an ICE-TCP connection closed): the report counts it as lost. Our
     * DELETEs at the end close them too: no news then. */
    if (lg->phase < LG_P_TEARDOWN)
        log_warn("viewer %u (%s): %s: %s", v->idx, lg->path, what, strerror(-err));
}

/* --tcp: the rest of a frame the socket took in part must follow, or the stream is out of
 * step for good. The client sends little (checks, RRs, NACKs), so this is rare: wait for room
 * a bounded time, else shut the connection down (the read side then fails the viewer). */
static int tcp_send_tail(int fd, const uint8_t *p, size_t len)
{
    uint64_t end_ms = uv_hrtime() / 1000000 + LG_TCP_TAIL_MS;
    while (len) {
        ssize_t n = send(fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        uint64_t now_ms = uv_hrtime() / 1000000;
        struct pollfd pf = {.fd = fd, .events = POLLOUT};
        if ((n < 0 && errno != EAGAIN && errno != EINTR) || now_ms >= end_ms ||
            poll(&pf, 1, (int)(end_ms - now_ms)) < 0) {
            (void)shutdown(fd, SHUT_RDWR);
            return -EPIPE;
        }
    }
    return 0;
}

static int viewer_send(void *arg, const uint8_t *p, size_t len)
{
    struct lg_viewer *v = arg;
    if (!v->rx) {
        ssize_t n = send(v->fd, p, len, MSG_DONTWAIT);
        return n < 0 ? -errno : 0;
    }
    if (v->tcp_connecting)
        return -ENOTCONN; /* checks are retransmitted, the first goes out once connected */
    uint8_t hdr[TCPFRAME_HDR];
    tcpframe_header(hdr, len);
    struct iovec iov[2] = {{.iov_base = hdr, .iov_len = sizeof(hdr)},
                           {.iov_base = (void *)p, .iov_len = len}};
    struct msghdr m = {.msg_iov = iov, .msg_iovlen = 2};
    ssize_t n = sendmsg(v->fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0)
        return -errno; /* nothing of the frame went out: the stream is still in step */
    if ((size_t)n == sizeof(hdr) + len)
        return 0;
    if ((size_t)n < sizeof(hdr) && tcp_send_tail(v->fd, hdr + n, sizeof(hdr) - (size_t)n) != 0)
        return -EPIPE;
    size_t done = (size_t)n > sizeof(hdr) ? (size_t)n - sizeof(hdr) : 0;
    return tcp_send_tail(v->fd, p + done, len - done);
}

static int viewer_open_udp(struct lg *lg, struct lg_viewer *v)
{
    v->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (v->fd < 0)
        return -errno;
    /* A keyframe is a burst of tens of packets per viewer; a large buffer keeps the
     * instrument from dropping it (SO_RCVBUFFORCE as root, else capped by rmem_max). */
    if (lg->opt.rcvbuf > 0)
        (void)sockbuf_set_rcv(v->fd, lg->opt.rcvbuf);
    int one = 1;
    if (lg->opt.gro && setsockopt(v->fd, SOL_UDP, UDP_GRO, &one, sizeof(one)) != 0)
        return -errno;
    socklen_t sl = sizeof(v->laddr);
    if (bind(v->fd, (struct sockaddr *)&v->laddr, sizeof(v->laddr)) != 0 ||
        getsockname(v->fd, (struct sockaddr *)&v->laddr, &sl) != 0)
        return -errno;
    return 0;
}

/* --tcp: the socket is bound to the viewer's address now (the offer names it) and connects
 * once the answer gives the server's passive candidate; the port is chosen then. */
static int viewer_open_tcp(struct lg *lg, struct lg_viewer *v)
{
    v->rx = calloc(1, sizeof(*v->rx));
    if (!v->rx)
        return -ENOMEM;
    v->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (v->fd < 0)
        return -errno;
    if (lg->opt.rcvbuf > 0)
        (void)sockbuf_set_rcv(v->fd, lg->opt.rcvbuf);
    int one = 1;
    if (setsockopt(v->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one)) != 0 ||
        setsockopt(v->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0 ||
        bind(v->fd, (struct sockaddr *)&v->laddr, sizeof(v->laddr)) != 0)
        return -errno;
    return 0;
}

int lg_viewer_open(struct lg *lg, struct lg_viewer *v)
{
    v->laddr.sin_family = AF_INET;
    v->laddr.sin_port = 0;
    if (inet_pton(AF_INET, lg->opt.local_ip, &v->laddr.sin_addr) != 1)
        return -EINVAL;
    v->laddr.sin_addr.s_addr = htonl(ntohl(v->laddr.sin_addr.s_addr) + v->idx % lg->opt.ips);
    int err = lg->opt.tcp ? viewer_open_tcp(lg, v) : viewer_open_udp(lg, v);
    if (err)
        return err;
    lg_rand_str(lg, v->ufrag, sizeof(v->ufrag));
    lg_rand_str(lg, v->pwd, sizeof(v->pwd));
    v->ssrc = (uint32_t)lg_rand(lg);
    v->first_frame_ms = -1;
    return 0;
}

void lg_viewer_close(struct lg_viewer *v)
{
    free(v->rx);
    v->rx = NULL;
    if (v->srtp) {
        srtp_dealloc(v->srtp);
        v->srtp = NULL;
    }
    if (v->fd >= 0) {
        close(v->fd); /* leaves the epoll set with it */
        v->fd = -1;
    }
}

static void send_check(struct lg *lg, struct lg_viewer *v, const uint8_t *tid, int nominate)
{
    char user[2 * LG_ICE_STR_MAX];
    uint8_t buf[512];
    snprintf(user, sizeof(user), "%s:%s", v->rufrag, v->ufrag);
    struct lg_stun_req req = {.tid = tid,
                              .username = user,
                              .remote_pwd = v->rpwd,
                              .priority = LG_PRFLX_PRIORITY,
                              .tiebreaker = lg->tiebreaker,
                              .use_candidate = nominate};
    int n = lg_stun_request(buf, sizeof(buf), &req);
    if (n > 0)
        (void)viewer_send(v, buf, (size_t)n); /* lost checks are retransmitted */
}

static void new_tid(struct lg *lg, uint8_t tid[LG_STUN_TID_LEN])
{
    for (int i = 0; i < LG_STUN_TID_LEN; i += 8) {
        uint64_t r = lg_rand(lg);
        memcpy(tid + i, &r, LG_STUN_TID_LEN - i < 8 ? LG_STUN_TID_LEN - i : 8);
    }
}

int lg_viewer_answer(struct lg *lg, struct lg_viewer *v, const uint8_t *sdp, size_t len)
{
    struct lg_answer a;
    int err = lg_sdp_parse_answer(sdp, len, &a);
    if (err)
        return err;
    /* We offered a=setup:active, so the answerer must be the DTLS server (RFC 5763 5).
     * pion v3.1 answers "active" anyway yet acts as the server; a server that really
     * acted as a client would fail the handshake, which is reported as a DTLS failure. */
    memcpy(v->rufrag, a.ice_ufrag, sizeof(v->rufrag));
    memcpy(v->rpwd, a.ice_pwd, sizeof(v->rpwd));
    memcpy(v->rfp, a.fingerprint, sizeof(v->rfp));
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = v};
    if (lg->opt.tcp) {
        if (!a.has_tcp_cand)
            return -EBADMSG; /* the server offers no ICE-TCP */
        v->raddr = a.tcp_cand;
        /* Non-blocking: the first check goes out when the connection is up (EPOLLOUT). */
        if (connect(v->fd, (struct sockaddr *)&v->raddr, sizeof(v->raddr)) != 0) {
            if (errno != EINPROGRESS)
                return -errno;
            v->tcp_connecting = 1;
            ev.events |= EPOLLOUT;
        }
    } else {
        v->raddr = a.cand;
        /* Connected: the kernel filters other sources and send() needs no address. */
        if (connect(v->fd, (struct sockaddr *)&v->raddr, sizeof(v->raddr)) != 0)
            return -errno;
    }
    if (epoll_ctl(lg->media_ep, EPOLL_CTL_ADD, v->fd, &ev) != 0)
        return -errno;
    v->t_answer_ms = uv_now(lg->loop);
    v->state = LG_V_ICE;
    struct lg_setup *s = v->setup;
    new_tid(lg, s->tid);
    s->nom = lg->opt.regular_nom ? LG_NOM_CHECKING : LG_NOM_ALWAYS;
    send_check(lg, v, s->tid, s->nom != LG_NOM_CHECKING);
    s->next_stun_ms = v->t_answer_ms + LG_STUN_RTO_MS;
    return 0;
}

void lg_viewer_setup_tick(struct lg *lg, struct lg_viewer *v, uint64_t now_ms)
{
    struct lg_setup *s = v->setup;
    if (now_ms >= s->deadline_ms) {
        viewer_fail(lg, v, -ETIMEDOUT,
                    v->state == LG_V_ICE    ? "ICE"
                    : v->state == LG_V_DTLS ? "DTLS"
                                            : "HTTP");
        return;
    }
    if (v->state == LG_V_ICE && now_ms >= s->next_stun_ms) {
        if (s->nom == LG_NOM_VALID)
            s->nom = LG_NOM_SENT;
        send_check(lg, v, s->tid, s->nom != LG_NOM_CHECKING);
        s->next_stun_ms = now_ms + LG_STUN_RTO_MS;
    } else if (v->state == LG_V_DTLS) {
        lg_dtls_timer(&s->dtls, viewer_send, v);
    }
}

static void on_stun(struct lg *lg, struct lg_viewer *v, const uint8_t *p, size_t len)
{
    uint8_t tid[LG_STUN_TID_LEN], buf[256];
    int kind = lg_stun_check(p, len, v->ufrag, v->pwd, v->rpwd, tid);
    if (kind == LG_STUN_REQUEST) {
        /* A full-ICE server checks us too (RFC 8445 7.3); answer from the pair's address. */
        int n = lg_stun_success(buf, sizeof(buf), tid, &v->raddr, v->pwd);
        if (n > 0)
            (void)viewer_send(v, buf, (size_t)n);
        /* pion nominates a validated pair when the peer checks it (a triggered check). */
        if (v->state == LG_V_ICE && v->setup->nom == LG_NOM_VALID) {
            v->setup->nom = LG_NOM_SENT;
            send_check(lg, v, v->setup->tid, 1);
            v->setup->next_stun_ms = uv_now(lg->loop) + LG_STUN_RTO_MS;
        }
        return;
    }
    if (kind != LG_STUN_SUCCESS || v->state != LG_V_ICE ||
        memcmp(tid, v->setup->tid, LG_STUN_TID_LEN) != 0)
        return; /* consent responses and stray messages need no action */
    if (v->setup->nom == LG_NOM_CHECKING) {
        /* The pair is valid: nominate it at the next check tick. */
        v->setup->nom = LG_NOM_VALID;
        new_tid(lg, v->setup->tid);
        v->setup->next_stun_ms = uv_now(lg->loop) + LG_NOMINATE_MS;
        return;
    }
    v->state = LG_V_DTLS;
    int err = lg_dtls_start(&v->setup->dtls, &lg->dtls, viewer_send, v);
    if (err)
        viewer_fail(lg, v, err, "DTLS start");
}

static void on_dtls(struct lg *lg, struct lg_viewer *v, const uint8_t *p, size_t len)
{
    if (v->state != LG_V_DTLS)
        return; /* e.g. a retransmitted final flight or close_notify: nothing to do */
    struct lg_setup *s = v->setup;
    int r = lg_dtls_input(&s->dtls, p, len, viewer_send, v);
    if (r == 0)
        return;
    if (r > 0)
        r = lg_dtls_srtp(&s->dtls, v->rfp, v->ssrc, &v->srtp, &v->tag_len, &v->gcm);
    lg_dtls_free(&s->dtls); /* the handshake state is not needed once keys exist */
    if (r < 0) {
        viewer_fail(lg, v, r, r == -EACCES ? "DTLS fingerprint mismatch" : "DTLS");
        return;
    }
    v->state = LG_V_MEDIA;
    lg_setup_finished(lg, v, 0, NULL);
}

static void send_rtcp(struct lg_viewer *v, uint8_t *buf, int len)
{
    /* buf has room for the SRTCP trailer (index + tag, RFC 3711 3.4). */
    if (len <= 0 || srtp_protect_rtcp(v->srtp, buf, &len) != srtp_err_status_ok)
        return;
    (void)viewer_send(v, buf, (size_t)len); /* RTCP is best effort */
}

/* RFC 4585 3.1: feedback travels in a compound that starts with a report, here an empty RR.
 * Returns the length, or -ENOSPC. */
static int rtcp_nack(const struct lg_viewer *v, uint8_t *buf, size_t cap, const uint16_t *seqs,
                     size_t n)
{
    int rr = codec_rtcp_write_rr(buf, cap, v->ssrc, NULL, 0);
    if (rr < 0)
        return rr;
    int nack = codec_rtcp_write_nack(buf + rr, cap - (size_t)rr, v->ssrc, v->media_ssrc, seqs, n);
    return nack < 0 ? nack : rr + nack;
}

static void nack_send(struct lg_viewer *v, uint64_t now_ms, int only_new)
{
    uint16_t seqs[LG_NACK_MAX];
    size_t n = 0;
    for (unsigned i = 0; i < v->n_nack; i++) {
        struct lg_nack_ent *e = &v->nack[i];
        if (only_new ? e->tries != 0 : now_ms - e->sent_ms < LG_NACK_RETRY_MS)
            continue;
        e->tries++;
        e->sent_ms = now_ms;
        seqs[n++] = e->seq;
    }
    v->nack_unsent = 0;
    if (!n)
        return;
    uint8_t buf[1500];
    int len = rtcp_nack(v, buf, sizeof(buf) - 64, seqs, n);
    send_rtcp(v, buf, len);
    v->c.nack_pkts++;
    v->c.nack_seqs += n;
}

void lg_viewer_flood_tick(struct lg *lg, struct lg_viewer *v, uint64_t now_ms)
{
    if (v->state != LG_V_MEDIA || !v->seq.ext_hi)
        return;
    if (!v->flood_t0_ms)
        v->flood_t0_ms = now_ms;
    uint64_t due = (uint64_t)((double)(now_ms - v->flood_t0_ms) * lg->opt.nack_flood / 1000);
    uint16_t seqs[16 * 17];
    for (unsigned i = 0; i < 16 * 17; i++) /* repeated: each group becomes {PID, 0xffff} */
        seqs[i] = (uint16_t)(v->seq.ext_hi - 16 + i % 17);
    for (unsigned n = 0; v->flood_sent < due && n < 64; n++) {
        uint8_t buf[1500];
        int len = rtcp_nack(v, buf, sizeof(buf) - 64, seqs, 16 * 17);
        if (len > 0 && srtp_protect_rtcp(v->srtp, buf, &len) == srtp_err_status_ok &&
            viewer_send(v, buf, (size_t)len) == 0)
            v->c.flood_bytes += (uint64_t)len;
        v->flood_sent++;
    }
}

/* lost: missing on arrival (the network lost it), not dropped here on purpose. */
static void nack_add(struct lg_viewer *v, uint16_t seq, uint64_t now_ms, int lost)
{
    if (v->n_nack == LG_NACK_MAX) {
        memmove(v->nack, v->nack + 1, sizeof(v->nack[0]) * (LG_NACK_MAX - 1));
        v->n_nack--;
        v->c.gave_up++;
    }
    v->nack[v->n_nack++] =
        (struct lg_nack_ent){.seq = seq, .lost = (uint8_t)lost, .dropped_ms = now_ms};
    v->nack_unsent++;
}

static int nack_find(const struct lg_viewer *v, uint16_t seq)
{
    for (unsigned i = 0; i < v->n_nack; i++)
        if (v->nack[i].seq == seq)
            return (int)i;
    return -1;
}

/* A new packet seq skipped some: NACK them as a receiver would (RFC 4585 6.2.1), the newest
 * LG_NACK_MAX at most (a longer gap is an outage, not loss), except those dropped here on
 * purpose, which are NACKed already. */
static void nack_gap(struct lg_viewer *v, uint16_t seq, uint64_t now_ms)
{
    uint16_t gap = (uint16_t)(seq - (uint16_t)v->seq.ext_hi - 1);
    for (uint16_t i = gap > LG_NACK_MAX ? gap - LG_NACK_MAX : 0; i < gap; i++) {
        uint16_t s = (uint16_t)(v->seq.ext_hi + 1 + i);
        if (nack_find(v, s) < 0) {
            nack_add(v, s, now_ms, 1);
            v->c.lost_nacked++;
        }
    }
}

/* A NACKed packet arrived: counts the recovery and its delay since the drop, unless it was
 * dropped before the window (the window's drops and recoveries must pair up) or lost by the
 * network (recoveries pair with deliberate drops only). */
static void nack_recovered(struct lg *lg, struct lg_viewer *v, int i, uint64_t now_ms)
{
    uint64_t d = now_ms - v->nack[i].dropped_ms;
    if (!v->nack[i].lost && v->nack[i].dropped_ms >= lg->win_start_ms) {
        v->c.recovered++;
        v->c.recover_ms_sum += d;
        if (d > v->c.recover_ms_max)
            v->c.recover_ms_max = d;
    }
    v->nack[i] = v->nack[--v->n_nack];
}

struct sr_ctx {
    struct lg_viewer *v;
    uint64_t now_ms;
};

/* What our RRs echo: the middle 32 bits of the SR's NTP time, and when it came (RFC 3550
 * 6.4.1 LSR, DLSR). */
static void on_sr(void *arg, const struct codec_rtcp_sr *sr)
{
    struct sr_ctx *c = arg;
    c->v->sr_ntp_mid = codec_rtcp_ntp_mid(sr->ntp_sec, sr->ntp_frac);
    c->v->sr_at_ms = c->now_ms;
}

void lg_viewer_gap(const struct lg *lg, struct lg_viewer *v, uint64_t now_ms)
{
    if (lg->win_start_ms && now_ms >= lg->win_start_ms &&
        (!lg->win_end_ms || now_ms <= lg->win_end_ms)) {
        uint64_t from = v->last_rx_ms > lg->win_start_ms ? v->last_rx_ms : lg->win_start_ms;
        if (now_ms - from > v->gap_ms_max)
            v->gap_ms_max = now_ms - from;
    }
    v->last_rx_ms = now_ms;
}

static void on_rtcp(struct lg_viewer *v, uint8_t *p, size_t len, uint64_t now_ms)
{
    static const struct codec_rtcp_handler h = {.sr = on_sr};
    int n = (int)len;
    if (v->state != LG_V_MEDIA || srtp_unprotect_rtcp(v->srtp, p, &n) != srtp_err_status_ok)
        return;
    v->c.rtcp_in++;
    struct sr_ctx c = {v, now_ms};
    (void)codec_rtcp_parse(p, (size_t)n, &h, &c); /* authenticated: damage is the server's bug */
}

/* len bytes were captured of a datagram of wire bytes (less when only the header was read:
 * then it is counted from its header, not decrypted); sample: unprotect it (and so check it
 * and look into its payload), else count it from its header alone. */
static void on_rtp(struct lg *lg, struct lg_viewer *v, uint8_t *p, size_t len, size_t wire,
                   int sample, uint64_t now_ns)
{
    struct lg_rtp_hdr h;
    if (v->state != LG_V_MEDIA || lg_rtp_parse(p, len, &h) != 0 ||
        wire < h.hdr_len + (size_t)v->tag_len)
        return;
    if (!v->media_ssrc)
        v->media_ssrc = h.ssrc;
    enum lg_seq_class cls = lg_seq_peek(&v->seq, h.seq);
    /* A retransmission may arrive before any later packet, i.e. look new: match it against
     * the NACKed sequence numbers first, and never drop it again. */
    int pending = v->n_nack ? nack_find(v, h.seq) : -1;
    if (cls == LG_SEQ_NEW && pending < 0 && lg->opt.drop_pct > 0 && v->kf.done &&
        (double)(lg_rand(lg) % 1000000) < lg->opt.drop_pct * 10000.0) {
        /* Deliberate loss, before SRTP so that the retransmission is not a replay. */
        v->c.dropped++;
        nack_add(v, h.seq, now_ns / 1000000, 0);
        return;
    }
    if (cls == LG_SEQ_NEW && v->seq.started)
        nack_gap(v, h.seq, now_ns / 1000000);
    size_t plain = wire - (size_t)v->tag_len;
    int decrypt = cls != LG_SEQ_DUP && sample && len == wire;
    if (decrypt) {
        int n = (int)len;
        if (srtp_unprotect(v->srtp, p, &n) != srtp_err_status_ok) {
            v->c.srtp_errors++;
            return;
        }
        plain = (size_t)n;
    }
    cls = lg_seq_update(&v->seq, h.seq);
    if (cls == LG_SEQ_DUP)
        v->c.dup_bytes += wire;
    if (pending >= 0 && cls != LG_SEQ_DUP)
        nack_recovered(lg, v, pending, now_ns / 1000000);
    v->c.pkts++;
    v->c.bytes += plain;
    lg_viewer_gap(lg, v, now_ns / 1000000);

    /* RFC 3550 A.8: jitter from arrival time in timestamp units (90 kHz video clock). */
    int64_t arrival = (int64_t)(now_ns / 1000 * 9 / 100);
    int64_t transit = arrival - (int64_t)h.ts;
    if (v->has_transit && cls == LG_SEQ_NEW) {
        int64_t d = transit - v->last_transit;
        if (d < 0)
            d = -d;
        v->jitter_q4 += (uint32_t)(d - (int64_t)((v->jitter_q4 + 8) >> 4));
    }
    /* Media time received: a sender that skips frames yet keeps its sequence numbers
     * contiguous shows no loss, but its timestamps advance slower than the clock. */
    if (v->has_transit && cls == LG_SEQ_NEW && (int32_t)(h.ts - v->last_ts) > 0)
        v->c.ts_advance += (uint32_t)(h.ts - v->last_ts);
    if (cls == LG_SEQ_NEW || !v->has_transit)
        v->last_ts = h.ts;
    v->last_transit = transit;
    v->has_transit = 1;

    if (decrypt && !v->kf.done && cls != LG_SEQ_DUP) {
        size_t pay = plain - h.hdr_len;
        if (pay && (p[0] & 0x20))
            pay = p[h.hdr_len + pay - 1] < pay ? pay - p[h.hdr_len + pay - 1] : 0;
        if (lg_keyframe_feed(&v->kf, &h, p + h.hdr_len, pay))
            v->first_frame_ms = (int64_t)(now_ns / 1000000) - (int64_t)v->t_answer_ms;
    }
}

static void viewer_datagram(struct lg *lg, struct lg_viewer *v, uint8_t *p, size_t len, size_t wire,
                            int sample, uint64_t now_ns)
{
    /* RFC 7983 demultiplexing by the first byte. */
    uint8_t b = p[0];
    if (len < wire && !(b >= 128 && b < 192 && !codec_rtcp_is_rtcp(p, len)))
        return; /* a header-only read cut a control packet: only media is sampled that way */
    if (b < 4)
        on_stun(lg, v, p, len);
    else if (b >= 20 && b < 64)
        on_dtls(lg, v, p, len);
    else if (b >= 128 && b < 192) {
        if (codec_rtcp_is_rtcp(p, len))
            on_rtcp(v, p, len, now_ns / 1000000);
        else
            on_rtp(lg, v, p, len, wire, sample, now_ns);
    }
}

/* --tcp: reads the connection's bytes and hands out its RFC 4571 frames (copied out of the
 * reassembly buffer, since SRTP unprotects in place). Bounded per wakeup like the UDP path. */
static void viewer_read_tcp(struct lg *lg, struct lg_viewer *v, int sample, uint64_t now_ns)
{
    for (int r = 0; r < LG_TCP_READS && v->state != LG_V_FAILED; r++) {
        size_t room;
        uint8_t *space = tcpframe_rx_space(v->rx, &room);
        ssize_t n = read(v->fd, space, room);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (n <= 0) {
            viewer_fail(lg, v, n == 0 ? -ECONNRESET : -errno, "ICE-TCP connection");
            return;
        }
        tcpframe_rx_fill(v->rx, (size_t)n);
        const uint8_t *p;
        size_t len;
        int rc;
        while (v->state != LG_V_FAILED && (rc = tcpframe_rx_next(v->rx, &p, &len)) > 0) {
            memcpy(lg->bufs[0], p, len);
            viewer_datagram(lg, v, lg->bufs[0], len, len, sample, now_ns);
        }
        if (v->state != LG_V_FAILED && rc < 0) {
            viewer_fail(lg, v, rc, "RFC 4571 framing");
            return;
        }
        if ((size_t)n < room)
            return;
    }
}

static void viewer_read_udp(struct lg *lg, struct lg_viewer *v, int sample, uint64_t now_ns)
{
    int hdr_only = !sample && !lg->opt.gro;
    size_t cap = hdr_only ? LG_HDR_PEEK : LG_PKT_MAX;
    /* Bounded: at most 4 batches per wakeup so one busy socket cannot starve the rest. */
    for (int round = 0; round < 4; round++) {
        for (int i = 0; i < LG_BATCH; i++) {
            lg->msgs[i].msg_hdr.msg_iov[0].iov_len = cap;
            lg->msgs[i].msg_hdr.msg_controllen = lg->opt.gro ? sizeof(lg->ctrl[i]) : 0;
        }
        int n =
            recvmmsg(v->fd, lg->msgs, LG_BATCH, MSG_DONTWAIT | (hdr_only ? MSG_TRUNC : 0), NULL);
        if (n <= 0)
            break;
        for (int i = 0; i < n && v->state != LG_V_FAILED; i++) {
            size_t wire = lg->msgs[i].msg_len;
            size_t seg = lg->opt.gro ? sockbuf_gro_segment(&lg->msgs[i].msg_hdr) : 0;
            if (!seg || seg > wire)
                seg = wire;
            for (size_t off = 0; off < wire && wire <= cap; off += seg) {
                size_t l = wire - off < seg ? wire - off : seg;
                viewer_datagram(lg, v, lg->bufs[i] + off, l, l, sample, now_ns);
            }
            if (wire > cap)
                viewer_datagram(lg, v, lg->bufs[i], cap, wire, 0, now_ns);
        }
        if (n < LG_BATCH || v->state == LG_V_FAILED)
            break;
    }
}

static void viewer_readable(struct lg *lg, struct lg_viewer *v, uint64_t now_ns)
{
    /* --decrypt-every K: once the first keyframe is in, only one wakeup in K unprotects what
     * it reads; the others count packets from their headers. Without --gro (and --tcp) those
     * read just the headers (MSG_TRUNC reports the real length), which saves the copy as well;
     * with it, every segment of a coalesced datagram must be read to see its header. */
    unsigned k = lg->opt.decrypt_every;
    int sample = !(k > 1 && v->kf.done && ++v->k_ctr % k != 0);
    if (v->rx)
        viewer_read_tcp(lg, v, sample, now_ns);
    else
        viewer_read_udp(lg, v, sample, now_ns);
    if (v->nack_unsent && v->state == LG_V_MEDIA)
        nack_send(v, now_ns / 1000000, 1);
}

/* --tcp: the connection is up (or failed): the first ICE check goes out now. */
static void viewer_connected(struct lg *lg, struct lg_viewer *v)
{
    int err = 0;
    socklen_t el = sizeof(err);
    if (getsockopt(v->fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
        err = errno;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = v};
    if (!err && epoll_ctl(lg->media_ep, EPOLL_CTL_MOD, v->fd, &ev) != 0)
        err = errno;
    if (err) {
        viewer_fail(lg, v, -err, "ICE-TCP connect");
        return;
    }
    v->tcp_connecting = 0;
    send_check(lg, v, v->setup->tid, v->setup->nom != LG_NOM_CHECKING);
    v->setup->next_stun_ms = uv_now(lg->loop) + LG_STUN_RTO_MS;
}

/* Serves the sockets that are ready, at most LG_READY_MAX per loop iteration; the set stays
 * readable (level-triggered) while more are, so the loop comes back after its timers. */
static void on_media(uv_poll_t *h, int status, int events)
{
    struct lg *lg = h->data;
    if (status < 0 || !(events & UV_READABLE))
        return;
    struct epoll_event ev[LG_READY_MAX];
    int n = epoll_wait(lg->media_ep, ev, LG_READY_MAX, 0);
    uint64_t now_ns = uv_hrtime();
    for (int i = 0; i < n; i++) {
        struct lg_viewer *v = ev[i].data.ptr;
        if (v->fd < 0 || v->state == LG_V_FAILED) /* closed by an earlier one */
            continue;
        if (v->tcp_connecting)
            viewer_connected(lg, v);
        else
            viewer_readable(lg, v, now_ns);
    }
}

int lg_viewers_start(struct lg *lg)
{
    lg->media_ep = epoll_create1(EPOLL_CLOEXEC);
    if (lg->media_ep < 0)
        return -errno;
    int err = uv_poll_init(lg->loop, &lg->media_poll, lg->media_ep);
    if (!err) {
        lg->media_poll.data = lg;
        err = uv_poll_start(&lg->media_poll, UV_READABLE, on_media);
    }
    return err;
}

static void send_rr(struct lg_viewer *v, uint64_t now_ms)
{
    struct codec_rtcp_rb b = {.ssrc = v->media_ssrc, .last_seq = v->seq.ext_hi};
    uint64_t exp = lg_seq_expected(&v->seq), uniq = v->seq.unique;
    uint64_t exp_i = exp - v->rr_expected_prior, uniq_i = uniq - v->rr_unique_prior;
    v->rr_expected_prior = exp;
    v->rr_unique_prior = uniq;
    /* RFC 3550 A.3 */
    if (exp_i > uniq_i && exp_i)
        b.fraction = (uint8_t)(((exp_i - uniq_i) << 8) / exp_i);
    b.lost = exp > uniq ? (int32_t)(exp - uniq > 0x7fffff ? 0x7fffff : exp - uniq) : 0;
    b.jitter = v->jitter_q4 >> 4;
    if (v->sr_at_ms) {
        b.lsr = v->sr_ntp_mid;
        b.dlsr = codec_rtcp_dlsr((now_ms - v->sr_at_ms) * 1000000);
    }
    /* An RR (its block once media arrived) and SDES CNAME: RFC 3550 6.1's compound. */
    uint8_t buf[256];
    size_t cap = sizeof(buf) - 64;
    int len = codec_rtcp_write_rr(buf, cap, v->ssrc, &b, v->media_ssrc ? 1 : 0);
    if (len > 0) {
        int sdes =
            codec_rtcp_write_sdes(buf + len, cap - (size_t)len, &v->ssrc, 1, "ringcast-loadgen");
        len = sdes < 0 ? sdes : len + sdes;
    }
    send_rtcp(v, buf, len);
}

void lg_viewer_slow_tick(struct lg *lg, struct lg_viewer *v, uint64_t now_ms, int rr, int consent)
{
    if (v->state != LG_V_MEDIA)
        return;
    if (v->n_nack) {
        /* Give up on entries NACKed LG_NACK_TRIES times, re-NACK the others. */
        for (unsigned i = 0; i < v->n_nack;) {
            struct lg_nack_ent *e = &v->nack[i];
            if (e->tries >= LG_NACK_TRIES && now_ms - e->sent_ms >= LG_NACK_RETRY_MS) {
                *e = v->nack[--v->n_nack];
                v->c.gave_up++;
            } else {
                i++;
            }
        }
        nack_send(v, now_ms, 0);
    }
    if (rr)
        send_rr(v, now_ms);
    if (consent) {
        /* RFC 7675 consent freshness: a binding request every few seconds. */
        uint8_t tid[LG_STUN_TID_LEN];
        uint64_t r1 = lg_rand(lg), r2 = lg_rand(lg);
        memcpy(tid, &r1, 8);
        memcpy(tid + 8, &r2, 4);
        send_check(lg, v, tid, 0);
    }
}
