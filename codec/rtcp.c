/* SPDX-License-Identifier: MIT */
/* rtcp.c: RTCP compound packets read in place (sender info, report blocks, generic NACK, PLI,
 * FIR; every other packet stepped over by its own length) and SR, RR, SDES, NACK and PLI
 * written in place: nothing here allocates, so the egress pays no heap call per datagram of
 * each of its thousands of viewers. */
#include "codec/rtcp.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "common/bytes.h"

#define CODEC_RTCP_NTP_EPOCH_OFFSET 2208988800u /* 1900-01-01 to 1970-01-01, seconds */
#define CODEC_RTCP_SDES_CNAME       1           /* RFC 3550 6.5.1 */
#define CODEC_RTCP_COUNT_MAX        31          /* the 5-bit count field */
#define CODEC_RTCP_LEN_MAX          (4 * 65536) /* what the 16-bit length field can describe */

void codec_rtcp_ntp_now(uint32_t *sec, uint32_t *frac)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    *sec = (uint32_t)ts.tv_sec + CODEC_RTCP_NTP_EPOCH_OFFSET;
    *frac = (uint32_t)(((uint64_t)ts.tv_nsec << 32) / 1000000000u);
}

uint32_t codec_rtcp_rtt_us(const struct codec_rtcp_rb *rb, uint32_t now_mid)
{
    if (!rb->lsr)
        return 0;
    uint32_t rtt = now_mid - rb->lsr - rb->dlsr; /* 1/65536 s, modular */
    if (rtt > (60u << 16))                       /* clock skew or a bogus DLSR */
        return 0;
    return (uint32_t)(((uint64_t)rtt * 1000000u) >> 16);
}

/* ---- parsing ---- */

/* RFC 3550 6.4.1: the sender info follows the sender's SSRC. */
static void codec_rtcp_sender_info(const uint8_t *q, size_t plen,
                                   const struct codec_rtcp_handler *h, void *arg)
{
    if (!h->sr || plen < 28)
        return;
    struct codec_rtcp_sr sr = {
        .ssrc = be32_get(q + 4),
        .ntp_sec = be32_get(q + 8),
        .ntp_frac = be32_get(q + 12),
        .rtp_ts = be32_get(q + 16),
        .psent = be32_get(q + 20),
        .osent = be32_get(q + 24),
    };
    h->sr(arg, &sr);
}

/* RFC 3550 6.4.1/6.4.2: report blocks of 24 bytes follow the sender info (SR, from byte 28) or
 * the reporter's SSRC (RR, from byte 8). A count that does not fit the packet's own length
 * makes the whole packet unusable: nothing of it is reported. */
static void codec_rtcp_reports(const uint8_t *q, size_t plen, size_t first,
                               const struct codec_rtcp_handler *h, void *arg)
{
    unsigned rc = q[0] & 0x1f;
    if (!h->report || plen < first || (plen - first) / 24 < rc)
        return;
    for (const uint8_t *b = q + first; rc--; b += 24) {
        uint32_t lost = be32_get(b + 4) & 0xffffff;
        struct codec_rtcp_rb rb = {
            .ssrc = be32_get(b),
            .fraction = b[4],
            /* Cumulative lost is 24-bit two's complement (duplicates make it negative). */
            .lost = (lost & 0x800000) ? (int32_t)lost - 0x1000000 : (int32_t)lost,
            .last_seq = be32_get(b + 8),
            .jitter = be32_get(b + 12),
            .lsr = be32_get(b + 16),
            .dlsr = be32_get(b + 20),
        };
        h->report(arg, &rb);
    }
}

/* RFC 4585 6.1: feedback packets carry the sender's and the media source's SSRC (12 bytes in
 * all) before their FCI; fmt (the count field) says which feedback it is. */
static void codec_rtcp_feedback(const uint8_t *q, size_t plen, const struct codec_rtcp_handler *h,
                                void *arg)
{
    unsigned fmt = q[0] & 0x1f;
    if (plen < 12)
        return;
    uint32_t media = be32_get(q + 8);
    if (q[1] == CODEC_RTCP_RTPFB && fmt == CODEC_RTCP_RTPFB_NACK && h->nack) {
        /* RFC 4585 6.2.1: every 4-byte FCI entry is one PID and its BLP. */
        for (size_t o = 12; plen - o >= 4; o += 4)
            h->nack(arg, media, be16_get(q + o), be16_get(q + o + 2));
    } else if (q[1] == CODEC_RTCP_PSFB && fmt == CODEC_RTCP_PSFB_PLI && h->pli) {
        h->pli(arg, media); /* RFC 4585 6.3.1: no FCI */
    } else if (q[1] == CODEC_RTCP_PSFB && fmt == CODEC_RTCP_PSFB_FIR && h->fir && plen >= 20) {
        /* RFC 5104 4.3.1.1: the media source field is unused; each 8-byte FCI entry names
         * the SSRC asked for a decoder refresh, and senders here have one video track. */
        h->fir(arg, be32_get(q + 12));
    }
}

int codec_rtcp_parse(const uint8_t *p, size_t len, const struct codec_rtcp_handler *h, void *arg)
{
    int count = 0;
    size_t pos = 0;
    while (len - pos >= 4) {
        const uint8_t *q = p + pos;
        size_t plen = 4 + 4 * (size_t)be16_get(q + 2);
        if ((q[0] >> 6) != 2 || plen > len - pos)
            break;
        pos += plen;
        count++;
        switch (q[1]) {
        case CODEC_RTCP_SR:
            codec_rtcp_sender_info(q, plen, h, arg);
            codec_rtcp_reports(q, plen, 28, h, arg);
            break;
        case CODEC_RTCP_RR:
            codec_rtcp_reports(q, plen, 8, h, arg);
            break;
        case CODEC_RTCP_RTPFB:
        case CODEC_RTCP_PSFB:
            codec_rtcp_feedback(q, plen, h, arg);
            break;
        default: /* SDES, BYE, APP, XR, ...: nothing anyone here acts on */
            break;
        }
    }
    return count ? count : -EBADMSG;
}

