/* SPDX-License-Identifier: MIT */
/* rtsp_lower.h: which lower transport the RTSP client asks for in SETUP (RFC 2326 12.39:
 * RTP/AVP/TCP interleaved or RTP/AVP over UDP) under `transport = auto|tcp|udp`, and when to
 * change it. Pure decisions without I/O: rtsp_session.c acts on them and logs them. */
#ifndef RINGCAST_RTSP_LOWER_H
#define RINGCAST_RTSP_LOWER_H

#include <stdbool.h>

#include "common/config.h"

/* auto: UDP that delivers no RTP this long after PLAY is given up for TCP (a firewall). */
#define RTSP_UDP_PROBE_MS 3000

enum rtsp_lower_event {
    RTSP_LOWER_REFUSED, /* SETUP answered 4xx/5xx, or with a Transport of the other kind */
    RTSP_LOWER_NO_RTP,  /* PLAY succeeded, yet no RTP within RTSP_UDP_PROBE_MS */
};

struct rtsp_lower {
    enum config_transport mode; /* as configured */
    /* What SETUP asks for, TRANSPORT_TCP or TRANSPORT_UDP. It outlives attempts: a
     * reconnect starts with what worked last (TCP first when nothing has yet). */
    enum config_transport cur;
    unsigned failed; /* 1 << transport: gave up on it in this attempt */
};

/* auto starts with TCP-interleaved: one connection, through NAT and firewalls. */
void rtsp_lower_init(struct rtsp_lower *l, enum config_transport mode);

/* A new attempt (after a backoff): either transport may be tried again; cur stays. */
void rtsp_lower_attempt(struct rtsp_lower *l);

/* The current transport failed with ev. Under auto, when the other transport has not failed
 * in this attempt too, switches cur to it and returns true: the caller sets up again. Else
 * (a forced transport, both failed, or no RTP over TCP, which UDP would not cure) returns
 * false and changes nothing: the caller fails the attempt. */
bool rtsp_lower_next(struct rtsp_lower *l, enum rtsp_lower_event ev);

/* "TCP" or "UDP", for logs. */
const char *rtsp_lower_name(enum config_transport t);

#endif
