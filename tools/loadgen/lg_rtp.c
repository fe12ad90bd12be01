/* SPDX-License-Identifier: MIT */
/* lg_rtp.c: RTP/RTCP handling for the load generator's viewers: header parsing, sequence
 * accounting, first-keyframe detection, RR/SDES/NACK building and SR reading. */
#include "tools/loadgen/lg_rtp.h"

#include <errno.h>
#include <string.h>

#include "common/bytes.h"

int lg_rtp_parse(const uint8_t *p, size_t len, struct lg_rtp_hdr *h)
{
    if (len < 12 || (p[0] >> 6) != 2)
        return -EBADMSG;
    size_t off = 12 + 4 * (size_t)(p[0] & 0x0f);
    if (off > len)
        return -EBADMSG;
    if (p[0] & 0x10) {
        /* RFC 3550 5.3.1: 16-bit profile, 16-bit length in 32-bit words. */
        if (off + 4 > len)
            return -EBADMSG;
        off += 4 + 4 * (size_t)be16_get(p + off + 2);
        if (off > len)
            return -EBADMSG;
    }
    h->marker = p[1] >> 7;
    h->pt = p[1] & 0x7f;
    h->seq = be16_get(p + 2);
    h->ts = be32_get(p + 4);
    h->ssrc = be32_get(p + 8);
    h->hdr_len = off;
    return 0;
}

static int seq_bit(const struct lg_seq *s, uint32_t ext)
{
    return (int)(s->seen[(ext / 64) % (LG_SEQ_WINDOW / 64)] >> (ext % 64) & 1);
}

static void seq_set(struct lg_seq *s, uint32_t ext, int on)
{
    uint64_t *w = &s->seen[(ext / 64) % (LG_SEQ_WINDOW / 64)];
    uint64_t m = (uint64_t)1 << (ext % 64);
    *w = on ? *w | m : *w & ~m;
}

/* The extended sequence number closest to ext_hi (RFC 3550 A.1). */
static uint32_t seq_extend(const struct lg_seq *s, uint16_t seq)
{
    int16_t d = (int16_t)(uint16_t)(seq - (uint16_t)s->ext_hi);
    return s->ext_hi + (uint32_t)(int32_t)d;
}

enum lg_seq_class lg_seq_peek(const struct lg_seq *s, uint16_t seq)
{
    if (!s->started)
        return LG_SEQ_NEW;
    uint32_t ext = seq_extend(s, seq);
    if ((int32_t)(ext - s->ext_hi) > 0)
        return LG_SEQ_NEW;
    if (s->ext_hi - ext >= LG_SEQ_WINDOW)
        return LG_SEQ_OLD;
    return seq_bit(s, ext) ? LG_SEQ_DUP : LG_SEQ_LATE;
}

enum lg_seq_class lg_seq_update(struct lg_seq *s, uint16_t seq)
{
    if (!s->started) {
        /* Start in the second 64k cycle so that early reordering cannot wrap below 0. */
        s->started = 1;
        s->ext_first = s->ext_hi = 65536u + seq;
        memset(s->seen, 0, sizeof(s->seen));
        seq_set(s, s->ext_hi, 1);
        s->unique++;
        return LG_SEQ_NEW;
    }
    uint32_t ext = seq_extend(s, seq);
    enum lg_seq_class c = lg_seq_peek(s, seq);
    switch (c) {
    case LG_SEQ_NEW: {
        uint32_t adv = ext - s->ext_hi;
        if (adv >= LG_SEQ_WINDOW)
            memset(s->seen, 0, sizeof(s->seen));
        else
            for (uint32_t e = s->ext_hi + 1; e != ext; e++)
                seq_set(s, e, 0);
        seq_set(s, ext, 1);
        s->ext_hi = ext;
        s->unique++;
        break;
    }
    case LG_SEQ_LATE:
        if ((int32_t)(ext - s->ext_first) < 0)
            s->ext_first = ext; /* reordered before the first packet seen */
        seq_set(s, ext, 1);
        s->unique++;
        s->late++;
        break;
    case LG_SEQ_DUP:
        s->dups++;
        break;
    case LG_SEQ_OLD:
        /* Beyond the window: cannot tell a fill from a duplicate; count it as late. */
        s->late++;
        break;
    }
    return c;
}

uint64_t lg_seq_expected(const struct lg_seq *s)
{
    return s->started ? (uint64_t)(s->ext_hi - s->ext_first) + 1 : 0;
}

/* H.264 NAL unit types (RFC 6184 5.2): 5 IDR slice, 7 SPS, 24 STAP-A, 28 FU-A. */
enum { NAL_IDR = 5, NAL_SPS = 7, NAL_STAP_A = 24, NAL_FU_A = 28 };

/* Whether the payload holds IDR data, and whether it can begin an access unit. */
static void h264_classify(const uint8_t *p, size_t len, int *idr, int *starts)
{
    *idr = *starts = 0;
    if (len < 1)
        return;
    int t = p[0] & 0x1f;
    if (t == NAL_IDR || t == NAL_SPS) {
        *idr = t == NAL_IDR;
        *starts = 1;
    } else if (t == NAL_STAP_A) {
        *starts = 1;
        for (size_t off = 1; off + 2 < len;) {
            size_t n = be16_get(p + off);
            if (n == 0 || off + 2 + n > len)
                break;
            if ((p[off + 2] & 0x1f) == NAL_IDR)
                *idr = 1;
            off += 2 + n;
        }
    } else if (t == NAL_FU_A && len >= 2 && (p[1] & 0x1f) == NAL_IDR) {
        *idr = 1;
        *starts = (p[1] & 0x80) != 0;
    }
}

