/* SPDX-License-Identifier: MIT */
/* demux.h: the egress worker's UDP media socket and the demultiplexing of what arrives on it
 * (RFC 7983): ICE checks, the binding of a session to the candidate pair it proved, DTLS,
 * SRTCP and consent. */
#ifndef RINGCAST_EGRESS_DEMUX_H
#define RINGCAST_EGRESS_DEMUX_H

struct worker;

/* Opens w->udp_fd on w->udp_port (dual-stack where the kernel has IPv6) and starts reading
 * it on w's loop. 0 or -errno. */
int demux_open(struct worker *w);

#endif
