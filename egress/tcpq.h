/* SPDX-License-Identifier: MIT */
/* tcpq.h: the bounded send queue of one TCP connection carrying media: RFC 4571 frames (ICE-TCP)
 * or RTSP interleaved frames and messages (RFC 2326 10.12), in a chain of fixed-size chunks taken
 * from its table's pool and given back as they are written, written with one sendmsg of every
 * chunk, never blocking. A packet that does not fit is refused, so a viewer that stops reading
 * costs at most the queue, and one that keeps up holds no chunk between writes. */
#ifndef RINGCAST_EGRESS_TCPQ_H
#define RINGCAST_EGRESS_TCPQ_H

#include <stddef.h>
#include <stdint.h>

/* Bytes queued per connection at most: two large keyframes, about a second at 4 Mbit/s. */
#define TCPQ_CAP (512u << 10)
/* Bytes of one chunk: a delta frame of a 2 Mbit/s stream fits one, a keyframe a few. */
#define TCPQ_CHUNK (16u << 10)
/* Free chunks a pool keeps for the next pushes (1 MiB); the ones given back beyond are freed. */
#define TCPQ_POOL_KEEP 64u

struct tcpq_chunk {
    struct tcpq_chunk *next;
    uint8_t b[TCPQ_CHUNK];
};

/* The free chunks of the queues of one thread (a worker's connection table): recycled, so a
 * push allocates only while the queues together hold more than ever before. */
struct tcpq_pool {
    struct tcpq_chunk *free;
    uint32_t n_free;
    uint32_t held; /* chunks in queues */
};

struct tcpq {
    struct tcpq_pool *pool; /* NULL before tcpq_init and after tcpq_free */
    struct tcpq_chunk *first, *last;
    uint32_t chunks; /* in the chain: exactly those holding bytes [0, head + len) */
    uint32_t cap;
    uint32_t head; /* first unsent byte, in first */
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

/* Frees the pool's free chunks (every queue of it was freed before). */
void tcpq_pool_free(struct tcpq_pool *pool);

/* Sets up an empty queue of cap bytes for fd (borrowed), its chunks from pool (borrowed). */
void tcpq_init(struct tcpq *q, int fd, uint32_t cap, struct tcpq_pool *pool);
/* Gives its chunks back; the queue then refuses everything. Tolerates a queue never
 * initialised (zeroed). */
void tcpq_free(struct tcpq *q);
/* Appends one framed packet. 0, -ENOBUFS when it does not fit (the cap, or no memory for a
 * chunk: nothing appended), -EMSGSIZE above 65535 bytes, -EPIPE once the queue failed or was
 * freed. */
int tcpq_push(struct tcpq *q, const uint8_t *p, size_t len);
/* Appends one RTSP interleaved frame: '$', channel, 16-bit length, packet (RFC 2326 10.12).
 * Returns as tcpq_push. */
int tcpq_push_interleaved(struct tcpq *q, uint8_t channel, const uint8_t *p, size_t len);
/* Appends bytes as they are (an RTSP response, which must not split an interleaved frame).
 * 0, -ENOBUFS or -EPIPE. */
int tcpq_push_raw(struct tcpq *q, const uint8_t *p, size_t len);
/* Takes back the packet of len bytes pushed last (not written yet). */
void tcpq_unpush(struct tcpq *q, size_t len);
/* Drops what was pushed since the mark (a torn frame's packets): never a written byte. */
void tcpq_rollback(struct tcpq *q);
/* Writes as much as the socket takes. Returns the bytes still queued (>= 0), or -errno for a
 * socket error (the queue is marked failed and emptied). */
int tcpq_write(struct tcpq *q);

static inline uint32_t tcpq_queued(const struct tcpq *q)
{
    return q->len;
}

/* Bytes of memory the queue holds: its chunks, none when it is empty. */
static inline size_t tcpq_bytes_held(const struct tcpq *q)
{
    return (size_t)q->chunks * sizeof(struct tcpq_chunk);
}

#endif
