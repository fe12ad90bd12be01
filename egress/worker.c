/* worker.c: the egress worker's control plane around the data plane (media.h): UDP socket
 * and RFC 7983 demultiplexing, ICE-lite checks, DTLS handshakes, session teardown (DELETE,
 * consent expiry, DTLS failure), heartbeat, signals, and DELETE forwarding between workers
 * over abstract unix datagram sockets named after shm_prefix and worker index. */
#include "egress/worker.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"
#include "common/sockbuf.h"
#include "egress/icelite.h"
#include "egress/whep.h"

#define WORKER_TICK_MS        500
#define WORKER_DTLS_SETTLE_MS 10000 /* free DTLS state this long after media started */
#define WORKER_FWD_MSG_MAX    64
#define WORKER_RX_BATCH       32
#define WORKER_RX_ROUNDS      4
#define WORKER_RCVBUF         (4 << 20)
#define WORKER_RX_MAX         2048 /* larger datagrams (none we expect) are dropped */

/* Bits of worker.open_handles: which handles worker_shutdown must close. */
#define WORKER_OPEN_BASE 0x1 /* tick timer and the three signals, started together */
#define WORKER_OPEN_UDP  0x2 /* media socket poll */
#define WORKER_OPEN_FWD  0x4 /* DELETE forwarding socket poll */

/* ---- session lifecycle ---- */

void worker_end_session(struct worker *w, struct viewer *v, const char *reason)
{
    dtlsrv_conn_free(v->dtls);
    v->dtls = NULL;
    media_viewer_stop(w->media, &v->media);
    char path[CONFIG_NAME_MAX], session[VIEWER_SESSION_LEN + 1], peer[64];
    snprintf(path, sizeof(path), "%s", v->path);
    snprintf(session, sizeof(session), "%s", v->session);
    snprintf(peer, sizeof(peer), "%s", v->peer);
    viewer_release(&w->viewers, v);
    log_info("whep %s: session %s of %s ended: %s (sessions %u, viewers %u)", path, session, peer,
             reason, w->viewers.count, media_worker_viewers(w->media));
}

