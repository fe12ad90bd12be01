/* SPDX-License-Identifier: MIT */
/* rtcp.c: the viewer's compound RTCP read in place (report blocks, generic NACK, PLI, FIR;
 * every other packet stepped over by its own length) and our sender reports written in place:
 * nothing here allocates, so neither side costs the worker a heap call per datagram. */
#include "egress/rtcp.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "common/bytes.h"

#define ERTCP_NTP_EPOCH_OFFSET 2208988800u /* 1900-01-01 to 1970-01-01, seconds */
#define ERTCP_SR               200         /* RFC 3550 12.1 */
#define ERTCP_RR               201
#define ERTCP_SDES             202
#define ERTCP_RTPFB            205 /* RFC 4585 6.1 */
#define ERTCP_PSFB             206
#define ERTCP_SDES_CNAME       1
#define ERTCP_PSFB_PLI         1 /* RFC 4585 6.3 */
#define ERTCP_PSFB_FIR         4 /* RFC 5104 4.3.1 */
#define ERTCP_RTPFB_NACK       1 /* RFC 4585 6.2.1 */

void ertcp_ntp_now(uint32_t *sec, uint32_t *frac)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    *sec = (uint32_t)ts.tv_sec + ERTCP_NTP_EPOCH_OFFSET;
    *frac = (uint32_t)(((uint64_t)ts.tv_nsec << 32) / 1000000000u);
}

uint32_t ertcp_rtt_us(const struct ertcp_rr *rr, uint32_t now_mid)
{
    if (!rr->lsr)
        return 0;
    uint32_t rtt = now_mid - rr->lsr - rr->dlsr; /* 1/65536 s, modular */
    if (rtt > (60u << 16))                       /* clock skew or a bogus DLSR */
        return 0;
    return (uint32_t)(((uint64_t)rtt * 1000000u) >> 16);
}

/* RFC 3550 6.4.1/6.4.2: report blocks of 24 bytes follow the sender info (SR, from byte 28) or
 * the reporter's SSRC (RR, from byte 8). A count that does not fit the packet's own length
 * makes the whole packet unusable: nothing of it is reported. */
static void ertcp_reports(const uint8_t *q, size_t plen, size_t first,
                          const struct ertcp_handler *h, void *arg)
{
    unsigned rc = q[0] & 0x1f;
    if (!h->rr || plen < first || (plen - first) / 24 < rc)
        return;
    for (const uint8_t *b = q + first; rc--; b += 24) {
        uint32_t lost = be32_get(b + 4) & 0xffffff;
        struct ertcp_rr rr = {
            .ssrc = be32_get(b),
            .fraction = b[4],
            /* Cumulative lost is 24-bit two's complement (duplicates make it negative). */
            .lost = (lost & 0x800000) ? (int32_t)lost - 0x1000000 : (int32_t)lost,
            .last_seq = be32_get(b + 8),
            .jitter = be32_get(b + 12),
            .lsr = be32_get(b + 16),
            .dlsr = be32_get(b + 20),
        };
        h->rr(arg, &rr);
    }
}

/* RFC 4585 6.1: feedback packets carry the sender's and the media source's SSRC (12 bytes in
 * all) before their FCI; fmt (the count field) says which feedback it is. */
static void ertcp_feedback(const uint8_t *q, size_t plen, const struct ertcp_handler *h, void *arg)
{
    unsigned fmt = q[0] & 0x1f;
    if (plen < 12)
        return;
    uint32_t media = be32_get(q + 8);
    if (q[1] == ERTCP_RTPFB && fmt == ERTCP_RTPFB_NACK && h->nack) {
        /* RFC 4585 6.2.1: every 4-byte FCI entry is one PID and its BLP. */
        for (size_t o = 12; plen - o >= 4; o += 4)
            h->nack(arg, media, (uint16_t)(q[o] << 8 | q[o + 1]),
                    (uint16_t)(q[o + 2] << 8 | q[o + 3]));
    } else if (q[1] == ERTCP_PSFB && fmt == ERTCP_PSFB_PLI && h->pli) {
        h->pli(arg, media); /* RFC 4585 6.3.1: no FCI */
    } else if (q[1] == ERTCP_PSFB && fmt == ERTCP_PSFB_FIR && h->fir && plen >= 20) {
        /* RFC 5104 4.3.1.1: the media source field is unused; each 8-byte FCI entry names
         * the SSRC asked for a decoder refresh, and we send one video track. */
        h->fir(arg, be32_get(q + 12));
    }
}

int ertcp_parse(const uint8_t *p, size_t len, const struct ertcp_handler *h, void *arg)
{
    int count = 0;
    size_t pos = 0;
    while (len - pos >= 4) {
        const uint8_t *q = p + pos;
        size_t plen = 4 + 4 * (size_t)((q[2] << 8) | q[3]);
        if ((q[0] >> 6) != 2 || plen > len - pos)
            break;
        pos += plen;
        count++;
        switch (q[1]) {
        case ERTCP_SR:
            ertcp_reports(q, plen, 28, h, arg);
            break;
        case ERTCP_RR:
            ertcp_reports(q, plen, 8, h, arg);
            break;
        case ERTCP_RTPFB:
        case ERTCP_PSFB:
            ertcp_feedback(q, plen, h, arg);
            break;
        default: /* SDES, BYE, APP, XR, ...: nothing we act on */
            break;
        }
    }
    return count ? count : -EBADMSG;
}

static uint8_t *ertcp_put_hdr(uint8_t *o, unsigned count, unsigned pt, size_t bytes)
{
    o[0] = (uint8_t)(0x80 | count);
    o[1] = (uint8_t)pt;
    o[2] = (uint8_t)((bytes / 4 - 1) >> 8);
    o[3] = (uint8_t)(bytes / 4 - 1);
    return o + 4;
}

int ertcp_build_sr(uint8_t *out, size_t cap, const struct ertcp_sr *srs, unsigned n,
                   uint32_t ntp_sec, uint32_t ntp_frac, const char *cname)
{
    size_t cn = strlen(cname);
    if (n == 0 || n > 31 || cn > 255)
        return -EINVAL;
    /* SDES chunk: SSRC, CNAME item (type, length, text), then 1..4 zero bytes (the END
     * item plus padding to the next 32-bit boundary, RFC 3550 6.5). */
    size_t chunk = 4 + ((2 + cn + 4) & ~(size_t)3);
    size_t total = 28 * (size_t)n + 4 + chunk * n;
    if (total > cap)
        return -ENOSPC;
    uint8_t *o = out;
    for (unsigned i = 0; i < n; i++) {
        o = ertcp_put_hdr(o, 0, ERTCP_SR, 28);
        o = be32_put(o, srs[i].ssrc);
        o = be32_put(o, ntp_sec);
        o = be32_put(o, ntp_frac);
        o = be32_put(o, srs[i].rtp_ts);
        o = be32_put(o, srs[i].psent);
        o = be32_put(o, srs[i].osent);
    }
    o = ertcp_put_hdr(o, n, ERTCP_SDES, 4 + chunk * n);
    for (unsigned i = 0; i < n; i++) {
        uint8_t *c = o;
        o = be32_put(o, srs[i].ssrc);
        *o++ = ERTCP_SDES_CNAME;
        *o++ = (uint8_t)cn;
        memcpy(o, cname, cn);
        o += cn;
        while ((size_t)(o - c) < chunk)
            *o++ = 0;
    }
    return (int)(o - out);
}
