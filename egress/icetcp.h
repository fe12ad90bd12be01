/* SPDX-License-Identifier: MIT */
/* icetcp.h: the worker's ICE-TCP listener (RFC 6544, passive host candidates) and its
 * connections: RFC 4571 frames in, handed to demux.h as if they were datagrams; each
 * connection a candidate pair of the session whose check first authenticated on it, with a
 * bounded send queue (tcpq.h). Limits: connections in total and per address, an ICE check
 * within ICETCP_HANDSHAKE_MS, ICETCP_IDLE_MS of silence; bad framing closes one connection. */
#ifndef RINGCAST_EGRESS_ICETCP_H
#define RINGCAST_EGRESS_ICETCP_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "rtc/tcpframe.h"
#include "egress/tcpq.h"
#include "egress/viewer.h"

#define ICETCP_CONNS        1024  /* connections per worker */
#define ICETCP_PER_ADDRESS  64    /* from one IP address (a NAT hides many viewers) */
#define ICETCP_HANDSHAKE_MS 5000  /* an authenticated ICE check must arrive within this */
#define ICETCP_IDLE_MS      30000 /* nothing received for this long: closed */

enum icetcp_state { ICETCP_FREE = 0, ICETCP_OPEN, ICETCP_CLOSING };

struct icetcp_conn {
    uv_poll_t poll;
    int fd;
    uint8_t state;   /* enum icetcp_state */
    uint8_t writing; /* the poll also waits for writability (the queue is not empty) */
    uint8_t pad[2];
    int32_t viewer; /* table index of the session whose check claimed it, -1 = none yet */
    int32_t next_free;
    union viewer_addr peer;
    uint64_t open_ns, rx_ns;
    struct worker *w;
    struct tcpq q;
    struct tcpframe_rx rx;
};

struct icetcp {
    int fd; /* the listening socket, -1 when ICE-TCP is off */
    uv_poll_t poll;
    struct icetcp_conn *c; /* ICETCP_CONNS */
    int32_t free_head;
    int32_t fresh; /* connections [fresh, ICETCP_CONNS) were never used: free, unlinked (their
                      pages are touched only when used) */
    unsigned n_open;
};

struct worker;

/* Listens on w->tcp_port (nothing when it is 0) on w's loop. 0 or -errno. */
int icetcp_open(struct worker *w);
/* Closes every connection and the listener's poll (the worker is stopping). */
void icetcp_shutdown(struct worker *w);
/* Frees the table and closes the listening socket, after the loop drained. */
void icetcp_free(struct worker *w);
/* Closes connections past their handshake deadline or idle. */
void icetcp_tick(struct worker *w, uint64_t now_ns);

/* The table index of the session that claimed connection conn, or -1. */
int32_t icetcp_owner(const struct worker *w, int32_t conn);
/* An authenticated check of session v arrived on conn: the connection becomes one of its
 * pairs and gets its send queue. 0 or -ENOMEM. */
int icetcp_claim(struct worker *w, int32_t conn, const struct viewer *v);
/* Queues one packet (STUN, DTLS) framed on conn and writes it. */
void icetcp_send(struct worker *w, int32_t conn, const uint8_t *p, size_t len);
/* conn's send queue, for media. */
struct tcpq *icetcp_queue(struct worker *w, int32_t conn);
/* Closes conn without touching its session (the session is ending). Idempotent. */
void icetcp_release(struct worker *w, int32_t conn);

#endif
