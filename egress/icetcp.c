/* SPDX-License-Identifier: MIT */
/* icetcp.c: ICE-TCP (RFC 6544) for viewers whose networks block UDP: the worker's passive TCP
 * listener, a fixed table of connections, RFC 4571 reassembly into demux (STUN, DTLS, SRTCP
 * as on the UDP socket), writes through each connection's bounded queue, and the limits that
 * keep a hostile peer to one connection's worth of harm. */
#include "egress/icetcp.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/reuseport.h"
#include "common/sockbuf.h"
#include "egress/demux.h"
#include "egress/worker.h"

#define ICETCP_BACKLOG 128
#define ICETCP_ACCEPTS 16 /* connections accepted per wakeup, then yield */
#define ICETCP_READS   4  /* reads per connection per wakeup */
/* The kernel's share of a connection's backlog (it doubles this): autotuned, it grew to
 * megabytes on a fast path, seconds of video behind live for a viewer that then slows down,
 * before our queue noticed anything. */
#define ICETCP_SNDBUF       (256 << 10)
#define ICETCP_HANDSHAKE_NS ((uint64_t)ICETCP_HANDSHAKE_MS * 1000000)
#define ICETCP_IDLE_NS      ((uint64_t)ICETCP_IDLE_MS * 1000000)

static void icetcp_conn_cb(uv_poll_t *h, int status, int events);

static int32_t icetcp_index(const struct worker *w, const struct icetcp_conn *c)
{
    return (int32_t)(c - w->tcp.c);
}

static void icetcp_closed_cb(uv_handle_t *h)
{
    struct icetcp_conn *c = h->data;
    struct worker *w = c->w;
    c->state = ICETCP_FREE;
    c->next_free = w->tcp.free_head;
    w->tcp.free_head = icetcp_index(w, c);
}

void icetcp_release(struct worker *w, int32_t conn)
{
    if (conn < 0 || conn >= ICETCP_CONNS || !w->tcp.c)
        return;
    struct icetcp_conn *c = &w->tcp.c[conn];
    if (c->state != ICETCP_OPEN)
        return;
    c->state = ICETCP_CLOSING;
    c->viewer = -1;
    uv_close((uv_handle_t *)&c->poll, icetcp_closed_cb);
    close(c->fd);
    c->fd = -1;
    tcpq_free(&c->q);
    w->tcp.n_open--;
}

/* Closes c for cause: its session ends if c carried its media, else loses the pair. Counted
 * and logged once (at info for what only a broken or hostile peer does). */
static void icetcp_close(struct worker *w, struct icetcp_conn *c, const char *why, bool refused)
{
    int32_t conn = icetcp_index(w, c);
    char peer[64];
    viewer_format_addr(&c->peer.sa, peer, sizeof(peer));
    if (refused) {
        ctl_count(&w->counters->tcp_refused, 1);
        log_info("ice-tcp: connection from %s closed: %s", peer, why);
    } else {
        log_debug("ice-tcp: connection from %s closed: %s", peer, why);
    }
    int pair;
    struct viewer *v = viewer_by_conn(&w->viewers, c->viewer, conn, &pair);
    if (v && pair == v->bound) {
        char reason[96];
        snprintf(reason, sizeof(reason), "its ICE-TCP connection closed (%s)", why);
        worker_end_session(w, v, reason); /* releases c with its other connections */
    } else if (v) {
        viewer_pair_forget(&w->viewers, v, pair);
    }
    icetcp_release(w, conn);
}

static void icetcp_watch(struct icetcp_conn *c, bool writing)
{
    if (c->writing == writing)
        return;
    c->writing = writing;
    (void)uv_poll_start(&c->poll, UV_READABLE | (writing ? UV_WRITABLE : 0), icetcp_conn_cb);
}

/* The queue kept bytes the socket did not take (or failed): wait for writability, where a
 * failure shows too. Never closes here: media may be iterating its viewers. */
static void icetcp_stalled(struct tcpq *q)
{
    icetcp_watch(q->owner, true);
}

