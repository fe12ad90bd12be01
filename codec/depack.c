/* SPDX-License-Identifier: MIT */
/* depack.c: RTP depacketizers (RFC 6184 H.264, RFC 7798 H.265, RFC 7587 Opus, RFC 3551
 * G.711) assembling access units into one buffer allocated at creation. Loss handling:
 * a sequence gap damages the unit in progress; video then waits for the next keyframe,
 * since every later frame until then references what was lost. */
#include "codec/depack.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"

struct depack {
    uint32_t codec;
    bool video;
    depack_au_cb cb;
    void *arg;
    uint8_t *buf;
    size_t cap, len;
    bool active; /* a unit is in progress (ts valid) */
    uint32_t ts;
    bool damaged;  /* the unit in progress lost data */
    bool in_frag;  /* inside an FU-A / FU: the NAL at buf's end is incomplete */
    bool need_key; /* video: drop units until a keyframe */
    bool have_seq;
    uint16_t last_seq;
    struct depack_stats st;
};

int depack_rtp_parse(const uint8_t *p, size_t len, struct depack_rtp *out)
{
    /* Over TCP (RFC 2326 10.12) or UDP a packet never exceeds 65535 bytes; checking that
     * first keeps every offset below within 16 bits. */
    if (len < 12 || len > 65535 || (p[0] >> 6) != 2)
        return -EBADMSG;
    size_t off = 12 + 4u * (p[0] & 0x0f);
    if (p[0] & 0x10) { /* header extension: 16-bit profile, 16-bit length in words */
        if (off + 4 > len)
            return -EBADMSG;
        off += 4 + 4u * (((size_t)p[off + 2] << 8) | p[off + 3]);
    }
    if (off > len)
        return -EBADMSG;
    size_t end = len;
    if (p[0] & 0x20) { /* padding: the last byte counts the padding bytes, itself included */
        size_t pad = p[len - 1];
        if (pad == 0 || pad > len - off)
            return -EBADMSG;
        end -= pad;
    }
    out->marker = (p[1] & 0x80) != 0;
    out->pt = p[1] & 0x7f;
    out->seq = (uint16_t)((p[2] << 8) | p[3]);
    out->ts = ((uint32_t)p[4] << 24) | ((uint32_t)p[5] << 16) | ((uint32_t)p[6] << 8) | p[7];
    out->ssrc = ((uint32_t)p[8] << 24) | ((uint32_t)p[9] << 16) | ((uint32_t)p[10] << 8) | p[11];
    out->payload_off = (uint16_t)off;
    out->payload_len = (uint16_t)(end - off);
    return 0;
}

int depack_create(struct depack **out, uint32_t codec, size_t max_au, depack_au_cb cb, void *arg)
{
    if (!codec_is_known(codec))
        return -EINVAL;
    struct depack *d = calloc(1, sizeof(*d));
    if (!d)
        return -ENOMEM;
    d->buf = malloc(max_au ? max_au : 1);
    if (!d->buf) {
        free(d);
        return -ENOMEM;
    }
    d->codec = codec;
    d->video = codec_is_video(codec);
    d->cap = max_au;
    d->cb = cb;
    d->arg = arg;
    depack_reset(d);
    *out = d;
    return 0;
}

void depack_free(struct depack *d)
{
    if (!d)
        return;
    free(d->buf);
    free(d);
}

void depack_reset(struct depack *d)
{
    d->active = false;
    d->have_seq = false;
    d->in_frag = false;
    d->need_key = d->video;
}

const struct depack_stats *depack_stats(const struct depack *d)
{
    return &d->st;
}

/* Appends bytes to the unit; an oversized unit is damaged rather than truncated. */
static void put(struct depack *d, const uint8_t *p, size_t n)
{
    if (d->damaged)
        return;
    if (d->cap - d->len < n) {
        d->damaged = true;
        d->st.bad++;
        return;
    }
    memcpy(d->buf + d->len, p, n);
    d->len += n;
}

static void put_nal_start(struct depack *d)
{
    static const uint8_t sc[4] = {0, 0, 0, 1};
    put(d, sc, sizeof(sc));
}

static void finish(struct depack *d)
{
    if (!d->active)
        return;
    d->active = false;
    if (d->in_frag) /* the fragmented NAL never got its end fragment */
        d->damaged = true;
    if (d->damaged) {
        d->st.dropped++;
        return;
    }
    if (d->len == 0)
        return;
    struct depack_au au = {.data = d->buf, .len = d->len, .ts = d->ts, .key = true};
    if (d->video) {
        au.key = codec_au_is_key(d->codec, d->buf, d->len);
        if (d->need_key && !au.key) {
            d->st.dropped++;
            return;
        }
        d->need_key = false;
    }
    d->st.units++;
    d->cb(d->arg, &au);
}