static socklen_t worker_addr_len(const struct sockaddr *sa)
{
    return sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

/* Sends from local (the address the peer's checks arrived at) when known: the socket is
 * bound to the wildcard address, and a reply from another source address fails the
 * peer's check (RFC 8445 7.2.5.2.1) or lands on a pair it did not select. */
static void worker_send_from(struct worker *w, const struct sockaddr *dst, uint32_t local,
                             const uint8_t *p, size_t len)
{
    struct iovec iov = {.iov_base = (void *)p, .iov_len = len};
    union {
        char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
        struct cmsghdr align;
    } ctrl;
    struct msghdr mh = {.msg_name = (void *)dst,
                        .msg_namelen = worker_addr_len(dst),
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

static void worker_dtls_send(void *arg, const uint8_t *p, size_t len)
{
    struct viewer *v = arg;
    worker_send_from(v->owner, (const struct sockaddr *)&v->addr, v->local_addr, p, len);
}

static void worker_dtls_connected(void *arg, const struct dtlsrv_keys *keys)
{
    struct viewer *v = arg;
    struct worker *w = v->owner;
    struct media_viewer_params p = {
        .path = v->path,
        .remote = (const struct sockaddr *)&v->addr,
        .remote_len = v->addr_len,
        .local_addr = v->local_addr,
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
    v->media_ns = ctl_now_ns();
    log_info("whep %s: session %s of %s connected (DTLS-SRTP %s)", v->path, v->session, v->peer,
             keys->profile == MEDIA_SRTP_AEAD_AES_128_GCM ? "AEAD_AES_128_GCM"
                                                          : "AES_CM_128_HMAC_SHA1_80");
}

static void worker_dtls_failed(void *arg, int err, const char *reason)
{
    struct viewer *v = arg;
    struct worker *w = v->owner;
    char why[160];
    snprintf(why, sizeof(why), "DTLS failed: %s (%s)", reason, strerror(-err));
    ctl_count(&w->counters->dtls_failures, 1);
    worker_end_session(w, v, why);
}

static const struct dtlsrv_callbacks worker_dtls_cb = {
    .send = worker_dtls_send,
    .connected = worker_dtls_connected,
    .failed = worker_dtls_failed,
};

/* ---- datagrams ---- */

static const char *worker_ice_lookup(void *arg, const char *local_ufrag, const char *remote_ufrag,
                                     void **session)
{
    (void)remote_ufrag; /* aiortc sends the tagged section's or its own; ours identifies */
    struct worker *w = arg;
    struct viewer *v = viewer_by_ufrag(&w->viewers, local_ufrag);
    *session = v;
    return v ? v->pwd : NULL;
}

static void worker_stun(struct worker *w, const uint8_t *p, size_t len, const struct sockaddr *sa,
                        uint32_t local)
{
    struct icelite_result r;
    if (icelite_handle(p, len, sa, worker_ice_lookup, w, &r) < 0) {
        w->drops_unknown++;
        return;
    }
    struct viewer *v = r.session;
    worker_send_from(w, sa, local, r.response, r.response_len);
    v->consent_ns = ctl_now_ns();
    /* The address is learnt from authenticated checks until the peer nominates a pair
     * (RFC 8445 8.1.1); once media runs it no longer moves. */
    if (v->state == VIEWER_MEDIA || v->nominated)
        return;
    viewer_set_addr(&w->viewers, v, sa, worker_addr_len(sa));
    v->local_addr = local;
    v->nominated = r.use_candidate;
    if (v->state == VIEWER_ICE) {
        int err = dtlsrv_conn_new(&v->dtls, w->dtls, w->loop, &v->remote_fp, &worker_dtls_cb, v);
        if (err < 0) {
            worker_end_session(w, v, "cannot create DTLS state");
            return;
        }
        v->state = VIEWER_DTLS;
        log_debug("whep %s: session %s: ICE check from %s, DTLS next", v->path, v->session,
                  v->peer);
    }
}

static void worker_datagram(struct worker *w, const uint8_t *p, size_t len,
                            const struct sockaddr *sa, uint32_t local)
{
    uint8_t b = p[0];
    /* RFC 7983 7: 0..3 STUN, 20..63 DTLS, 128..191 RTP/RTCP; the rest is dropped. */
    if (b <= 3) {
        worker_stun(w, p, len, sa, local);
        return;
    }
    struct viewer *v = viewer_by_addr(&w->viewers, sa);
    if (!v) {
        w->drops_unknown++;
        return;
    }
    if (b >= 20 && b <= 63) {
        if (v->dtls)
            dtlsrv_conn_input(v->dtls, p, len);
    } else if (b >= 128 && b <= 191 && v->state == VIEWER_MEDIA) {
        /* SRTCP from the peer proves it finished the handshake: DTLS state can go. */
        if (v->dtls) {
            dtlsrv_conn_free(v->dtls);
            v->dtls = NULL;
        }
        (void)media_input(w->media, &v->media, p, len); /* counted by media */
    } else {
        w->drops_unknown++;
    }
}

/* A peer address as recvmmsg fills it in. */
union worker_addr {
    struct sockaddr sa;
    struct sockaddr_in in;
    struct sockaddr_in6 in6;
};

/* Receive buffers, sized once: one batch of datagrams per recvmmsg (one worker per
 * process, used only on the loop's thread). */
static struct worker_rx {
    struct mmsghdr msg[WORKER_RX_BATCH];
    struct iovec iov[WORKER_RX_BATCH];
    union worker_addr from[WORKER_RX_BATCH];
    union {
        char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
        struct cmsghdr align;
    } ctrl[WORKER_RX_BATCH];
    uint8_t data[WORKER_RX_BATCH][WORKER_RX_MAX];
} worker_rx;

static uint32_t worker_rx_local(struct msghdr *mh)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c))
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            struct in_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof(pi));
            return pi.ipi_addr.s_addr;
        }
    return 0;
}