static void icetcp_readable(struct worker *w, struct icetcp_conn *c)
{
    int32_t conn = icetcp_index(w, c);
    for (int r = 0; r < ICETCP_READS; r++) {
        size_t room;
        uint8_t *space = tcpframe_rx_space(&c->rx, &room);
        ssize_t n = read(c->fd, space, room);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return;
        if (n <= 0) {
            icetcp_close(w, c, n == 0 ? "closed by the peer" : strerror(errno), false);
            return;
        }
        tcpframe_rx_fill(&c->rx, (size_t)n);
        c->rx_ns = ctl_now_ns();
        const uint8_t *p;
        size_t len;
        int rc;
        while ((rc = tcpframe_rx_next(&c->rx, &p, &len)) > 0) {
            struct demux_src src = {.sa = &c->peer.sa, .conn = conn};
            demux_packet(w, p, len, &src);
            if (c->state != ICETCP_OPEN)
                return; /* the session ended, and took the connection with it */
            if (c->viewer < 0) {
                /* RFC 6544: the first thing on a connection is an ICE check; ours authenticate
                 * or the connection is not a candidate pair of any session. */
                icetcp_close(w, c, "its first packet was no ICE check for a session here", true);
                return;
            }
        }
        if (rc < 0) {
            icetcp_close(w, c, "bad RFC 4571 framing (a length of 0 or above 1600)", true);
            return;
        }
        if ((size_t)n < room)
            return;
    }
}

static void icetcp_conn_cb(uv_poll_t *h, int status, int events)
{
    struct icetcp_conn *c = h->data;
    struct worker *w = c->w;
    if (c->state != ICETCP_OPEN)
        return;
    if (status < 0) {
        icetcp_close(w, c, uv_strerror(status), false);
        return;
    }
    if (events & UV_WRITABLE) {
        int left = tcpq_write(&c->q);
        if (left < 0) {
            icetcp_close(w, c, strerror(-left), false);
            return;
        }
        if (c->q.failed && c->q.buf) { /* a write from media failed earlier */
            icetcp_close(w, c, "a write failed", false);
            return;
        }
        icetcp_watch(c, left > 0);
    }
    if (events & UV_READABLE)
        icetcp_readable(w, c);
}

/* Connections from the same IP address as peer. */
static unsigned icetcp_count_from(const struct worker *w, const union viewer_addr *peer)
{
    unsigned n = 0;
    for (unsigned i = 0; i < ICETCP_CONNS; i++) {
        const struct icetcp_conn *c = &w->tcp.c[i];
        if (c->state != ICETCP_OPEN || c->peer.sa.sa_family != peer->sa.sa_family)
            continue;
        if (peer->sa.sa_family == AF_INET)
            n += c->peer.in.sin_addr.s_addr == peer->in.sin_addr.s_addr;
        else
            n += memcmp(&c->peer.in6.sin6_addr, &peer->in6.sin6_addr, 16) == 0;
    }
    return n;
}

static void icetcp_accept_one(struct worker *w, int fd, union viewer_addr *peer)
{
    const char *refuse = NULL;
    if (w->tcp.free_head < 0 && w->tcp.fresh < ICETCP_CONNS) { /* the next never-used one */
        w->tcp.c[w->tcp.fresh].next_free = -1;
        w->tcp.free_head = w->tcp.fresh++;
    }
    if (viewer_addr_unmap(peer) < 0)
        refuse = "an address family not served";
    else if (w->tcp.free_head < 0)
        refuse = "the worker's ICE-TCP connections are all in use";
    else if (icetcp_count_from(w, peer) >= ICETCP_PER_ADDRESS)
        refuse = "too many ICE-TCP connections from its address";
    if (refuse) {
        char from[64];
        viewer_format_addr(&peer->sa, from, sizeof(from));
        ctl_count(&w->counters->tcp_refused, 1);
        log_debug("ice-tcp: connection from %s refused: %s", from, refuse);
        close(fd);
        return;
    }
    int32_t i = w->tcp.free_head;
    struct icetcp_conn *c = &w->tcp.c[i];
    int32_t next_free = c->next_free;
    memset(c, 0, sizeof(*c));
    int one = 1;
    /* Media packets leave as they are written: Nagle would hold a frame's tail back. */
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    (void)sockbuf_set_snd(fd, ICETCP_SNDBUF);
    if (uv_poll_init(w->loop, &c->poll, fd) < 0) {
        close(fd);
        return;
    }
    w->tcp.free_head = next_free;
    c->fd = fd;
    c->w = w;
    c->poll.data = c;
    c->state = ICETCP_OPEN;
    c->viewer = -1;
    c->peer = *peer;
    c->open_ns = c->rx_ns = ctl_now_ns();
    c->q.fd = -1;
    c->q.failed = 1; /* no queue before an authenticated check */
    w->tcp.n_open++;
    (void)uv_poll_start(&c->poll, UV_READABLE, icetcp_conn_cb);
}