/* Aggregation packets (STAP-A, RFC 6184 5.7.1; AP, RFC 7798 4.4.2): 16-bit size, NAL. */
static int unpack_agg(struct depack *d, const uint8_t *p, size_t len)
{
    if (len == 0)
        return -EBADMSG;
    while (len > 0) {
        if (len < 2)
            return -EBADMSG;
        size_t n = ((size_t)p[0] << 8) | p[1];
        if (n == 0 || n > len - 2)
            return -EBADMSG;
        put_nal_start(d);
        put(d, p + 2, n);
        p += 2 + n;
        len -= 2 + n;
    }
    return 0;
}

/* Fragments (FU-A, RFC 6184 5.8; FU, RFC 7798 4.4.3). hdr is the rebuilt NAL header,
 * fu the FU header byte (S, E, type). */
static int unpack_frag(struct depack *d, const uint8_t *hdr, size_t hdr_len, uint8_t fu,
                       const uint8_t *body, size_t body_len)
{
    bool start = fu & 0x80, end = fu & 0x40;
    if (start) {
        if (d->in_frag) /* the previous fragmented NAL lost its end */
            d->damaged = true;
        put_nal_start(d);
        put(d, hdr, hdr_len);
        d->in_frag = true;
    } else if (!d->in_frag) {
        d->damaged = true; /* its start was lost */
        return 0;
    }
    put(d, body, body_len);
    if (end)
        d->in_frag = false;
    return 0;
}

static int unpack_h264(struct depack *d, const uint8_t *p, size_t len)
{
    if (len < 1)
        return -EBADMSG;
    unsigned type = p[0] & 0x1f;
    if (type != 28 && d->in_frag) {
        d->damaged = true;
        d->in_frag = false;
    }
    if (type >= 1 && type <= 23) {
        put_nal_start(d);
        put(d, p, len);
        return 0;
    }
    if (type == 24)
        return unpack_agg(d, p + 1, len - 1);
    if (type == 28) {
        if (len < 2)
            return -EBADMSG;
        uint8_t hdr = (uint8_t)((p[0] & 0xe0) | (p[1] & 0x1f));
        return unpack_frag(d, &hdr, 1, p[1], p + 2, len - 2);
    }
    return -EBADMSG; /* 0, 30, 31 reserved; STAP-B, MTAP, FU-B need interleaved mode */
}

static int unpack_h265(struct depack *d, const uint8_t *p, size_t len)
{
    if (len < 2)
        return -EBADMSG;
    unsigned type = (p[0] >> 1) & 0x3f;
    if (type != 49 && d->in_frag) {
        d->damaged = true;
        d->in_frag = false;
    }
    if (type < 48) {
        put_nal_start(d);
        put(d, p, len);
        return 0;
    }
    if (type == 48)
        return unpack_agg(d, p + 2, len - 2);
    if (type == 49) {
        if (len < 3)
            return -EBADMSG;
        uint8_t hdr[2] = {(uint8_t)((p[0] & 0x81) | ((p[2] & 0x3f) << 1)), p[1]};
        return unpack_frag(d, hdr, 2, p[2], p + 3, len - 3);
    }
    return -EBADMSG; /* PACI and reserved types */
}

/* Sequence bookkeeping: returns false for a duplicate or late (reordered) packet, which
 * is ignored; a gap, or a restart of the sender's numbering, damages the unit in progress
 * and makes video wait for a keyframe. */
static bool account_seq(struct depack *d, uint16_t seq)
{
    if (d->have_seq) {
        uint16_t diff = (uint16_t)(seq - d->last_seq); /* mod 2^16: wraps are not gaps */
        uint16_t back = (uint16_t)(d->last_seq - seq);
        if (diff == 0 || (diff >= 0x8000 && back < RTP_SEQ_RESYNC_BACK))
            return false;
        if (diff > 1) { /* a gap, or (diff >= 0x8000) a new base: nothing known lost */
            if (diff < 0x8000)
                d->st.lost += diff - 1u;
            if (d->active)
                d->damaged = true;
            if (d->video)
                d->need_key = true;
        }
    }
    d->have_seq = true;
    d->last_seq = seq;
    return true;
}

int depack_push(struct depack *d, const uint8_t *pkt, size_t len)
{
    struct depack_rtp h;
    if (depack_rtp_parse(pkt, len, &h) < 0) {
        d->st.bad++;
        if (d->active)
            d->damaged = true;
        return -EBADMSG;
    }
    if (!account_seq(d, h.seq))
        return 0;
    d->st.packets++;
    if (d->active && h.ts != d->ts)
        finish(d); /* a new timestamp ends the previous unit even without its marker */
    if (!d->active) {
        d->active = true;
        d->ts = h.ts;
        d->len = 0;
        d->damaged = false;
        d->in_frag = false;
    }
    const uint8_t *p = pkt + h.payload_off;
    int err = 0;
    if (d->codec == RING_CODEC_H264)
        err = unpack_h264(d, p, h.payload_len);
    else if (d->codec == RING_CODEC_H265)
        err = unpack_h265(d, p, h.payload_len);
    else
        put(d, p, h.payload_len);
    if (err < 0) {
        d->st.bad++;
        d->damaged = true;
    }
    /* Audio: every packet is a frame (RFC 7587 4.2, RFC 3551 4.1). */
    if (h.marker || !d->video)
        finish(d);
    return err;
}