/* The peer's address as the rest of the worker keeps it: an IPv4 peer on the dual-stack
 * socket arrives as ::ffff:a.b.c.d and becomes a plain sockaddr_in (XOR-MAPPED-ADDRESS must
 * show the peer its own IPv4 address; the socket sends to either form). 0, or -1 for a
 * family we do not serve. */
static int worker_rx_peer(union worker_addr *from)
{
    if (from->sa.sa_family == AF_INET)
        return 0;
    if (from->sa.sa_family != AF_INET6)
        return -1;
    if (IN6_IS_ADDR_V4MAPPED(&from->in6.sin6_addr)) {
        struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = from->in6.sin6_port};
        memcpy(&in.sin_addr, &from->in6.sin6_addr.s6_addr[12], 4);
        from->in = in;
    }
    return 0;
}

static void worker_udp_readable(uv_poll_t *h, int status, int events)
{
    struct worker *w = h->data;
    if (status < 0 || !(events & UV_READABLE))
        return;
    struct worker_rx *rx = &worker_rx;
    /* Bounded: a flood yields to the loop after a few batches. */
    for (int round = 0; round < WORKER_RX_ROUNDS && !w->stopping; round++) {
        for (int i = 0; i < WORKER_RX_BATCH; i++) {
            rx->iov[i] = (struct iovec){.iov_base = rx->data[i], .iov_len = WORKER_RX_MAX};
            rx->msg[i].msg_hdr = (struct msghdr){.msg_name = &rx->from[i],
                                                 .msg_namelen = sizeof(rx->from[i]),
                                                 .msg_iov = &rx->iov[i],
                                                 .msg_iovlen = 1,
                                                 .msg_control = rx->ctrl[i].buf,
                                                 .msg_controllen = sizeof(rx->ctrl[i].buf)};
        }
        int n = recvmmsg(w->udp_fd, rx->msg, WORKER_RX_BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0)
            return;
        for (int i = 0; i < n && !w->stopping; i++) {
            struct msghdr *mh = &rx->msg[i].msg_hdr;
            size_t len = rx->msg[i].msg_len;
            if (len == 0 || (mh->msg_flags & MSG_TRUNC) || worker_rx_peer(&rx->from[i]) < 0) {
                w->drops_unknown++;
                continue;
            }
            worker_datagram(w, rx->data[i], len, &rx->from[i].sa, worker_rx_local(mh));
        }
        if (n < WORKER_RX_BATCH)
            return;
    }
}

/* ---- periodic work ---- */

static void worker_tick(uv_timer_t *t)
{
    struct worker *w = t->data;
    uint64_t now = ctl_now_ns();
    atomic_store_explicit(&w->slot->heartbeat_ns, now, memory_order_relaxed);
    dtlsrv_heap_settle();
    for (uint32_t i = 0; i < w->viewers.cap && !w->stopping; i++) {
        struct viewer *v = &w->viewers.v[i];
        if (v->state == VIEWER_FREE)
            continue;
        if (now - v->consent_ns > (uint64_t)WORKER_CONSENT_TIMEOUT_MS * 1000000) {
            worker_end_session(w, v, "no ICE consent for 30 s");
            continue;
        }
        /* A peer that never sends RTCP still gets its DTLS state freed. */
        if (v->state == VIEWER_MEDIA && v->dtls &&
            now - v->media_ns > (uint64_t)WORKER_DTLS_SETTLE_MS * 1000000) {
            dtlsrv_conn_free(v->dtls);
            v->dtls = NULL;
        }
    }
}

/* ---- DELETE forwarding ---- */

