/* SPDX-License-Identifier: MIT */
/* fuzz_pack_video.c: libFuzzer target for the H.264 and H.265 packetizers (codec/pack.c).
 * Input: codec bit and MTU in the first two bytes, then an access unit. Checks that the
 * count, the whole-frame and the packet-k descriptions agree, that every packet fits the
 * MTU and stays inside the unit, and, for units of well-formed NAL types, that the
 * depacketizer rebuilds the same NAL units. */
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"
#include "codec/depack.h"
#include "codec/pack.h"

#define MAX_PKTS 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct rebuilt {
    uint8_t buf[1 << 16];
    size_t len;
    int units;
};

static void on_au(void *arg, const struct depack_au *au)
{
    struct rebuilt *r = arg;
    if (au->len <= sizeof(r->buf)) {
        memcpy(r->buf, au->data, au->len);
        r->len = au->len;
    }
    r->units++;
}

/* NAL types a depacketizer takes as plain NAL units (not aggregation/fragment markers). */
static bool nals_plain(uint32_t codec, const uint8_t *au, size_t len)
{
    size_t pos = 0, n;
    const uint8_t *nal;
    while (codec_annexb_next(au, len, &pos, &nal, &n) == 1) {
        int t = codec_nal_type(codec, nal, n);
        if (codec == RING_CODEC_H264 ? (t < 1 || t > 23) : (t < 0 || t > 47))
            return false;
    }
    return true;
}

static bool same_nals(uint32_t codec, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    (void)codec;
    size_t pa = 0, pb = 0, na, nb;
    const uint8_t *xa, *xb;
    for (;;) {
        int ra = codec_annexb_next(a, alen, &pa, &xa, &na);
        int rb = codec_annexb_next(b, blen, &pb, &xb, &nb);
        if (ra != rb)
            return false;
        if (ra == 0)
            return true;
        if (na != nb || memcmp(xa, xb, na) != 0)
            return false;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct pack_pkt pkts[MAX_PKTS];
    static struct rebuilt r;
    if (size < 2)
        return 0;
    uint32_t codec = (data[0] & 1) ? RING_CODEC_H265 : RING_CODEC_H264;
    unsigned mtu = PACK_MIN_MTU + (unsigned)(data[1] * 8); /* 64 .. 2104 */
    const uint8_t *au = data + 2;
    size_t len = size - 2;
    int count = pack_count(codec, au, len, mtu);
    if (count < 0)
        return 0;
    if (count == 0 || pack_frame(codec, au, len, mtu, pkts, MAX_PKTS) != count)
        abort();
    if (count > MAX_PKTS)
        return 0;
    struct depack *d;
    if (depack_create(&d, codec, sizeof(r.buf), on_au, &r) < 0)
        abort();
    r.units = 0;
    uint8_t wire[12 + 2200];
    /* A keyframe first, so units without one are delivered as well. */
    static const uint8_t key264[] = {0x80, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x65, 0x88};
    static const uint8_t key265[] = {0x80, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 19 << 1, 1, 0xaf};
    if (codec == RING_CODEC_H264)
        (void)depack_push(d, key264, sizeof(key264));
    else
        (void)depack_push(d, key265, sizeof(key265));
    for (int k = 0; k < count; k++) {
        struct pack_pkt one;
        if (pack_packet(codec, au, len, mtu, (uint32_t)k, &one) != 0)
            abort();
        if (one.len != pkts[k].len || one.marker != pkts[k].marker || one.n_seg != pkts[k].n_seg ||
            one.len > mtu || pkts[k].marker != (k == count - 1))
            abort();
        struct iovec iov[PACK_SEGS_MAX];
        int n = pack_iov(&one, au, iov, PACK_SEGS_MAX);
        size_t off = 12;
        memcpy(wire, key264, 12);
        wire[1] = one.marker ? 0x80 : 0;
        wire[3] = (uint8_t)(k + 1);
        wire[2] = (uint8_t)((k + 1) >> 8);
        wire[7] = 1; /* timestamp 1: a new unit after the keyframe */
        for (int i = 0; i < n; i++) {
            const uint8_t *base = iov[i].iov_base;
            bool in_au = base >= au && base + iov[i].iov_len <= au + len;
            bool in_hdr = base >= one.hdr && base + iov[i].iov_len <= one.hdr + one.hdr_len;
            if (!in_au && !in_hdr)
                abort();
            memcpy(wire + off, base, iov[i].iov_len);
            off += iov[i].iov_len;
        }
        (void)depack_push(d, wire, off);
    }
    if (nals_plain(codec, au, len) && len <= sizeof(r.buf) &&
        (r.units != 2 || !same_nals(codec, au, len, r.buf, r.len)))
        abort();
    depack_free(d);
    return 0;
}