static void icetcp_listen_cb(uv_poll_t *h, int status, int events)
{
    struct worker *w = h->data;
    if (status < 0 || !(events & UV_READABLE))
        return;
    for (int i = 0; i < ICETCP_ACCEPTS && !w->stopping; i++) {
        union viewer_addr peer;
        socklen_t plen = sizeof(peer);
        memset(&peer, 0, sizeof(peer));
        int fd = accept4(w->tcp.fd, &peer.sa, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return; /* EAGAIN, or a connection reset before it was accepted */
        icetcp_accept_one(w, fd, &peer);
    }
}

int icetcp_open(struct worker *w)
{
    w->tcp.fd = -1;
    if (!w->tcp_port)
        return 0;
    w->tcp.c = calloc(ICETCP_CONNS, sizeof(*w->tcp.c));
    if (!w->tcp.c)
        return -ENOMEM;
    w->tcp.free_head = -1;
    w->tcp.fresh = 0;
    int one = 1, zero = 0, err = 0;
    /* Dual-stack where the kernel has IPv6, as the UDP socket. */
    int fd = socket(w->udp_v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    w->tcp.fd = fd;
    struct sockaddr_in6 sin6 = {
        .sin6_family = AF_INET6, .sin6_port = htons(w->tcp_port), .sin6_addr = IN6ADDR_ANY_INIT};
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(w->tcp_port)};
    /* In a SO_REUSEPORT group, as the UDP port: a successor listens before its predecessor
     * closes. */
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        (w->udp_v6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) < 0))
        err = -errno;
    else
        err = w->udp_v6
                  ? reuseport_bind(fd, (struct sockaddr *)&sin6, sizeof(sin6), w->predecessor > 0)
                  : reuseport_bind(fd, (struct sockaddr *)&sin, sizeof(sin), w->predecessor > 0);
    if (!err && listen(fd, ICETCP_BACKLOG) < 0)
        err = -errno;
    if (err < 0)
        return err;
    return worker_poll_readable(w, &w->tcp.poll, fd, WORKER_OPEN_TCP, icetcp_listen_cb);
}

void icetcp_shutdown(struct worker *w)
{
    if (!w->tcp.c)
        return;
    for (int32_t i = 0; i < ICETCP_CONNS; i++)
        icetcp_release(w, i);
}

void icetcp_free(struct worker *w)
{
    if (w->tcp.fd >= 0)
        close(w->tcp.fd);
    w->tcp.fd = -1;
    free(w->tcp.c);
    w->tcp.c = NULL;
}

void icetcp_tick(struct worker *w, uint64_t now)
{
    if (!w->tcp.c || !w->tcp.n_open)
        return;
    for (int32_t i = 0; i < ICETCP_CONNS && !w->stopping; i++) {
        struct icetcp_conn *c = &w->tcp.c[i];
        if (c->state != ICETCP_OPEN)
            continue;
        if (c->viewer < 0 && now - c->open_ns > ICETCP_HANDSHAKE_NS)
            icetcp_close(w, c, "no ICE check within 5 s", true);
        else if (now - c->rx_ns > ICETCP_IDLE_NS)
            icetcp_close(w, c, "nothing received for 30 s", true);
    }
}

int32_t icetcp_owner(const struct worker *w, int32_t conn)
{
    return w->tcp.c[conn].viewer;
}

int icetcp_claim(struct worker *w, int32_t conn, const struct viewer *v)
{
    struct icetcp_conn *c = &w->tcp.c[conn];
    if (!c->q.buf) {
        int err = tcpq_init(&c->q, c->fd, TCPQ_CAP);
        if (err < 0)
            return err;
        c->q.stalled = icetcp_stalled;
        c->q.owner = c;
    }
    c->viewer = viewer_index(&w->viewers, v);
    return 0;
}

void icetcp_send(struct worker *w, int32_t conn, const uint8_t *p, size_t len)
{
    struct icetcp_conn *c = &w->tcp.c[conn];
    if (tcpq_push(&c->q, p, len) < 0) {
        ctl_count(&w->counters->send_drops, 1);
        return;
    }
    if (tcpq_write(&c->q) != 0)
        icetcp_watch(c, true);
}

struct tcpq *icetcp_queue(struct worker *w, int32_t conn)
{
    return &w->tcp.c[conn].q;
}