static socklen_t worker_fwd_addr(const struct worker *w, unsigned index, struct sockaddr_un *un)
{
    memset(un, 0, sizeof(*un));
    un->sun_family = AF_UNIX;
    /* Abstract namespace: nothing to clean up when a worker dies. */
    int n = snprintf(un->sun_path + 1, sizeof(un->sun_path) - 1, "%s.egress.%u", w->cfg.shm_prefix,
                     index);
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

/* Only this user's workers can reach the abstract socket's peers, but any local process can
 * send to it: messages are parsed strictly and carry nothing a session id would not. */
static int worker_fwd_send(struct worker *w, unsigned index, const char *msg, size_t len)
{
    struct sockaddr_un un;
    socklen_t alen = worker_fwd_addr(w, index, &un);
    if (sendto(w->fwd_fd, msg, len, MSG_DONTWAIT, (struct sockaddr *)&un, alen) < 0)
        return -errno;
    return 0;
}

int worker_forward_delete(struct worker *w, unsigned index, const char *session, uint64_t token)
{
    char msg[WORKER_FWD_MSG_MAX];
    int n = snprintf(msg, sizeof(msg), "DELETE %s %u %" PRIu64, session, w->index, token);
    return worker_fwd_send(w, index, msg, (size_t)n);
}

/* The owner's side of a forwarded DELETE: end the session, report 200 or 404 back. */
static void worker_fwd_delete(struct worker *w, const char *session, unsigned from, uint64_t token)
{
    struct viewer *v = viewer_by_session(&w->viewers, session);
    if (v)
        worker_end_session(w, v, "DELETE (forwarded by another worker)");
    char msg[WORKER_FWD_MSG_MAX];
    int n = snprintf(msg, sizeof(msg), "DONE %" PRIu64 " %d", token, v ? 200 : 404);
    if (worker_fwd_send(w, from, msg, (size_t)n) < 0)
        log_info("cannot report DELETE %s back to worker %u", session, from);
}

/* The forwarder's side: answer the HTTP request that waited for the owner. */
static void worker_fwd_done(struct worker *w, uint64_t token, int status)
{
    struct httpd_response res = {0};
    httpd_set_text(&res, status, status == 200 ? "" : "no such session\n");
    (void)httpd_complete(&w->http, token, &res); /* gone or timed out: nothing to answer */
}

static void worker_fwd_readable(uv_poll_t *h, int status, int events)
{
    struct worker *w = h->data;
    if (status < 0 || !(events & UV_READABLE))
        return;
    for (int i = 0; i < 64; i++) {
        char msg[WORKER_FWD_MSG_MAX + 1], session[VIEWER_SESSION_LEN + 1];
        ssize_t n = recv(w->fwd_fd, msg, WORKER_FWD_MSG_MAX, MSG_DONTWAIT);
        if (n < 0)
            return;
        msg[n] = '\0';
        unsigned from;
        uint64_t token;
        int code;
        if (sscanf(msg, "DELETE %26s %u %" SCNu64, session, &from, &token) == 3 &&
            from < CTL_MAX_CHILDREN)
            worker_fwd_delete(w, session, from, token);
        else if (sscanf(msg, "DONE %" SCNu64 " %d", &token, &code) == 2)
            worker_fwd_done(w, token, code == 200 ? 200 : 404);
    }
}

/* Watches fd for reading with poll (the handle's memory is in w); bit records it as open for
 * worker_shutdown. 0 or a libuv error. */
static int worker_poll_readable(struct worker *w, uv_poll_t *poll, int fd, int bit, uv_poll_cb cb)
{
    int err = uv_poll_init(w->loop, poll, fd);
    if (err < 0)
        return err;
    poll->data = w;
    w->open_handles |= bit;
    return uv_poll_start(poll, UV_READABLE, cb);
}

static int worker_fwd_open(struct worker *w)
{
    w->fwd_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (w->fwd_fd < 0)
        return -errno;
    struct sockaddr_un un;
    socklen_t len = worker_fwd_addr(w, w->index, &un);
    if (bind(w->fwd_fd, (struct sockaddr *)&un, len) < 0)
        return -errno;
    return worker_poll_readable(w, &w->fwd_poll, w->fwd_fd, WORKER_OPEN_FWD, worker_fwd_readable);
}

/* ---- setup ---- */

static void worker_signal(uv_signal_t *s, int signum)
{
    struct worker *w = s->data;
    log_info("signal %d: shutting down", signum);
    worker_shutdown(w);
}

/* SIGHUP (the supervisor's reload): re-reads the paths, their tokens, the api_token and the
 * log level. Listening addresses and ports need a restart. Sessions of a removed path end. */
static void worker_reload(uv_signal_t *s, int signum)
{
    (void)signum;
    struct worker *w = s->data;
    static struct config fresh; /* large; one reload at a time on the loop's thread */
    char err[512];
    if (!w->cfg.file[0]) {
        log_info("SIGHUP: no config file to re-read");
        return;
    }
    if (config_load(&fresh, w->cfg.file, err, sizeof(err)) < 0) {
        log_warn("SIGHUP: keeping the running config: %s", err);
        return;
    }
    memcpy(w->cfg.paths, fresh.paths, sizeof(fresh.paths));
    w->cfg.n_paths = fresh.n_paths;
    memcpy(w->cfg.api_token, fresh.api_token, sizeof(fresh.api_token));
    w->cfg.log_level = fresh.log_level;
    log_set_level(fresh.log_level);
    for (uint32_t i = 0; i < w->viewers.cap; i++) {
        struct viewer *v = &w->viewers.v[i];
        if (v->state != VIEWER_FREE && !config_find_path(&w->cfg, v->path))
            worker_end_session(w, v, "path removed from the config");
    }
    log_info("SIGHUP: config re-read, %zu path(s)", w->cfg.n_paths);
}

/* Whether addr can be a host candidate of this worker's socket: IPv4 always, IPv6 on the
 * dual-stack socket except link-local (it would need a scope the SDP cannot carry). */
static bool worker_candidate_ok(const struct worker *w, const char *addr)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, addr, &a4) == 1)
        return true;
    return w->udp_v6 && inet_pton(AF_INET6, addr, &a6) == 1 && !IN6_IS_ADDR_LINKLOCAL(&a6);
}

