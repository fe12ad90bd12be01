/* SPDX-License-Identifier: MIT */
/* lg_rtp.c: RTP handling for the load generator's viewers: header parsing, sequence
 * accounting, first-keyframe detection (its RTCP is codec/rtcp's). */
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

/* Whether the payload holds IDR data, whether it can begin an access unit, and whether it
 * begins a keyframe (SPS or IDR data at the start; a STAP-A may also open a P-frame). */
static void h264_classify(const uint8_t *p, size_t len, int *idr, int *starts, int *key)
{
    *idr = *starts = *key = 0;
    if (len < 1)
        return;
    int t = p[0] & 0x1f;
    if (t == NAL_IDR || t == NAL_SPS) {
        *idr = t == NAL_IDR;
        *starts = *key = 1;
    } else if (t == NAL_STAP_A) {
        *starts = 1;
        for (size_t off = 1; off + 2 < len;) {
            size_t n = be16_get(p + off);
            if (n == 0 || off + 2 + n > len)
                break;
            int u = p[off + 2] & 0x1f;
            *idr |= u == NAL_IDR;
            *key |= u == NAL_IDR || u == NAL_SPS;
            off += 2 + n;
        }
    } else if (t == NAL_FU_A && len >= 2 && (p[1] & 0x1f) == NAL_IDR) {
        *idr = 1;
        *starts = *key = (p[1] & 0x80) != 0;
    }
}

int lg_keyframe_feed(struct lg_keyframe *k, const struct lg_rtp_hdr *h, const uint8_t *payload,
                     size_t len)
{
    if (k->done)
        return 0;
    int idr, starts, key;
    h264_classify(payload, len, &idr, &starts, &key);
    if (k->active && h->ts != k->ts) {
        /* A later frame while the keyframe's NACKed packets are still due: they complete it
         * when they arrive. Only a newer keyframe replaces it. */
        if (!key)
            return 0;
        k->active = 0;
    }
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
