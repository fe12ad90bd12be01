/* SPDX-License-Identifier: MIT */
/* candidates.h: the host addresses a worker puts in its ICE candidates. */
#ifndef RINGCAST_EGRESS_CANDIDATES_H
#define RINGCAST_EGRESS_CANDIDATES_H

struct worker;

/* Fills w->candidates (after its media socket is open: IPv6 addresses only when it is
 * dual-stack): the configured public_addresses (those the socket cannot serve are left out
 * with a warning), else every address of the up interfaces, loopback last and IPv4 before
 * IPv6 within each, loopback included (as MediaMTX does). */
void candidates_gather(struct worker *w);

#endif
