/* SPDX-License-Identifier: MIT */
/* rtsp_lower.c: the RTSP client's choice of lower transport (see rtsp_lower.h). Each
 * transport may fail once per attempt, so a server that refuses both, or UDP that never
 * arrives from a server refusing TCP, ends the attempt instead of looping. */
#include "ingest/rtsp_lower.h"

static enum config_transport other(enum config_transport t)
{
    return t == TRANSPORT_UDP ? TRANSPORT_TCP : TRANSPORT_UDP;
}

void rtsp_lower_init(struct rtsp_lower *l, enum config_transport mode)
{
    l->mode = mode;
    l->cur = mode == TRANSPORT_UDP ? TRANSPORT_UDP : TRANSPORT_TCP;
    l->failed = 0;
}

void rtsp_lower_attempt(struct rtsp_lower *l)
{
    l->failed = 0;
}

bool rtsp_lower_next(struct rtsp_lower *l, enum rtsp_lower_event ev)
{
    if (l->mode != TRANSPORT_AUTO || (l->failed & (1u << other(l->cur))))
        return false;
    /* Interleaved RTP rides the control connection: if PLAY worked and nothing comes, the
     * server sends nothing, and UDP would not change that. */
    if (ev == RTSP_LOWER_NO_RTP && l->cur != TRANSPORT_UDP)
        return false;
    l->failed |= 1u << l->cur;
    l->cur = other(l->cur);
    return true;
}

const char *rtsp_lower_name(enum config_transport t)
{
    return t == TRANSPORT_UDP ? "UDP" : "TCP";
}
