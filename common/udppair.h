/* SPDX-License-Identifier: MIT */
/* udppair.h: an RTP/RTCP pair of UDP sockets (RFC 3550 11: RTP on an even port, RTCP on the
 * odd one after it), from a configured range (rtsp_udp_ports) or where the kernel chooses:
 * the RTSP server's readers (egress/rtspd_udp.c) and publishers over UDP (ingest/publish.c);
 * and the check that a datagram comes from the session's host. */
#ifndef RINGCAST_UDPPAIR_H
#define RINGCAST_UDPPAIR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* Binds two non-blocking UDP sockets on local's address (its port ignored): the first free
 * pair of lo..hi, or when lo is 0 an even port the kernel offers (a few attempts) and the
 * one after it. fd[0] gets RTP, fd[1] RTCP, *port the RTP port. 0, -EADDRNOTAVAIL (every
 * pair of the range is taken, or the kernel offered no usable pair) or -errno. */
int udppair_bind(const struct sockaddr *local, uint16_t lo, uint16_t hi, int fd[2], uint16_t *port);

/* Whether a (a datagram's source) has b's host address, whatever the ports: media of a pair is
 * taken only from the host the session is with. */
bool udppair_same_host(const struct sockaddr *a, const struct sockaddr *b);

#endif
