/* SPDX-License-Identifier: MIT */
/* tcpq.c: a media TCP connection's bounded send queue: RFC 4571 or RTSP interleaved frames
 * copied once per packet into a chain of chunks from the table's pool, written in one sendmsg
 * per flush (a piece per chunk), each chunk given back to the pool once written. */
#include "egress/tcpq.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "rtc/tcpframe.h"

/* Pieces of one sendmsg: a full queue of TCPQ_CAP spans TCPQ_CAP / TCPQ_CHUNK + 1 chunks; a
 * longer one is written in several. */
#define TCPQ_IOV 64

_Static_assert(TCPQ_CAP / TCPQ_CHUNK + 1 <= TCPQ_IOV, "a full queue is one sendmsg");

static struct tcpq_chunk *tcpq_pool_take(struct tcpq_pool *pool)
{
    struct tcpq_chunk *c = pool->free;
    if (c) {
        pool->free = c->next;
        pool->n_free--;
    } else if (!(c = malloc(sizeof(*c)))) {
        return NULL;
    }
    c->next = NULL;
    pool->held++;
    return c;
}

/* Keeps c for the next push, or frees it when the pool has enough: what a burst took (many
 * stalled viewers) does not stay resident after it. */
static void tcpq_pool_give(struct tcpq_pool *pool, struct tcpq_chunk *c)
{
    pool->held--;
    if (pool->n_free >= TCPQ_POOL_KEEP) {
        free(c);
        return;
    }
    c->next = pool->free;
    pool->free = c;
    pool->n_free++;
}

void tcpq_pool_free(struct tcpq_pool *pool)
{
    while (pool->free) {
        struct tcpq_chunk *next = pool->free->next;
        free(pool->free);
        pool->free = next;
    }
    pool->n_free = 0;
}

/* Chunks that hold n bytes from a chain's start. */
static uint32_t tcpq_chunks_for(uint32_t n)
{
    return (n + TCPQ_CHUNK - 1) / TCPQ_CHUNK;
}

/* Gives back the chunks past the queued bytes (every one when it is empty, so an idle queue
 * holds nothing and the next push starts a chunk afresh). */
static void tcpq_trim(struct tcpq *q)
{
    if (!q->len)
        q->head = 0;
    uint32_t keep = tcpq_chunks_for(q->head + q->len);
    if (keep == q->chunks)
        return;
    struct tcpq_chunk **at = &q->first, *last = NULL;
    for (uint32_t i = 0; i < keep; i++) {
        last = *at;
        at = &last->next;
    }
    struct tcpq_chunk *c = *at;
    *at = NULL;
    q->last = last;
    q->chunks = keep;
    while (c) {
        struct tcpq_chunk *next = c->next;
        tcpq_pool_give(q->pool, c);
        c = next;
    }
}

void tcpq_init(struct tcpq *q, int fd, uint32_t cap, struct tcpq_pool *pool)
{
    memset(q, 0, sizeof(*q));
    q->fd = fd;
    q->cap = cap;
    q->pool = pool;
}

void tcpq_free(struct tcpq *q)
{
    q->len = q->mark = 0;
    if (q->pool)
        tcpq_trim(q);
    q->pool = NULL;
    q->cap = 0;
    q->failed = 1;
}

/* Copies n bytes at offset *off of chunk *c on, moving both past them. */
static void tcpq_copy_in(struct tcpq_chunk **c, uint32_t *off, const uint8_t *p, size_t n)
{
    while (n) {
        if (*off == TCPQ_CHUNK) {
            *c = (*c)->next;
            *off = 0;
        }
        size_t k = TCPQ_CHUNK - *off < n ? TCPQ_CHUNK - *off : n;
        memcpy((*c)->b + *off, p, k);
        *off += (uint32_t)k;
        p += k;
        n -= k;
    }
}

