/* SPDX-License-Identifier: MIT */
/* whip_nack.h: which missing packets a WHIP publisher is asked for, and when (RFC 4585
 * 6.2.1). A sequence number found missing is asked for at once, asked again while no copy
 * has come (at most WHIP_NACK_TRIES times, spaced by the round trip measured from earlier
 * answers), and given up when another round trip would end past the reorder buffer's
 * deadline. Decisions only: whip.c sends the NACKs. Fixed size, no allocation. */
#ifndef RINGCAST_WHIP_NACK_H
#define RINGCAST_WHIP_NACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ingest/rtsp_reorder.h"

#define WHIP_NACK_SLOTS  RTSP_REORDER_SLOTS_MAX /* the most numbers a reorder window holds */
#define WHIP_NACK_TRIES  3                      /* requests per sequence number */
#define WHIP_NACK_RTT_NS (30ull * 1000 * 1000)  /* before any answer was measured */
#define WHIP_NACK_GAP_NS (10ull * 1000 * 1000)  /* shortest spacing of two requests */

/* What the requests achieved; the caller owns them (the session's counters) and the
 * queues of all its tracks add to the same ones. */
struct whip_nack_counts {
    uint64_t asked;     /* sequence numbers asked for a first time */
    uint64_t retried;   /* requests repeated for a sequence number still missing */
    uint64_t recovered; /* asked-for sequence numbers that arrived */
    uint64_t given_up;  /* asked for WHIP_NACK_TRIES times or out of time: not awaited */
};

struct whip_nack_slot {
    bool used;
    uint8_t tries;
    uint16_t seq;
    uint64_t first_ns, sent_ns;
};

struct whip_nack {
    struct whip_nack_counts *n;
    uint64_t window_ns; /* the reorder buffer's: a copy arriving later is useless */
    uint64_t rtt_ns;    /* smoothed, from requests answered after one try (Karn) */
    unsigned pending;
    uint16_t low; /* no pending sequence number is below it (or WHIP_NACK_SLOTS above) */
    struct whip_nack_slot slot[WHIP_NACK_SLOTS];
};

/* Prepares q; counts go to *n (borrowed, kept by the caller). */
void whip_nack_init(struct whip_nack *q, uint64_t window_ns, struct whip_nack_counts *n);
/* Forgets every pending sequence number, counted as given up (a new sender numbers anew). */
void whip_nack_reset(struct whip_nack *q);
/* Sequence numbers from..to-1 were found missing at now_ns (to - from <= WHIP_NACK_SLOTS). */
void whip_nack_missing(struct whip_nack *q, uint16_t from, uint16_t to, uint64_t now_ns);
/* Packet seq arrived: if it was asked for, it is recovered. */
void whip_nack_received(struct whip_nack *q, uint16_t seq, uint64_t now_ns);
/* The sequence numbers to ask for at now_ns (new ones and retries due) into out[0..max),
 * oldest first; gives up on those out of tries or time. Their count. */
size_t whip_nack_due(struct whip_nack *q, uint64_t now_ns, uint16_t *out, size_t max);

#endif