int lg_keyframe_feed(struct lg_keyframe *k, const struct lg_rtp_hdr *h, const uint8_t *payload,
                     size_t len)
{
    if (k->done)
        return 0;
    int idr, starts;
    h264_classify(payload, len, &idr, &starts);
    if (k->active && h->ts != k->ts)
        k->active = 0; /* a new access unit began before the keyframe completed */
    if (!k->active) {
        if (!starts)
            return 0;
        memset(k, 0, sizeof(*k));
        k->active = 1;
        k->ts = h->ts;
        k->first_seq = h->seq;
    }
    if ((int16_t)(uint16_t)(h->seq - k->first_seq) < 0)
        k->first_seq = h->seq; /* a retransmitted earlier packet of this access unit */
    k->count++;
    k->has_idr |= (uint8_t)idr;
    if (h->marker) {
        k->has_marker = 1;
        k->marker_seq = h->seq;
    }
    if (k->has_marker && k->has_idr && (uint16_t)(k->marker_seq - k->first_seq + 1) == k->count) {
        k->done = 1;
        return 1;
    }
    return 0;
}

static int rtcp_sdes(uint8_t *p, size_t cap, uint32_t ssrc, const char *cname)
{
    size_t cl = strlen(cname);
    if (cl > 255)
        cl = 255;
    /* header 4 + ssrc 4 + item (2 + cl) + end (1), padded to 32 bits */
    size_t n = (4 + 4 + 2 + cl + 1 + 3) & ~(size_t)3;
    if (n > cap)
        return -ENOSPC;
    memset(p, 0, n);
    p[0] = 0x81; /* V=2, SC=1 */
    p[1] = 202;
    be16_put(p + 2, (uint16_t)(n / 4 - 1));
    be32_put(p + 4, ssrc);
    p[8] = 1; /* CNAME */
    p[9] = (uint8_t)cl;
    memcpy(p + 10, cname, cl);
    return (int)n;
}

static int rtcp_rr(uint8_t *p, size_t cap, uint32_t ssrc, const struct lg_rr_block *b)
{
    size_t n = b ? 32 : 8;
    if (n > cap)
        return -ENOSPC;
    p[0] = (uint8_t)(0x80 | (b ? 1 : 0));
    p[1] = 201;
    be16_put(p + 2, (uint16_t)(n / 4 - 1));
    be32_put(p + 4, ssrc);
    if (b) {
        int32_t cl = b->cumulative_lost;
        if (cl > 0x7fffff)
            cl = 0x7fffff;
        if (cl < -0x800000)
            cl = -0x800000;
        be32_put(p + 8, b->ssrc);
        be32_put(p + 12, (uint32_t)b->fraction_lost << 24 | ((uint32_t)cl & 0xffffff));
        be32_put(p + 16, b->ext_hi_seq);
        be32_put(p + 20, b->jitter);
        be32_put(p + 24, b->lsr);
        be32_put(p + 28, b->dlsr);
    }
    return (int)n;
}

int lg_rtcp_rr_sdes(uint8_t *buf, size_t cap, uint32_t ssrc, const struct lg_rr_block *b,
                    const char *cname)
{
    int n = rtcp_rr(buf, cap, ssrc, b);
    if (n < 0)
        return n;
    int m = rtcp_sdes(buf + n, cap - (size_t)n, ssrc, cname);
    return m < 0 ? m : n + m;
}

int lg_rtcp_nack(uint8_t *buf, size_t cap, uint32_t ssrc, uint32_t media_ssrc, const uint16_t *seqs,
                 size_t n)
{
    int off = rtcp_rr(buf, cap, ssrc, NULL);
    if (off < 0)
        return off;
    uint8_t *p = buf + off;
    size_t room = cap - (size_t)off;
    if (room < 12 + 4 || n == 0)
        return -ENOSPC;
    p[0] = 0x80 | 1; /* V=2, FMT=1 generic NACK */
    p[1] = 205;      /* RTPFB */
    be32_put(p + 4, ssrc);
    be32_put(p + 8, media_ssrc);
    size_t len = 12;
    uint16_t pid = 0, blp = 0;
    int open = 0;
    for (size_t i = 0; i < n; i++) {
        uint16_t d = (uint16_t)(seqs[i] - pid);
        if (open && d >= 1 && d <= 16) {
            blp |= (uint16_t)(1u << (d - 1)); /* RFC 4585 6.2.1: bit i is PID + i + 1 */
            continue;
        }
        if (open) {
            be16_put(p + len, pid);
            be16_put(p + len + 2, blp);
            len += 4;
        }
        if (len + 4 > room)
            return -ENOSPC;
        pid = seqs[i];
        blp = 0;
        open = 1;
    }
    be16_put(p + len, pid);
    be16_put(p + len + 2, blp);
    len += 4;
    be16_put(p + 2, (uint16_t)(len / 4 - 1));
    return off + (int)len;
}

int lg_rtcp_find_sr(const uint8_t *p, size_t len, uint32_t *ntp_mid)
{
    size_t off = 0;
    int found = 0;
    while (off + 4 <= len) {
        if ((p[off] >> 6) != 2)
            return -EBADMSG;
        size_t n = 4 + 4 * (size_t)be16_get(p + off + 2);
        if (off + n > len)
            return -EBADMSG;
        if (p[off + 1] == 200 && n >= 28) {
            /* SR: ssrc at 4, NTP seconds at 8 and fraction at 12 (RFC 3550 6.4.1). */
            *ntp_mid = (uint32_t)(be32_get(p + off + 8) << 16 | be32_get(p + off + 12) >> 16);
            found = 1;
        }
        off += n;
    }
    return found;
}
