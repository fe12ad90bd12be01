/* SPDX-License-Identifier: MIT */
/* demux.h: the egress worker's UDP media socket and the demultiplexing of what arrives on it
 * (RFC 7983), or in an ICE-TCP frame: ICE checks, the binding of a session to the candidate pair it
 * proved, DTLS, SRTCP and consent. */
#ifndef RINGCAST_EGRESS_DEMUX_H
#define RINGCAST_EGRESS_DEMUX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct worker;

/* Where a packet came from: a UDP address (and our IPv4 address it arrived at, 0 = unknown),
 * or an ICE-TCP connection (egress/icetcp.h) whose peer is sa. */
struct demux_src {
    const struct sockaddr *sa;
    uint32_t local;
    int32_t conn; /* -1 for UDP */
};

/* One packet (a datagram, or an RFC 4571 frame's payload), len >= 1, sorted by its first
 * byte (RFC 7983). */
void demux_packet(struct worker *w, const uint8_t *p, size_t len, const struct demux_src *src);

struct viewer;

/* RFC 7675 5.1: asks v, on its bound pair, to prove it still wants media (the sender obtains
 * consent); an authenticated answer refreshes v's consent. Repeated at most every 200 ms. */
void demux_consent_probe(struct worker *w, struct viewer *v, uint64_t now);

/* Opens w->udp_fd on w->udp_port (dual-stack where the kernel has IPv6) and starts reading
 * it on w's loop. 0 or -errno. */
int demux_open(struct worker *w);

#endif
