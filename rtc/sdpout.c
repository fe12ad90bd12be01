/* SPDX-License-Identifier: MIT */
/* sdpout.c: an ICE-lite SDP answer written as text (see sdpout.h). Text rather than libre's
 * encoder: an answer only mirrors the offer's sections with one chosen format each, which
 * the offer's reader (libre's decoder) has already settled. */
#include "rtc/sdpout.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

void sdpout_init(struct sdpout *o, char *buf, size_t cap)
{
    *o = (struct sdpout){.p = buf, .cap = cap, .full = cap == 0};
    if (cap)
        buf[0] = '\0';
}

void sdpout_put(struct sdpout *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = o->full ? -1 : vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= o->cap - o->len) {
        o->full = true;
        if (o->cap)
            o->p[o->len] = '\0'; /* no partial line */
    } else {
        o->len += (size_t)n;
    }
}

void sdpout_session(struct sdpout *o, uint64_t session_id, const struct sdpout_transport *t,
                    const char *bundle)
{
    sdpout_put(o, "v=0\r\no=- %llu 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=ice-lite\r\n",
               (unsigned long long)session_id);
    sdpout_put(o, "a=fingerprint:%s\r\n", t->fingerprint);
    if (bundle)
        sdpout_put(o, "a=group:BUNDLE%s\r\n", bundle);
}

void sdpout_media(struct sdpout *o, const struct sdpout_media *m, const struct sdpout_transport *t)
{
    sdpout_put(o, "m=%s %u %s %d\r\nc=IN IP4 0.0.0.0\r\n", m->kind, m->rejected ? 0u : t->port,
               m->proto, m->pt < 0 ? 0 : m->pt);
    if (m->mid[0])
        sdpout_put(o, "a=mid:%s\r\n", m->mid);
    sdpout_put(o, "a=%s\r\n", m->rejected ? "inactive" : m->dir);
    sdpout_put(o, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=setup:passive\r\na=rtcp-mux\r\n", t->ufrag,
               t->pwd);
    if (m->rejected)
        return;
    if (m->channels > 1)
        sdpout_put(o, "a=rtpmap:%d %s/%u/%u\r\n", m->pt, m->encoding, m->clock_rate, m->channels);
    else
        sdpout_put(o, "a=rtpmap:%d %s/%u\r\n", m->pt, m->encoding, m->clock_rate);
    if (m->fmtp && m->fmtp[0])
        sdpout_put(o, "a=fmtp:%d %s\r\n", m->pt, m->fmtp);
    if (m->nack)
        sdpout_put(o, "a=rtcp-fb:%d nack\r\n", m->pt);
    if (m->pli)
        sdpout_put(o, "a=rtcp-fb:%d nack pli\r\n", m->pt);
}

void sdpout_candidates(struct sdpout *o, const struct sdpout_transport *t)
{
    for (size_t c = 0; c < t->n_candidates; c++)
        sdpout_put(o, "a=candidate:%zu 1 udp %u %s %u typ host\r\n", c + 1,
                   (126u << 24) | ((65535u - (unsigned)c) << 8) | 255u, t->candidates[c], t->port);
    /* RFC 6544 4.5: TCP candidates below the UDP ones (type preference 90 < 126; a passive
     * host candidate's direction preference is 4 of 7 in the local preference's top bits), so
     * a viewer uses TCP only where UDP fails. Foundations differ from the UDP ones (4.8). */
    for (size_t c = 0; t->tcp_port && c < t->n_candidates; c++)
        sdpout_put(o, "a=candidate:%zu 1 tcp %u %s %u typ host tcptype passive\r\n",
                   t->n_candidates + c + 1,
                   (90u << 24) | (((4u << 13) | (8191u - (unsigned)c)) << 8) | 255u,
                   t->candidates[c], t->tcp_port);
    sdpout_put(o, "a=end-of-candidates\r\n");
}

int sdpout_end(const struct sdpout *o)
{
    return o->full ? -ENOSPC : (int)o->len;
}
