/* SPDX-License-Identifier: MIT */
/* pack.c: deterministic RTP packetizers (RFC 6184, RFC 7798, RFC 7587, RFC 3551) that
 * describe packets as scatter lists over the access unit. One walker cuts a unit into
 * "pieces" (an aggregate, a single NAL, or a fragmented NAL); counting, describing packet k
 * and describing a whole frame all go through it, so they cannot disagree. */
#include "codec/pack.h"

#include <errno.h>
#include <string.h>

#include "codec/codec.h"

struct nal_ref {
    uint32_t off, len;
};

enum piece_kind { PIECE_SINGLE, PIECE_AGG, PIECE_FRAG };

struct piece {
    enum piece_kind kind;
    uint32_t n_nal;
    struct nal_ref nal[PACK_AGG_MAX];
    uint32_t n_pkt;
};

struct walker {
    uint32_t codec;
    const uint8_t *au;
    size_t len;
    unsigned mtu;
    size_t pos;
    bool peeked;
    struct nal_ref peek;
};

/* NAL header bytes (dropped from fragments) and fragmentation overhead per codec. */
static unsigned nal_hdr_len(uint32_t codec)
{
    return codec == RING_CODEC_H265 ? 2 : 1;
}
static unsigned frag_hdr_len(uint32_t codec)
{
    return codec == RING_CODEC_H265 ? 3 : 2; /* PayloadHdr + FU header / FU indicator + header */
}
static unsigned agg_hdr_len(uint32_t codec)
{
    return codec == RING_CODEC_H265 ? 2 : 1;
}

static int walker_init(struct walker *w, uint32_t codec, const uint8_t *au, size_t len,
                       unsigned mtu)
{
    if (mtu < PACK_MIN_MTU || len == 0 || len > UINT32_MAX / 2 || !codec_is_known(codec))
        return -EINVAL;
    *w = (struct walker){.codec = codec, .au = au, .len = len, .mtu = mtu};
    return 0;
}

static bool walker_peek(struct walker *w, struct nal_ref *n)
{
    if (!w->peeked) {
        const uint8_t *nal;
        size_t nal_len;
        if (codec_annexb_next(w->au, w->len, &w->pos, &nal, &nal_len) != 1)
            return false;
        w->peek = (struct nal_ref){(uint32_t)(nal - w->au), (uint32_t)nal_len};
        w->peeked = true;
    }
    *n = w->peek;
    return true;
}

static bool walker_take(struct walker *w, struct nal_ref *n)
{
    if (!walker_peek(w, n))
        return false;
    w->peeked = false;
    return true;
}

static bool nal_is_param(const struct walker *w, const struct nal_ref *n)
{
    return codec_nal_is_param(w->codec, w->au + n->off, n->len);
}

/* The next piece, or false at the end of the unit. */
static bool walker_next_piece(struct walker *w, struct piece *p)
{
    if (!codec_is_video(w->codec)) {
        if (w->pos >= w->len)
            return false;
        w->pos = w->len;
        *p = (struct piece){.kind = PIECE_SINGLE, .n_nal = 1, .n_pkt = 1};
        p->nal[0] = (struct nal_ref){0, (uint32_t)w->len};
        return true;
    }
    struct nal_ref n;
    if (!walker_take(w, &n))
        return false;
    *p = (struct piece){.kind = PIECE_SINGLE, .n_nal = 1, .n_pkt = 1};
    p->nal[0] = n;
    if (n.len > w->mtu) {
        unsigned body = w->mtu - frag_hdr_len(w->codec);
        p->kind = PIECE_FRAG;
        p->n_pkt = (n.len - nal_hdr_len(w->codec) + body - 1) / body;
        return true;
    }
    if (!nal_is_param(w, &n))
        return true;
    /* RFC 6184 5.7.1 / RFC 7798 4.4.2: parameter sets travel together in one aggregate. */
    size_t size = agg_hdr_len(w->codec) + 2 + n.len;
    struct nal_ref next;
    while (p->n_nal < PACK_AGG_MAX && walker_peek(w, &next) && nal_is_param(w, &next) &&
           size + 2 + next.len <= w->mtu) {
        size += 2 + next.len;
        p->nal[p->n_nal++] = next;
        w->peeked = false;
    }
    if (p->n_nal > 1)
        p->kind = PIECE_AGG;
    return true;
}

/* Header bytes directly after header bytes extend one segment: an aggregate of n units then
 * takes 2n segments (header + first size, unit, size, unit, ...). */
static void add_own(struct pack_pkt *pkt, const uint8_t *bytes, unsigned n)
{
    memcpy(pkt->hdr + pkt->hdr_len, bytes, n);
    struct pack_seg *last = pkt->n_seg ? &pkt->seg[pkt->n_seg - 1] : NULL;
    if (last && last->own)
        last->len += n;
    else
        pkt->seg[pkt->n_seg++] = (struct pack_seg){.off = pkt->hdr_len, .len = n, .own = 1};
    pkt->hdr_len = (uint8_t)(pkt->hdr_len + n);
    pkt->len += n;
}

static void add_au(struct pack_pkt *pkt, uint32_t off, uint32_t n)
{
    pkt->seg[pkt->n_seg++] = (struct pack_seg){.off = off, .len = n, .own = 0};
    pkt->len += n;
}

/* STAP-A (RFC 6184 5.7.1): F = OR, NRI = max of the units'. AP (RFC 7798 4.4.2): type 48,
 * the lowest LayerId and TemporalId of the units. */
