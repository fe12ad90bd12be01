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

#include "egress/conntab.h"
#include "egress/tcpq.h"
#include "egress/viewer.h"

#define ICETCP_CONNS        1024  /* connections per worker */
#define ICETCP_PER_ADDRESS  64    /* from one IP address (a NAT hides many viewers) */
#define ICETCP_HANDSHAKE_MS 5000  /* an authenticated ICE check must arrive within this */
#define ICETCP_IDLE_MS      30000 /* nothing received for this long: closed */

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
 * pairs and gets its send queue (empty: it takes chunks as media is queued). */
void icetcp_claim(struct worker *w, int32_t conn, const struct viewer *v);
/* Queues one packet (STUN, DTLS) framed on conn and writes it. */
void icetcp_send(struct worker *w, int32_t conn, const uint8_t *p, size_t len);
/* conn's send queue, for media. */
struct tcpq *icetcp_queue(struct worker *w, int32_t conn);
/* Closes conn without touching its session (the session is ending). Idempotent. */
void icetcp_release(struct worker *w, int32_t conn);

#endif