/* ---- writing ---- */

/* The common header (RFC 3550 6.4.1): version 2, no padding, count, type, and the length in
 * 32-bit words minus one; bytes is a multiple of 4 within CODEC_RTCP_LEN_MAX. */
static uint8_t *codec_rtcp_put_hdr(uint8_t *o, unsigned count, unsigned pt, size_t bytes)
{
    o[0] = (uint8_t)(0x80 | count);
    o[1] = (uint8_t)pt;
    return be16_put(o + 2, (uint16_t)(bytes / 4 - 1));
}

int codec_rtcp_write_sr(uint8_t *out, size_t cap, const struct codec_rtcp_sr *sr)
{
    if (cap < 28)
        return -ENOSPC;
    uint8_t *o = codec_rtcp_put_hdr(out, 0, CODEC_RTCP_SR, 28);
    o = be32_put(o, sr->ssrc);
    o = be32_put(o, sr->ntp_sec);
    o = be32_put(o, sr->ntp_frac);
    o = be32_put(o, sr->rtp_ts);
    o = be32_put(o, sr->psent);
    be32_put(o, sr->osent);
    return 28;
}

int codec_rtcp_write_rr(uint8_t *out, size_t cap, uint32_t ssrc, const struct codec_rtcp_rb *rb,
                        unsigned n)
{
    if (n > CODEC_RTCP_COUNT_MAX)
        return -EINVAL;
    size_t len = 8 + 24 * (size_t)n;
    if (len > cap)
        return -ENOSPC;
    uint8_t *o = codec_rtcp_put_hdr(out, n, CODEC_RTCP_RR, len);
    o = be32_put(o, ssrc);
    for (unsigned i = 0; i < n; i++) {
        /* Cumulative lost saturates at the 24-bit signed range (RFC 3550 6.4.1). */
        int32_t lost = rb[i].lost;
        if (lost > 0x7fffff)
            lost = 0x7fffff;
        if (lost < -0x800000)
            lost = -0x800000;
        o = be32_put(o, rb[i].ssrc);
        o = be32_put(o, (uint32_t)rb[i].fraction << 24 | ((uint32_t)lost & 0xffffff));
        o = be32_put(o, rb[i].last_seq);
        o = be32_put(o, rb[i].jitter);
        o = be32_put(o, rb[i].lsr);
        o = be32_put(o, rb[i].dlsr);
    }
    return (int)len;
}

int codec_rtcp_write_sdes(uint8_t *out, size_t cap, const uint32_t *ssrcs, unsigned n,
                          const char *cname)
{
    size_t cn = strlen(cname);
    if (n == 0 || n > CODEC_RTCP_COUNT_MAX || cn > 255)
        return -EINVAL;
    /* RFC 3550 6.5: a chunk is the SSRC, the CNAME item (type, length, text), then 1..4 zero
     * bytes: the END item plus padding to the next 32-bit boundary. */
    size_t chunk = 4 + ((2 + cn + 4) & ~(size_t)3);
    size_t len = 4 + chunk * n;
    if (len > cap)
        return -ENOSPC;
    uint8_t *o = codec_rtcp_put_hdr(out, n, CODEC_RTCP_SDES, len);
    for (unsigned i = 0; i < n; i++) {
        uint8_t *c = o;
        o = be32_put(o, ssrcs[i]);
        *o++ = CODEC_RTCP_SDES_CNAME;
        *o++ = (uint8_t)cn;
        memcpy(o, cname, cn);
        o += cn;
        memset(o, 0, chunk - (size_t)(o - c));
        o = c + chunk;
    }
    return (int)len;
}

int codec_rtcp_write_nack(uint8_t *out, size_t cap, uint32_t ssrc, uint32_t media_ssrc,
                          const uint16_t *seqs, size_t n)
{
    if (n == 0)
        return -EINVAL;
    size_t room = cap < CODEC_RTCP_LEN_MAX ? cap : CODEC_RTCP_LEN_MAX;
    size_t len = 12;
    uint16_t pid = seqs[0], blp = 0;
    for (size_t i = 1; i <= n; i++) {
        uint16_t d = i < n ? (uint16_t)(seqs[i] - pid) : 0;
        if (d >= 1 && d <= 16) {
            blp |= (uint16_t)(1u << (d - 1)); /* RFC 4585 6.2.1: bit i is PID + i + 1 */
            continue;
        }
        /* The open entry is complete: write it, and open the next with seqs[i]. */
        if (len + 4 > room)
            return -ENOSPC;
        be16_put(out + len, pid);
        be16_put(out + len + 2, blp);
        len += 4;
        if (i < n) {
            pid = seqs[i];
            blp = 0;
        }
    }
    uint8_t *o = codec_rtcp_put_hdr(out, CODEC_RTCP_RTPFB_NACK, CODEC_RTCP_RTPFB, len);
    o = be32_put(o, ssrc);
    be32_put(o, media_ssrc);
    return (int)len;
}

int codec_rtcp_write_pli(uint8_t *out, size_t cap, uint32_t ssrc, uint32_t media_ssrc)
{
    if (cap < 12)
        return -ENOSPC;
    uint8_t *o = codec_rtcp_put_hdr(out, CODEC_RTCP_PSFB_PLI, CODEC_RTCP_PSFB, 12);
    o = be32_put(o, ssrc);
    be32_put(o, media_ssrc);
    return 12;
}
