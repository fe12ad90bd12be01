/* rtcp.c: RTCP parsing through libre's rtcp_decode (one packet at a time, each in its own
 * view of the buffer) and hand-built sender reports, so that nothing here allocates except
 * libre's decoder on the (rare, per-viewer-per-second) receive side. */
#include "egress/rtcp.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include <re.h>

#define ERTCP_NTP_EPOCH_OFFSET 2208988800u /* 1900-01-01 to 1970-01-01, seconds */
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

static void ertcp_dispatch(const struct rtcp_msg *m, const struct ertcp_handler *h, void *arg)
{
    const struct rtcp_rr *rrv = NULL;
    uint32_t n = 0;
    switch (m->hdr.pt) {
    case RTCP_SR:
        rrv = m->r.sr.rrv;
        n = m->hdr.count;
        break;
    case RTCP_RR:
        rrv = m->r.rr.rrv;
        n = m->hdr.count;
        break;
    case RTCP_RTPFB:
        if (m->hdr.count == ERTCP_RTPFB_NACK && h->nack)
            for (uint32_t i = 0; i < m->r.fb.n; i++)
                h->nack(arg, m->r.fb.ssrc_media, m->r.fb.fci.gnackv[i].pid,
                        m->r.fb.fci.gnackv[i].blp);
        return;
    case RTCP_PSFB:
        if (m->hdr.count == ERTCP_PSFB_PLI && h->pli)
            h->pli(arg, m->r.fb.ssrc_media);
        return;
    default:
        return;
    }
    for (uint32_t i = 0; rrv && h->rr && i < n; i++) {
        struct ertcp_rr rr = {
            .ssrc = rrv[i].ssrc,
            .fraction = (uint8_t)rrv[i].fraction,
            .lost = rrv[i].lost,
            .last_seq = rrv[i].last_seq,
            .jitter = rrv[i].jitter,
            .lsr = rrv[i].lsr,
            .dlsr = rrv[i].dlsr,
        };
        h->rr(arg, &rr);
    }
}

/* RFC 5104 4.3.1.1: FIR's FCI entries are SSRC + seq nr + reserved; libre decodes none of
 * it, so read the first entry's SSRC here. */
static void ertcp_fir(const uint8_t *p, size_t len, const struct ertcp_handler *h, void *arg)
{
    if (!h->fir || len < 20)
        return;
    h->fir(arg, (uint32_t)p[12] << 24 | (uint32_t)p[13] << 16 | (uint32_t)p[14] << 8 | p[15]);
}

/* The packet types we act on; the rest (SDES, BYE, APP, transport-cc, REMB, ...) are
 * stepped over without decoding, which also spares libre's allocations and its warnings. */
static bool ertcp_wanted(const uint8_t *q)
{
    unsigned fmt = q[0] & 0x1f;
    return q[1] == RTCP_SR || q[1] == RTCP_RR || (q[1] == RTCP_RTPFB && fmt == ERTCP_RTPFB_NACK) ||
           (q[1] == RTCP_PSFB && fmt == ERTCP_PSFB_PLI);
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
        if (q[1] == RTCP_PSFB && (q[0] & 0x1f) == ERTCP_PSFB_FIR) {
            ertcp_fir(q, plen, h, arg);
            continue;
        }
        if (!ertcp_wanted(q))
            continue;
        /* libre reads through this view only; it never writes to or keeps the buffer. */
        struct mbuf mb = {.buf = (uint8_t *)q, .size = plen, .pos = 0, .end = plen};
        struct rtcp_msg *m = NULL;
        if (rtcp_decode(&m, &mb) == 0)
            ertcp_dispatch(m, h, arg);
        mem_deref(m);
    }
    return count ? count : -EBADMSG;
}

static uint8_t *ertcp_put32(uint8_t *o, uint32_t v)
{
    o[0] = (uint8_t)(v >> 24);
    o[1] = (uint8_t)(v >> 16);
    o[2] = (uint8_t)(v >> 8);
    o[3] = (uint8_t)v;
    return o + 4;
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
        o = ertcp_put_hdr(o, 0, RTCP_SR, 28);
        o = ertcp_put32(o, srs[i].ssrc);
        o = ertcp_put32(o, ntp_sec);
        o = ertcp_put32(o, ntp_frac);
        o = ertcp_put32(o, srs[i].rtp_ts);
        o = ertcp_put32(o, srs[i].psent);
        o = ertcp_put32(o, srs[i].osent);
    }
    o = ertcp_put_hdr(o, n, RTCP_SDES, 4 + chunk * n);
    for (unsigned i = 0; i < n; i++) {
        uint8_t *c = o;
        o = ertcp_put32(o, srs[i].ssrc);
        *o++ = ERTCP_SDES_CNAME;
        *o++ = (uint8_t)cn;
        memcpy(o, cname, cn);
        o += cn;
        while ((size_t)(o - c) < chunk)
            *o++ = 0;
    }
    return (int)(o - out);
}
