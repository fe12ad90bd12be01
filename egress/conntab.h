/* SPDX-License-Identifier: MIT */
/* conntab.h: a worker's fixed table of accepted TCP connections, shared by ICE-TCP (icetcp.h)
 * and the RTSP server (rtspd.h): slots on a free list, the limits in total and per address,
 * accepting, the poll (writability for the bounded send queue, tcpq.h), closing. Each user's
 * connection struct starts with a struct conntab_conn and carries its own payload after it. */
#ifndef RINGCAST_EGRESS_CONNTAB_H
#define RINGCAST_EGRESS_CONNTAB_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "common/log.h"
#include "egress/tcpq.h"
#include "egress/viewer.h"

#define CONNTAB_ACCEPTS 16                   /* connections accepted per wakeup, then yield */
#define CONNTAB_LOG_NS  (10ull * 1000000000) /* a window of the logs outsiders can cause */
/* Refusals are the peers' to cause: at most this many lines per CONNTAB_LOG_NS, then a count. */
#define CONNTAB_REFUSAL_LOGS 10

enum conntab_state { CONNTAB_FREE = 0, CONNTAB_OPEN, CONNTAB_CLOSING };

struct conntab;

/* The part of a connection the table owns: the first member of the user's struct. */
struct conntab_conn {
    uv_poll_t poll;
    int fd;
    uint8_t state;   /* enum conntab_state */
    uint8_t writing; /* the poll also waits for writability (the queue is not empty) */
    uint8_t pad[2];
    int32_t next_free;
    union viewer_addr peer;
    uint64_t open_ns, rx_ns; /* accepted, last read (the user's timeouts) */
    struct conntab *tab;
    struct tcpq q; /* the send queue: unusable (failed, no pool) until conntab_queue */
};

/* What a table's user fixes once: names, limits, its connection's size, its hooks. */
struct conntab_params {
    const char *log_name; /* the logs' prefix: "ice-tcp" */
    const char *kind;     /* in refusals: "the worker's ICE-TCP connections are all in use" */
    unsigned cap;         /* connections in total */
    unsigned per_address; /* from one IP address, unless unlimited says otherwise */
    size_t size;          /* the user's connection struct, starting with a struct conntab_conn */
    size_t zeroed; /* bytes of it cleared on accept: what follows (a receive buffer) is written
                      before it is read, and its pages are touched only when used */
    int sndbuf;    /* each connection's SO_SNDBUF */
    /* Sets up the user's fields of a connection just accepted (zeroed, fd and peer set, not
     * polled yet). 0, or -errno to refuse it. */
    int (*accepted)(struct conntab_conn *c);
    /* The connection has bytes to read. */
    void (*readable)(struct conntab_conn *c);
    /* The connection failed (a socket error, a failed write: why): the user ends what it
     * carried and calls conntab_close. */
    void (*broken)(struct conntab_conn *c, const char *why);
    /* Optional: whether peer (IPv4 or IPv6, unmapped) may hold more than per_address. */
    bool (*unlimited)(const struct conntab *t, const union viewer_addr *peer);
};

struct conntab {
    int fd; /* the listening socket (the user's to open), -1 when none */
    uv_poll_t poll;
    const struct conntab_params *p;
    uv_loop_t *loop;
    void *owner;               /* the user's (its worker) */
    _Atomic uint64_t *refused; /* connections refused, or closed for a peer's fault */
    uint8_t *slots;            /* p->cap connections of p->size bytes */
    struct tcpq_pool pool;     /* the chunks of their send queues */
    int reserve;   /* an open file given up to accept and close a connection while the process is
                      out of file descriptors (libuv's EMFILE trick): else the listener stays
                      readable and the loop spins */
    uint64_t shed; /* connections closed so since the last line about it */
    struct log_limit shed_log, refusal_log;
    int32_t free_head;
    int32_t fresh; /* connections [fresh, cap) were never used: free, unlinked (their pages are
                      touched only when used); a scan of the table stops at fresh */
    unsigned n_open;
};

/* Allocates p->cap connections for loop. Borrows p, loop, owner and refused; the listener is
 * the caller's to put in t->fd and t->poll. 0 or -ENOMEM; conntab_free releases. */
int conntab_init(struct conntab *t, const struct conntab_params *p, uv_loop_t *loop, void *owner,
                 _Atomic uint64_t *refused);
/* Frees the table and closes the listening socket, after the loop drained. Tolerates a table
 * never initialised (slots NULL, fd -1). */
void conntab_free(struct conntab *t);

/* Accepts up to CONNTAB_ACCEPTS connections waiting on t->fd (its poll is readable). Out of
 * file descriptors (EMFILE, ENFILE) it closes them instead: counted in t->refused, logged at
 * most once per CONNTAB_LOG_NS. */
void conntab_accept(struct conntab *t);
/* Takes fd, accepted from peer: refused (closed, counted in t->refused, logged at debug) or
 * polled in a slot. Returns the slot, or -EAFNOSUPPORT, -ENOSPC (every slot in use), -EBUSY
 * (p->per_address from peer's address already) or the accepted hook's -errno. */
int32_t conntab_admit(struct conntab *t, int fd, union viewer_addr *peer);

/* Logs that c closes for why: counted in t->refused and at info where only a broken or hostile
 * peer causes it (refused; CONNTAB_REFUSAL_LOGS lines per CONNTAB_LOG_NS, then how many more
 * there were), else at debug. */
void conntab_log_close(const struct conntab_conn *c, const char *why, bool refused);
/* Stops polling c, closes its socket and frees its queue; the slot is free again once the
 * poll's close callback ran. Idempotent. */
void conntab_close(struct conntab_conn *c);

/* Gives c its send queue of cap bytes, its chunks from the table's pool; bytes it cannot write
 * at once make the poll wait for writability. */
void conntab_queue(struct conntab_conn *c, uint32_t cap);
/* Polls c for writability too (the queue holds bytes), or no longer. */
void conntab_watch(struct conntab_conn *c, bool writing);

static inline struct conntab_conn *conntab_at(const struct conntab *t, int32_t i)
{
    return (struct conntab_conn *)(t->slots + (size_t)i * t->p->size);
}

static inline int32_t conntab_index(const struct conntab *t, const struct conntab_conn *c)
{
    return (int32_t)(((const uint8_t *)c - t->slots) / t->p->size);
}

#endif
