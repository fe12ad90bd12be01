/* SPDX-License-Identifier: MIT */
/* tcpq.h: the bounded send queue of one TCP connection carrying media: RFC 4571 frames (ICE-TCP)
 * or RTSP interleaved frames and messages (RFC 2326 10.12), in a ring of a fixed size, written
 * with one sendmsg of at most two pieces, never blocking. A packet that does not fit is refused,
 * so a viewer that stops reading costs at most the queue. */
#ifndef RINGCAST_EGRESS_TCPQ_H
#define RINGCAST_EGRESS_TCPQ_H

#include <stddef.h>
#include <stdint.h>

/* Bytes queued per connection at most: two large keyframes, about a second at 4 Mbit/s. */
#define TCPQ_CAP (512u << 10)

struct tcpq {
    uint8_t *buf;
    uint32_t cap;
    uint32_t head; /* first unsent byte */
    uint32_t len;  /* bytes queued */
    uint32_t mark; /* len at the batch's start or the last write: a roll-back stops there */
    int fd;
    uint8_t dirty;    /* on the media worker's list of queues to write at the batch's end */
    uint8_t failed;   /* the socket reported an error: nothing more is written */
    uint8_t last_hdr; /* framing bytes of the packet pushed last (tcpq_unpush) */
    uint8_t pad;
    struct tcpq *next_dirty;
    /* Called when bytes remain after a write (the socket's buffer is full): the owner then
     * watches the socket for writability and calls tcpq_write again. */
    void (*stalled)(struct tcpq *q);
    void *owner;
};

/* Allocates a queue of cap bytes for fd (borrowed). 0 or -ENOMEM. */
int tcpq_init(struct tcpq *q, int fd, uint32_t cap);
/* Frees the buffer; the queue then refuses everything. Tolerates a queue never initialised
 * (zeroed). */
void tcpq_free(struct tcpq *q);
/* Appends one framed packet. 0, -ENOBUFS when it does not fit (nothing appended), -EMSGSIZE
 * above 65535 bytes, -EPIPE once the queue failed or was freed. */
int tcpq_push(struct tcpq *q, const uint8_t *p, size_t len);
/* Appends one RTSP interleaved frame: '$', channel, 16-bit length, packet (RFC 2326 10.12).
 * Returns as tcpq_push. */
int tcpq_push_interleaved(struct tcpq *q, uint8_t channel, const uint8_t *p, size_t len);
/* Appends bytes as they are (an RTSP response, which must not split an interleaved frame).
 * 0, -ENOBUFS or -EPIPE. */
int tcpq_push_raw(struct tcpq *q, const uint8_t *p, size_t len);
/* Takes back the packet of len bytes pushed last (not written yet). */
void tcpq_unpush(struct tcpq *q, size_t len);
/* Writes as much as the socket takes. Returns the bytes still queued (>= 0), or -errno for a
 * socket error (the queue is marked failed and emptied). */
int tcpq_write(struct tcpq *q);

/* Drops what was pushed since the mark (a torn frame's packets): never a written byte. */
static inline void tcpq_rollback(struct tcpq *q)
{
    q->len = q->mark;
}

static inline uint32_t tcpq_queued(const struct tcpq *q)
{
    return q->len;
}

#endif