/* ICE candidates: the configured addresses, else every address of the up interfaces (IPv6
 * ones when the media socket is dual-stack), loopback included (as MediaMTX does). */
static void worker_candidates(struct worker *w)
{
    if (w->cfg.n_public_addresses) {
        for (size_t i = 0; i < w->cfg.n_public_addresses && i < ANSWER_MAX_CANDIDATES; i++) {
            if (!worker_candidate_ok(w, w->cfg.public_addresses[i])) {
                log_warn("public_addresses: %s is not an address the media socket serves "
                         "(IPv4%s): left out of the candidates",
                         w->cfg.public_addresses[i], w->udp_v6 ? ", IPv6 but link-local" : "");
                continue;
            }
            snprintf(w->candidates[w->n_candidates++], sizeof(w->candidates[0]), "%s",
                     w->cfg.public_addresses[i]);
        }
        return;
    }
    uv_interface_address_t *ifs;
    int n;
    if (uv_interface_addresses(&ifs, &n) < 0)
        return;
    /* Loopback last, so that it gets the lowest priority: peers then nominate the pair the
     * kernel routes media over (media leaves without a source-address hint); IPv4 before
     * IPv6 within each, as the IPv4 pairs get media from the checked address (IP_PKTINFO). */
    for (int pass = 0; pass < 4; pass++)
        for (int i = 0; i < n && w->n_candidates < ANSWER_MAX_CANDIDATES; i++) {
            char *out = w->candidates[w->n_candidates];
            int family = ifs[i].address.address4.sin_family;
            if (ifs[i].is_internal != pass / 2 || family != (pass % 2 ? AF_INET6 : AF_INET))
                continue;
            if (family == AF_INET)
                uv_ip4_name(&ifs[i].address.address4, out, sizeof(w->candidates[0]));
            else
                uv_ip6_name(&ifs[i].address.address6, out, sizeof(w->candidates[0]));
            w->n_candidates += worker_candidate_ok(w, out);
        }
    uv_free_interface_addresses(ifs, n);
}