static void describe_agg(const struct walker *w, const struct piece *p, struct pack_pkt *pkt)
{
    uint8_t h[2];
    const uint8_t *first = w->au + p->nal[0].off;
    if (w->codec == RING_CODEC_H264) {
        uint8_t f = 0, nri = 0;
        for (uint32_t i = 0; i < p->n_nal; i++) {
            uint8_t b = w->au[p->nal[i].off];
            f |= b & 0x80;
            nri = (b & 0x60) > nri ? (b & 0x60) : nri;
        }
        h[0] = (uint8_t)(f | nri | 24);
    } else {
        unsigned layer = ((first[0] & 1u) << 5) | (first[1] >> 3), tid = first[1] & 7u;
        for (uint32_t i = 1; i < p->n_nal; i++) {
            const uint8_t *b = w->au + p->nal[i].off;
            unsigned l = ((b[0] & 1u) << 5) | (b[1] >> 3);
            layer = l < layer ? l : layer;
            tid = (b[1] & 7u) < tid ? (b[1] & 7u) : tid;
        }
        h[0] = (uint8_t)((48 << 1) | (layer >> 5));
        h[1] = (uint8_t)(((layer & 0x1f) << 3) | tid);
    }
    add_own(pkt, h, agg_hdr_len(w->codec));
    for (uint32_t i = 0; i < p->n_nal; i++) {
        uint8_t size[2] = {(uint8_t)(p->nal[i].len >> 8), (uint8_t)p->nal[i].len};
        add_own(pkt, size, 2);
        add_au(pkt, p->nal[i].off, p->nal[i].len);
    }
}

/* FU-A (RFC 6184 5.8) / FU (RFC 7798 4.4.3): the NAL header is replaced by the fragment
 * headers; fragment i carries body bytes [i * body, (i + 1) * body). */
static void describe_frag(const struct walker *w, const struct piece *p, uint32_t i,
                          struct pack_pkt *pkt)
{
    const uint8_t *nal = w->au + p->nal[0].off;
    unsigned nh = nal_hdr_len(w->codec), body = w->mtu - frag_hdr_len(w->codec);
    uint8_t se = (uint8_t)((i == 0 ? 0x80 : 0) | (i == p->n_pkt - 1 ? 0x40 : 0));
    uint8_t h[3];
    if (w->codec == RING_CODEC_H264) {
        h[0] = (uint8_t)((nal[0] & 0xe0) | 28);
        h[1] = (uint8_t)(se | (nal[0] & 0x1f));
    } else {
        h[0] = (uint8_t)((nal[0] & 0x81) | (49 << 1));
        h[1] = nal[1];
        h[2] = (uint8_t)(se | ((nal[0] >> 1) & 0x3f));
    }
    add_own(pkt, h, frag_hdr_len(w->codec));
    uint32_t start = nh + i * body, rest = p->nal[0].len - start;
    add_au(pkt, p->nal[0].off + start, rest < body ? rest : body);
}

static void describe(const struct walker *w, const struct piece *p, uint32_t i, uint32_t index,
                     struct pack_pkt *pkt)
{
    pkt->index = index;
    pkt->len = 0;
    pkt->marker = false;
    pkt->n_seg = 0;
    pkt->hdr_len = 0;
    if (p->kind == PIECE_AGG)
        describe_agg(w, p, pkt);
    else if (p->kind == PIECE_FRAG)
        describe_frag(w, p, i, pkt);
    else
        add_au(pkt, p->nal[0].off, p->nal[0].len);
}

int pack_count(uint32_t codec, const uint8_t *au, size_t len, unsigned mtu)
{
    return pack_frame(codec, au, len, mtu, NULL, 0);
}

int pack_frame(uint32_t codec, const uint8_t *au, size_t len, unsigned mtu, struct pack_pkt *out,
               size_t max)
{
    struct walker w;
    int err = walker_init(&w, codec, au, len, mtu);
    if (err < 0)
        return err;
    struct piece p;
    uint32_t total = 0;
    while (walker_next_piece(&w, &p)) {
        for (uint32_t i = 0; i < p.n_pkt && total + i < max; i++)
            describe(&w, &p, i, total + i, &out[total + i]);
        total += p.n_pkt;
    }
    if (total == 0)
        return -EINVAL;
    if (total <= max)
        out[total - 1].marker = true;
    return (int)total;
}

int pack_packet(uint32_t codec, const uint8_t *au, size_t len, unsigned mtu, uint32_t k,
                struct pack_pkt *out)
{
    struct walker w;
    int err = walker_init(&w, codec, au, len, mtu);
    if (err < 0)
        return err;
    struct piece p;
    uint32_t first = 0;
    while (walker_next_piece(&w, &p)) {
        if (k < first + p.n_pkt) {
            describe(&w, &p, k - first, k, out);
            struct nal_ref more;
            out->marker =
                k == first + p.n_pkt - 1 && (!codec_is_video(codec) || !walker_peek(&w, &more));
            return 0;
        }
        first += p.n_pkt;
    }
    return first == 0 ? -EINVAL : -ERANGE;
}

int pack_iov(const struct pack_pkt *pkt, const uint8_t *au, struct iovec *iov, size_t max)
{
    size_t n = pkt->n_seg < max ? pkt->n_seg : max;
    for (size_t i = 0; i < n; i++) {
        const struct pack_seg *s = &pkt->seg[i];
        iov[i].iov_base = (void *)(s->own ? pkt->hdr + s->off : au + s->off);
        iov[i].iov_len = s->len;
    }
    return (int)n;
}
