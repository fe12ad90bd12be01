/* SPDX-License-Identifier: MIT */
/* tcpq.c: a media TCP connection's bounded send queue: a byte ring of RFC 4571 or RTSP
 * interleaved frames, copied in once per packet and written in one sendmsg per flush (two pieces
 * when it wraps). */
#include "egress/tcpq.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "rtc/tcpframe.h"

int tcpq_init(struct tcpq *q, int fd, uint32_t cap)
{
    memset(q, 0, sizeof(*q));
    q->fd = fd;
    q->buf = malloc(cap);
    if (!q->buf)
        return -ENOMEM;
    q->cap = cap;
    return 0;
}

void tcpq_free(struct tcpq *q)
{
    free(q->buf);
    q->buf = NULL;
    q->cap = q->head = q->len = q->mark = 0;
    q->failed = 1;
}

/* Copies n bytes to the ring at logical offset at (from head), wrapping. */
static void tcpq_copy_in(struct tcpq *q, uint32_t at, const uint8_t *p, size_t n)
{
    uint32_t pos = (q->head + at) % q->cap;
    size_t first = q->cap - pos < n ? q->cap - pos : n;
    memcpy(q->buf + pos, p, first);
    memcpy(q->buf, p + first, n - first);
}

/* Appends hdr[0..hl) then p[0..len), or nothing. A framed packet (hl > 0) has a 16-bit length. */
static int tcpq_put(struct tcpq *q, const uint8_t *hdr, size_t hl, const uint8_t *p, size_t len)
{
    if (q->failed || !q->buf)
        return -EPIPE;
    if (hl && len > 0xffff)
        return -EMSGSIZE;
    if (q->cap - q->len < hl + len)
        return -ENOBUFS;
    if (hl)
        tcpq_copy_in(q, q->len, hdr, hl);
    tcpq_copy_in(q, q->len + (uint32_t)hl, p, len);
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
}

int tcpq_write(struct tcpq *q)
{
    while (q->len && !q->failed) {
        uint32_t first = q->cap - q->head < q->len ? q->cap - q->head : q->len;
        struct iovec iov[2] = {{.iov_base = q->buf + q->head, .iov_len = first},
                               {.iov_base = q->buf, .iov_len = q->len - first}};
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = q->len > first ? 2 : 1};
        ssize_t n = sendmsg(q->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n < 0) {
            int err = -errno;
            q->failed = 1;
            q->len = q->mark = 0;
            return err;
        }
        q->head = (q->head + (uint32_t)n) % q->cap;
        q->len -= (uint32_t)n;
    }
    /* A write may have sent part of a frame: a later roll-back must not reach below what is
     * queued now, or the stream would lose its framing. */
    q->mark = q->len;
    return (int)q->len;
}
