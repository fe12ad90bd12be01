/* SPDX-License-Identifier: MIT */
/* forward.h: DELETEs forwarded to the worker that owns the session, over an abstract unix
 * datagram socket per worker whose senders are checked by their credentials. */
#ifndef RINGCAST_EGRESS_FORWARD_H
#define RINGCAST_EGRESS_FORWARD_H

#include <stdint.h>
#include <uv.h>

#include "common/log.h"

#define FORWARD_PENDING 64  /* forwarded DELETEs awaiting their owner's answer */
#define FORWARD_OUTBOX  128 /* messages waiting for room in a peer's socket queue */
#define FORWARD_MSG_MAX 128

struct worker;

/* A forwarded request waiting for the owner's answer. */
struct forward_pending {
    uint64_t nonce; /* random, carried by the request and its answer; 0 = free */
    uint64_t token; /* the deferred HTTP request to complete */
};

/* A message the peer's queue had no room for (a unix datagram queue holds only
 * net.unix.max_dgram_qlen, 10 by default): sent again from the retry timer. */
struct forward_msg {
    uint64_t queued_ns;
    unsigned to; /* worker index */
    uint16_t len;
    char text[FORWARD_MSG_MAX];
};

struct forward {
    int fd;
    int open; /* poll and retry are initialised (closed by forward_close) */
    uv_poll_t poll;
    uv_timer_t retry; /* runs while the outbox holds messages */
    struct forward_pending pending[FORWARD_PENDING];
    unsigned next_pending; /* where the search for a free pending slot starts */
    struct forward_msg out[FORWARD_OUTBOX];
    unsigned out_head, out_count;
    uint64_t refused; /* messages refused (credentials, syntax) */
    struct log_limit refused_log;
    uint64_t expired; /* outbox messages given up: timed out, or their worker gone */
};

/* Opens and starts reading w's forwarding socket. 0 or -errno. */
int forward_open(struct worker *w);
/* Stops reading and closes the socket now (a successor may bind the name); queued messages
 * are dropped, their requests answered by the HTTP server's own timeout. */
void forward_close(struct forward *f);

/* Asks worker index to end session of path (it owns it); its answer (200 or 404) completes
 * the deferred HTTP request token. 0 or -errno: the owner is unreachable (-ECONNREFUSED),
 * or too many requests are in flight (-EBUSY, -ENOBUFS). */
int forward_delete(struct worker *w, unsigned index, const char *path, const char *session,
                   uint64_t token);

#endif