/* The media socket: dual-stack IPv6 (IPv4 peers arrive v4-mapped) where the kernel has IPv6,
 * else IPv4. IP_PKTINFO tells which local IPv4 address each datagram arrived at (see
 * worker_send_from); IPv6 media leaves by the route's source address. */
static int worker_udp_open(struct worker *w)
{
    int one = 1, zero = 0, err = 0;
    w->udp_fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    w->udp_v6 = w->udp_fd >= 0;
    if (w->udp_v6) {
        struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6,
                                    .sin6_port = htons(w->udp_port),
                                    .sin6_addr = IN6ADDR_ANY_INIT};
        if (setsockopt(w->udp_fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) < 0 ||
            setsockopt(w->udp_fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) < 0 ||
            bind(w->udp_fd, (struct sockaddr *)&sin6, sizeof(sin6)) < 0)
            err = -errno;
    } else {
        struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(w->udp_port)};
        w->udp_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (w->udp_fd < 0 || setsockopt(w->udp_fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) < 0 ||
            bind(w->udp_fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
            err = -errno;
    }
    if (err < 0)
        return err;
    /* Every viewer's RRs and consent checks arrive here while the loop may be busy sending a
     * keyframe to all of them: the default 208 KiB held ~200 datagrams, and at 1,500 viewers
     * whole rounds of consent checks were dropped until sessions expired. Best effort, as
     * for the send buffer. */
    (void)sockbuf_set(w->udp_fd, false, WORKER_RCVBUF);
    return worker_poll_readable(w, &w->udp_poll, w->udp_fd, WORKER_OPEN_UDP, worker_udp_readable);
}

static int worker_ctl_open(struct worker *w, int slot)
{
    int err;
    unsigned s = slot < 0 ? w->index : (unsigned)slot;
    if (slot < 0) {
        err = ctl_init_private(&w->ctl);
    } else {
        err = ctl_attach(&w->ctl, w->cfg.shm_prefix);
    }
    if (err < 0)
        return err;
    w->slot = ctl_slot(&w->ctl, s);
    if (!w->slot)
        return -ERANGE;
    if (slot < 0) {
        /* Standalone: describe ourselves the way the supervisor would, for /v1/status. */
        w->slot->role = CTL_ROLE_EGRESS;
        w->slot->index = w->index;
        snprintf(w->slot->name, sizeof(w->slot->name), "worker %u", w->index);
        atomic_store(&w->slot->start_ns, ctl_now_ns());
        atomic_store(&w->slot->state, CTL_STATE_RUNNING);
    }
    atomic_store(&w->slot->pid, (int32_t)getpid());
    atomic_store(&w->slot->heartbeat_ns, ctl_now_ns());
    w->counters = &w->slot->counters;
    return 0;
}