/* Appends hdr[0..hl) then p[0..len), or nothing. A framed packet (hl > 0) has a 16-bit length. */
static int tcpq_put(struct tcpq *q, const uint8_t *hdr, size_t hl, const uint8_t *p, size_t len)
{
    if (q->failed || !q->pool)
        return -EPIPE;
    if (hl && len > 0xffff)
        return -EMSGSIZE;
    if (q->cap - q->len < hl + len)
        return -ENOBUFS;
    uint32_t end = q->head + q->len;
    struct tcpq_chunk *c = q->last; /* where the bytes go: its free part, else the next one */
    while (q->chunks < tcpq_chunks_for(end + (uint32_t)(hl + len))) {
        struct tcpq_chunk *n = tcpq_pool_take(q->pool);
        if (!n) {
            tcpq_trim(q);
            return -ENOBUFS;
        }
        *(q->last ? &q->last->next : &q->first) = n;
        q->last = n;
        q->chunks++;
    }
    uint32_t off = end % TCPQ_CHUNK;
    if (!c)
        c = q->first;
    else if (off == 0)
        off = TCPQ_CHUNK; /* c is full: tcpq_copy_in moves on to the next */
    tcpq_copy_in(&c, &off, hdr, hl);
    tcpq_copy_in(&c, &off, p, len);
    q->len += (uint32_t)(hl + len);
    q->last_hdr = (uint8_t)hl;
    return 0;
}

int tcpq_push(struct tcpq *q, const uint8_t *p, size_t len)
{
    uint8_t hdr[TCPFRAME_HDR];
    tcpframe_header(hdr, len);
    return tcpq_put(q, hdr, sizeof(hdr), p, len);
}

int tcpq_push_interleaved(struct tcpq *q, uint8_t channel, const uint8_t *p, size_t len)
{
    uint8_t hdr[4] = {'$', channel, (uint8_t)(len >> 8), (uint8_t)len};
    return tcpq_put(q, hdr, sizeof(hdr), p, len);
}

int tcpq_push_raw(struct tcpq *q, const uint8_t *p, size_t len)
{
    return tcpq_put(q, NULL, 0, p, len);
}

void tcpq_unpush(struct tcpq *q, size_t len)
{
    q->len -= (uint32_t)(q->last_hdr + len);
    if (q->mark > q->len)
        q->mark = q->len;
    tcpq_trim(q);
}

void tcpq_rollback(struct tcpq *q)
{
    q->len = q->mark;
    if (q->pool)
        tcpq_trim(q);
}

/* Moves the queue's start n written bytes on, giving back the chunks they emptied. */
static void tcpq_consume(struct tcpq *q, uint32_t n)
{
    q->len -= n;
    q->head += n;
    while (q->len && q->head >= TCPQ_CHUNK) {
        struct tcpq_chunk *c = q->first;
        q->first = c->next;
        q->head -= TCPQ_CHUNK;
        q->chunks--;
        tcpq_pool_give(q->pool, c);
    }
    tcpq_trim(q);
}

int tcpq_write(struct tcpq *q)
{
    while (q->len && !q->failed) {
        struct iovec iov[TCPQ_IOV];
        unsigned n_iov = 0;
        uint32_t off = q->head, left = q->len;
        for (struct tcpq_chunk *c = q->first; c && left && n_iov < TCPQ_IOV; c = c->next) {
            uint32_t k = TCPQ_CHUNK - off < left ? TCPQ_CHUNK - off : left;
            iov[n_iov++] = (struct iovec){.iov_base = c->b + off, .iov_len = k};
            left -= k;
            off = 0;
        }
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = n_iov};
        ssize_t n = sendmsg(q->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n < 0) {
            int err = -errno;
            q->failed = 1;
            q->len = q->mark = 0;
            tcpq_trim(q);
            return err;
        }
        tcpq_consume(q, (uint32_t)n);
    }
    /* A write may have sent part of a frame: a later roll-back must not reach below what is
     * queued now, or the stream would lose its framing. */
    q->mark = q->len;
    return (int)q->len;
}
