/* SPDX-License-Identifier: MIT */
/* conntab.c: the fixed connection table of ICE-TCP and the RTSP server: a free list over
 * slots allocated once, the limits that keep one address or a flood to its share, the poll
 * that writes each connection's queue, and the close that gives the slot back. */
#include "egress/conntab.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/sockbuf.h"
#include "shm/ctl.h"

/* Takes the reserve descriptor (struct conntab) if it is not held. */
static void conntab_take_reserve(struct conntab *t)
{
    if (t->reserve < 0)
        t->reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

int conntab_init(struct conntab *t, const struct conntab_params *p, uv_loop_t *loop, void *owner,
                 _Atomic uint64_t *refused)
{
    t->p = p;
    t->loop = loop;
    t->owner = owner;
    t->refused = refused;
    t->free_head = -1;
    t->fresh = 0;
    t->n_open = 0;
    t->pool = (struct tcpq_pool){0};
    t->shed = 0;
    t->shed_log = t->refusal_log = (struct log_limit){0};
    t->reserve = -1;
    t->slots = calloc(p->cap, p->size);
    if (!t->slots)
        return -ENOMEM;
    conntab_take_reserve(t); /* none: conntab_shed says so, conntab_accept tries again */
    return 0;
}

void conntab_free(struct conntab *t)
{
    if (t->fd >= 0)
        close(t->fd);
    t->fd = -1;
    if (t->slots) { /* else the pool and the reserve were never set up */
        tcpq_pool_free(&t->pool);
        if (t->reserve >= 0)
            close(t->reserve);
        t->reserve = -1;
    }
    free(t->slots);
    t->slots = NULL;
}

static void conntab_closed_cb(uv_handle_t *h)
{
    struct conntab_conn *c = h->data;
    struct conntab *t = c->tab;
    c->state = CONNTAB_FREE;
    c->next_free = t->free_head;
    t->free_head = conntab_index(t, c);
}

void conntab_close(struct conntab_conn *c)
{
    if (c->state != CONNTAB_OPEN)
        return;
    c->state = CONNTAB_CLOSING;
    uv_close((uv_handle_t *)&c->poll, conntab_closed_cb);
    close(c->fd);
    c->fd = -1;
    tcpq_free(&c->q);
    c->tab->n_open--;
}

void conntab_log_close(const struct conntab_conn *c, const char *why, bool refused)
{
    struct conntab *t = c->tab;
    char peer[64];
    viewer_format_addr(&c->peer.sa, peer, sizeof(peer));
    if (!refused) {
        log_debug("%s: connection from %s closed: %s", t->p->log_name, peer, why);
        return;
    }
    ctl_count(t->refused, 1);
    uint32_t held;
    bool pass =
        log_limit_pass(&t->refusal_log, ctl_now_ns(), CONNTAB_LOG_NS, CONNTAB_REFUSAL_LOGS, &held);
    if (held)
        log_info("%s: %u more connections closed for their peers' faults, not logged one by one "
                 "(%u lines per %llu s)",
                 t->p->log_name, held, CONNTAB_REFUSAL_LOGS,
                 (unsigned long long)(CONNTAB_LOG_NS / 1000000000));
    if (pass)
        log_info("%s: connection from %s closed: %s", t->p->log_name, peer, why);
}

static void conntab_conn_cb(uv_poll_t *h, int status, int events)
{
    struct conntab_conn *c = h->data;
    const struct conntab_params *p = c->tab->p;
    if (c->state != CONNTAB_OPEN)
        return;
    if (status < 0) {
        p->broken(c, uv_strerror(status));
        return;
    }
    if (events & UV_WRITABLE) {
        int left = tcpq_write(&c->q);
        if (left < 0) {
            p->broken(c, strerror(-left));
            return;
        }
        if (c->q.failed && c->q.pool) { /* a write from media failed earlier */
            p->broken(c, "a write failed");
            return;
        }
        conntab_watch(c, left > 0);
    }
    if (events & UV_READABLE)
        p->readable(c);
}

void conntab_watch(struct conntab_conn *c, bool writing)
{
    if (c->writing == writing)
        return;
    c->writing = writing;
    (void)uv_poll_start(&c->poll, UV_READABLE | (writing ? UV_WRITABLE : 0), conntab_conn_cb);
}

/* The queue kept bytes the socket did not take (or failed): wait for writability, where a
 * failure shows too. Never closes here: media may be iterating its viewers. */
static void conntab_stalled(struct tcpq *q)
{
    conntab_watch(q->owner, true);
}

void conntab_queue(struct conntab_conn *c, uint32_t cap)
{
    tcpq_init(&c->q, c->fd, cap, &c->tab->pool);
    c->q.stalled = conntab_stalled;
    c->q.owner = c;
}

/* Open connections from the same IP address as peer. */
static unsigned conntab_count_from(const struct conntab *t, const union viewer_addr *peer)
{
    unsigned n = 0;
    for (int32_t i = 0; i < t->fresh; i++) {
        const struct conntab_conn *c = conntab_at(t, i);
        if (c->state != CONNTAB_OPEN || c->peer.sa.sa_family != peer->sa.sa_family)
            continue;
        if (peer->sa.sa_family == AF_INET)
            n += c->peer.in.sin_addr.s_addr == peer->in.sin_addr.s_addr;
        else
            n += memcmp(&c->peer.in6.sin6_addr, &peer->in6.sin6_addr, 16) == 0;
    }
    return n;
}

/* The slot a connection from peer may take (its index), or why not (-errno, *why). */
static int32_t conntab_slot_for(struct conntab *t, union viewer_addr *peer, char *why, size_t len)
{
    if (t->free_head < 0 && t->fresh < (int32_t)t->p->cap) { /* the next never-used one */
        conntab_at(t, t->fresh)->next_free = -1;
        t->free_head = t->fresh++;
    }
    if (viewer_addr_unmap(peer) < 0) {
        snprintf(why, len, "an address family not served");
        return -EAFNOSUPPORT;
    }
    if (t->free_head < 0) {
        snprintf(why, len, "the worker's %s connections are all in use", t->p->kind);
        return -ENOSPC;
    }
    if ((!t->p->unlimited || !t->p->unlimited(t, peer)) &&
        conntab_count_from(t, peer) >= t->p->per_address) {
        snprintf(why, len, "too many %s connections from its address", t->p->kind);
        return -EBUSY;
    }
    return t->free_head;
}

int32_t conntab_admit(struct conntab *t, int fd, union viewer_addr *peer)
{
    char why[96];
    int32_t i = conntab_slot_for(t, peer, why, sizeof(why));
    struct conntab_conn *c = i >= 0 ? conntab_at(t, i) : NULL;
    if (c) {
        int32_t next_free = c->next_free;
        memset(c, 0, t->p->zeroed);
        c->fd = fd;
        c->tab = t;
        c->peer = *peer;
        c->q.fd = -1;
        c->q.failed = 1; /* no queue before conntab_queue */
        int err = t->p->accepted(c);
        if (err < 0 || (err = uv_poll_init(t->loop, &c->poll, fd)) < 0) {
            tcpq_free(&c->q);
            c->next_free = next_free;
            snprintf(why, sizeof(why), "%s", err == -ENOMEM ? "out of memory" : uv_strerror(err));
            i = err;
        } else {
            t->free_head = next_free;
        }
    }
    if (i < 0) {
        char from[64];
        viewer_format_addr(&peer->sa, from, sizeof(from));
        ctl_count(t->refused, 1);
        log_debug("%s: connection from %s refused: %s", t->p->log_name, from, why);
        close(fd);
        return i;
    }
    int one = 1;
    /* Media leaves as it is written: Nagle would hold a frame's tail back. */
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    (void)sockbuf_set_snd(fd, t->p->sndbuf);
    c->poll.data = c;
    c->state = CONNTAB_OPEN;
    c->open_ns = c->rx_ns = ctl_now_ns();
    t->n_open++;
    (void)uv_poll_start(&c->poll, UV_READABLE, conntab_conn_cb);
    return i;
}

/* Out of file descriptors, with connections waiting: the reserve's descriptor takes each in
 * turn, to be closed at once (the peer sees a reset, not a hang), up to CONNTAB_ACCEPTS. */
static void conntab_shed(struct conntab *t, int err)
{
    uint64_t n = 0;
    if (t->reserve >= 0) {
        close(t->reserve);
        for (; n < CONNTAB_ACCEPTS; n++) {
            int fd = accept4(t->fd, NULL, NULL, SOCK_CLOEXEC);
            if (fd < 0)
                break;
            close(fd);
        }
        t->reserve = -1;
        conntab_take_reserve(t);
    }
    if (!n) /* fds ran out as the backlog emptied: accept(2) takes a descriptor first */
        return;
    ctl_count(t->refused, n);
    t->shed += n;
    if (!log_limit_pass(&t->shed_log, ctl_now_ns(), CONNTAB_LOG_NS, 1, NULL))
        return;
    log_warn("%s: out of file descriptors (%s): %" PRIu64 " connection(s) closed at accept%s",
             t->p->log_name, strerror(err), t->shed,
             t->reserve < 0 ? "; no descriptor left to close the next ones with" : "");
    t->shed = 0;
}

void conntab_accept(struct conntab *t)
{
    /* The reserve could not be taken back after shedding (another process took the system's
     * last descriptor, ENFILE): try again, before it is needed. */
    conntab_take_reserve(t);
    for (int i = 0; i < CONNTAB_ACCEPTS; i++) {
        union viewer_addr peer;
        socklen_t plen = sizeof(peer);
        memset(&peer, 0, sizeof(peer));
        int fd = accept4(t->fd, &peer.sa, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0 && (errno == EMFILE || errno == ENFILE)) {
            conntab_shed(t, errno);
            return;
        }
        if (fd < 0)
            return; /* EAGAIN, or a connection reset before it was accepted */
        (void)conntab_admit(t, fd, &peer);
    }
}