int worker_init(struct worker *w, uv_loop_t *loop, const struct config *cfg, unsigned index,
                int slot, char *err, size_t errlen)
{
    memset(w, 0, sizeof(*w));
    w->loop = loop;
    w->cfg = *cfg;
    w->index = index;
    w->udp_port = (uint16_t)(cfg->udp_port_base + index);
    w->fwd_fd = -1;
    w->udp_fd = -1;
    int rc = worker_ctl_open(w, slot);
    if (rc < 0) {
        snprintf(err, errlen, "control segment /%s.ctl slot %d: %s", cfg->shm_prefix, slot,
                 strerror(-rc));
        return rc;
    }
    rc = dtlsrv_ctx_new(&w->dtls, err, errlen);
    if (rc < 0)
        return rc;
    rc = viewer_table_init(&w->viewers, cfg->max_viewers_per_worker);
    if (rc < 0) {
        snprintf(err, errlen, "session table for %u viewers: out of memory",
                 cfg->max_viewers_per_worker);
        return rc;
    }
    uv_timer_init(loop, &w->tick);
    uv_signal_init(loop, &w->sigint);
    uv_signal_init(loop, &w->sigterm);
    uv_signal_init(loop, &w->sighup);
    w->tick.data = w->sigint.data = w->sigterm.data = w->sighup.data = w;
    w->open_handles |= WORKER_OPEN_BASE;
    uv_timer_start(&w->tick, worker_tick, WORKER_TICK_MS, WORKER_TICK_MS);
    uv_signal_start(&w->sigint, worker_signal, SIGINT);
    uv_signal_start(&w->sigterm, worker_signal, SIGTERM);
    uv_signal_start(&w->sighup, worker_reload, SIGHUP);
    rc = worker_udp_open(w);
    if (rc < 0) {
        snprintf(err, errlen, "UDP media port %u: %s", w->udp_port, strerror(-rc));
        return rc;
    }
    worker_candidates(w);
    rc = worker_fwd_open(w);
    if (rc < 0) {
        snprintf(err, errlen, "DELETE forwarding socket: %s", strerror(-rc));
        return rc;
    }
    rc = media_worker_init(&w->media, loop, &w->cfg, &w->ctl, w->counters, w->udp_fd);
    if (rc < 0) {
        snprintf(err, errlen, "media: %s", strerror(-rc));
        return rc;
    }
    rc = httpd_server_start(&w->http, loop, cfg->http_host, cfg->http_port, whep_handle, w);
    if (rc < 0) {
        snprintf(err, errlen, "HTTP %s:%u: %s", cfg->http_host, cfg->http_port, uv_strerror(rc));
        return rc;
    }
    log_info("serving WHEP on %s:%u, media on UDP %u, %zu candidate address(es)", cfg->http_host,
             cfg->http_port, w->udp_port, w->n_candidates);
    return 0;
}

void worker_shutdown(struct worker *w)
{
    if (w->stopping)
        return;
    w->stopping = 1;
    log_info("stopping: %" PRIu64 " datagram(s) dropped as unknown or unvalidated",
             w->drops_unknown);
    for (uint32_t i = 0; i < w->viewers.cap; i++)
        if (w->viewers.v && w->viewers.v[i].state != VIEWER_FREE)
            worker_end_session(w, &w->viewers.v[i], "worker stopping");
    httpd_server_stop(&w->http);
    media_worker_free(w->media);
    w->media = NULL;
    if (w->open_handles & WORKER_OPEN_BASE) {
        uv_close((uv_handle_t *)&w->tick, NULL);
        uv_close((uv_handle_t *)&w->sigint, NULL);
        uv_close((uv_handle_t *)&w->sigterm, NULL);
        uv_close((uv_handle_t *)&w->sighup, NULL);
    }
    if (w->open_handles & WORKER_OPEN_UDP)
        uv_close((uv_handle_t *)&w->udp_poll, NULL);
    if (w->open_handles & WORKER_OPEN_FWD)
        uv_close((uv_handle_t *)&w->fwd_poll, NULL);
    w->open_handles = 0;
}

void worker_free(struct worker *w)
{
    if (w->fwd_fd >= 0)
        close(w->fwd_fd);
    if (w->udp_fd >= 0)
        close(w->udp_fd);
    w->fwd_fd = w->udp_fd = -1;
    if (w->slot)
        atomic_store(&w->slot->pid, 0);
    dtlsrv_ctx_free(w->dtls);
    w->dtls = NULL;
    viewer_table_free(&w->viewers);
    ctl_free(&w->ctl);
}
