/* SPDX-License-Identifier: MIT */
/* icetcp.c: ICE-TCP (RFC 6544) for viewers whose networks block UDP: the worker's passive TCP
 * listener, a fixed table of connections, RFC 4571 reassembly into demux (STUN, DTLS, SRTCP
 * as on the UDP socket), writes through each connection's bounded queue, and the limits that
 * keep a hostile peer to one connection's worth of harm. */
#include "egress/icetcp.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/reuseport.h"
#include "rtc/tcpframe.h"
#include "egress/demux.h"
#include "egress/worker.h"

#define ICETCP_BACKLOG      128
#define ICETCP_READS        4 /* reads per connection per wakeup */
#define ICETCP_HANDSHAKE_NS ((uint64_t)ICETCP_HANDSHAKE_MS * 1000000)
#define ICETCP_IDLE_NS      ((uint64_t)ICETCP_IDLE_MS * 1000000)

/* One connection: the table's part, then the session that claimed it and RFC 4571
 * reassembly. */
struct icetcp_conn {
    struct conntab_conn base;
    int32_t viewer; /* table index of the session whose check claimed it, -1 = none yet */
    struct tcpframe_rx rx;
};

static struct icetcp_conn *icetcp_at(const struct worker *w, int32_t conn)
{
    return (struct icetcp_conn *)conntab_at(&w->tcp, conn);
}

void icetcp_release(struct worker *w, int32_t conn)
{
    if (conn < 0 || conn >= ICETCP_CONNS || !w->tcp.slots)
        return;
    struct icetcp_conn *c = icetcp_at(w, conn);
    if (c->base.state != CONNTAB_OPEN)
        return;
    c->viewer = -1;
    conntab_close(&c->base);
}

/* Closes c for cause: its session ends if c carried its media, else loses the pair. Counted
 * and logged once (at info for what only a broken or hostile peer does). */
static void icetcp_close(struct worker *w, struct icetcp_conn *c, const char *why, bool refused)
{
    int32_t conn = conntab_index(&w->tcp, &c->base);
    conntab_log_close(&c->base, why, refused);
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

static void icetcp_readable(struct conntab_conn *base)
{
    struct icetcp_conn *c = (struct icetcp_conn *)base;
    struct worker *w = base->tab->owner;
    int32_t conn = conntab_index(&w->tcp, base);
    for (int r = 0; r < ICETCP_READS; r++) {
        size_t room;
        uint8_t *space = tcpframe_rx_space(&c->rx, &room);
        ssize_t n = read(base->fd, space, room);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return;
        if (n <= 0) {
            icetcp_close(w, c, n == 0 ? "closed by the peer" : strerror(errno), false);
            return;
        }
        tcpframe_rx_fill(&c->rx, (size_t)n);
        base->rx_ns = ctl_now_ns();
        const uint8_t *p;
        size_t len;
        int rc;
        while ((rc = tcpframe_rx_next(&c->rx, &p, &len)) > 0) {
            struct demux_src src = {.sa = &base->peer.sa, .conn = conn};
            demux_packet(w, p, len, &src);
            if (base->state != CONNTAB_OPEN)
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

static void icetcp_broken(struct conntab_conn *base, const char *why)
{
    icetcp_close(base->tab->owner, (struct icetcp_conn *)base, why, false);
}

static int icetcp_accepted(struct conntab_conn *base)
{
    ((struct icetcp_conn *)base)->viewer = -1; /* its queue waits for an authenticated check */
    return 0;
}

/* The kernel's share of a connection's backlog (it doubles sndbuf): autotuned, it grew to
 * megabytes on a fast path, seconds of video behind live for a viewer that then slows down,
 * before our queue noticed anything. */
static const struct conntab_params icetcp_params = {
    .log_name = "ice-tcp",
    .kind = "ICE-TCP",
    .cap = ICETCP_CONNS,
    .per_address = ICETCP_PER_ADDRESS,
    .size = sizeof(struct icetcp_conn),
    .zeroed = sizeof(struct icetcp_conn),
    .sndbuf = 256 << 10,
    .accepted = icetcp_accepted,
    .readable = icetcp_readable,
    .broken = icetcp_broken,
};

static void icetcp_listen_cb(uv_poll_t *h, int status, int events)
{
    struct worker *w = h->data;
    if (status >= 0 && (events & UV_READABLE) && !w->stopping)
        conntab_accept(&w->tcp);
}

int icetcp_open(struct worker *w)
{
    w->tcp.fd = -1;
    if (!w->tcp_port)
        return 0;
    int rc = conntab_init(&w->tcp, &icetcp_params, w->loop, w, &w->counters->tcp_refused);
    if (rc < 0)
        return rc;
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
    if (!w->tcp.slots)
        return;
    for (int32_t i = 0; i < w->tcp.fresh; i++)
        icetcp_release(w, i);
}

void icetcp_free(struct worker *w)
{
    conntab_free(&w->tcp);
}

void icetcp_tick(struct worker *w, uint64_t now)
{
    if (!w->tcp.slots || !w->tcp.n_open)
        return;
    for (int32_t i = 0; i < w->tcp.fresh && !w->stopping; i++) {
        struct icetcp_conn *c = icetcp_at(w, i);
        if (c->base.state != CONNTAB_OPEN)
            continue;
        if (c->viewer < 0 && now - c->base.open_ns > ICETCP_HANDSHAKE_NS)
            icetcp_close(w, c, "no ICE check within 5 s", true);
        else if (now - c->base.rx_ns > ICETCP_IDLE_NS)
            icetcp_close(w, c, "nothing received for 30 s", true);
    }
}

int32_t icetcp_owner(const struct worker *w, int32_t conn)
{
    return icetcp_at(w, conn)->viewer;
}

void icetcp_claim(struct worker *w, int32_t conn, const struct viewer *v)
{
    struct icetcp_conn *c = icetcp_at(w, conn);
    if (!c->base.q.pool)
        conntab_queue(&c->base, TCPQ_CAP);
    c->viewer = viewer_index(&w->viewers, v);
}

void icetcp_send(struct worker *w, int32_t conn, const uint8_t *p, size_t len)
{
    struct icetcp_conn *c = icetcp_at(w, conn);
    if (tcpq_push(&c->base.q, p, len) < 0) {
        ctl_count(&w->counters->send_drops, 1);
        return;
    }
    if (tcpq_write(&c->base.q) != 0)
        conntab_watch(&c->base, true);
}

struct tcpq *icetcp_queue(struct worker *w, int32_t conn)
{
    return &icetcp_at(w, conn)->base.q;
}
