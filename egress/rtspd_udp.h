/* SPDX-License-Identifier: MIT */
/* rtspd_udp.h: RTSP readers over UDP: the worker's RTP/RTCP socket pair (rtsp_udp_ports, else
 * the kernel's choice), each session's per-track destinations (struct media_udp) and the
 * clients' RTCP matched to their session by source address. */
#ifndef RINGCAST_EGRESS_RTSPD_UDP_H
#define RINGCAST_EGRESS_RTSPD_UDP_H

#include "egress/rtspd.h"

struct worker;

/* Binds the pair on a's address (its port ignored): the first free even/odd pair of
 * rtsp_udp_ports, else one the kernel chooses; starts reading both. 0, -EADDRNOTAVAIL (the range
 * is all taken) or -errno. */
int rtspd_udp_open(struct worker *w, const union viewer_addr *a);
/* Closes the sockets' polls (the worker stops). */
void rtspd_udp_shutdown(struct worker *w);
/* Closes the sockets, after the loop drained. */
void rtspd_udp_free(struct worker *w);
/* Sets c's destinations for track: its RTP and RTCP to client_port[0] and [1] of c's peer
 * address. 0, -EINVAL (ports outside 1..65535), -EPROTONOSUPPORT (no UDP sockets, or a track
 * index beyond MEDIA_MAX_TRACKS) or -EAFNOSUPPORT. */
int rtspd_udp_dest(const struct worker *w, struct rtspd_conn *c, unsigned track,
                   const int client_port[2]);
/* The address c's media must leave from: the one its client connected to, since clients take
 * RTP only from the server's address (a node bound to several, or to 0.0.0.0, would otherwise
 * send from the kernel's choice); 0 (the kernel's choice) on an IPv6 socket. */
uint32_t rtspd_udp_source(const struct worker *w, const struct rtspd_conn *c);

#endif
