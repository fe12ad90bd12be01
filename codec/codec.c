/* SPDX-License-Identifier: MIT */
/* codec.c: Annex-B iteration, NAL classification, keyframe detection and parameter sets
 * (from access units and from SDP sprop-* fmtp parameters), shared by ingest and egress. */
#include "codec/codec.h"

#include <errno.h>
#include <string.h>

const char *codec_name(uint32_t codec)
{
    switch (codec) {
    case RING_CODEC_H264:
        return "H264";
    case RING_CODEC_H265:
        return "H265";
    case RING_CODEC_OPUS:
        return "opus";
    case RING_CODEC_PCMU:
        return "PCMU";
    case RING_CODEC_PCMA:
        return "PCMA";
    default:
        return "none";
    }
}

bool codec_is_known(uint32_t codec)
{
    switch (codec) {
    case RING_CODEC_H264:
    case RING_CODEC_H265:
    case RING_CODEC_OPUS:
    case RING_CODEC_PCMU:
    case RING_CODEC_PCMA:
        return true;
    default:
        return false;
    }
}

bool codec_is_video(uint32_t codec)
{
    return codec == RING_CODEC_H264 || codec == RING_CODEC_H265;
}

/* Position of the next 00 00 01 at or after i, or len. memchr finds the 01 (vectorized by
 * libc; in slice data a 01 byte comes about every 256 bytes), then the two zeros before it
 * are checked. This scan dominates packetizing and NACK rebuilds. */
static size_t find_start_code(const uint8_t *p, size_t len, size_t i)
{
    while (i + 2 < len) {
        const uint8_t *one = memchr(p + i + 2, 1, len - i - 2);
        if (!one)
            return len;
        size_t j = (size_t)(one - p);
        if (p[j - 1] == 0 && p[j - 2] == 0)
            return j - 2;
        i = j - 1; /* the next 01 can only be at j + 1 or later */
    }
    return len;
}

int codec_annexb_next(const uint8_t *p, size_t len, size_t *pos, const uint8_t **nal,
                      size_t *nal_len)
{
    size_t i = *pos;
    while (i < len) {
        size_t sc = find_start_code(p, len, i);
        if (sc >= len) {
            *pos = len;
            return 0;
        }
        size_t begin = sc + 3;
        size_t end = find_start_code(p, len, begin);
        *pos = end;
        /* A 4-byte start code's leading zero and trailing_zero_8bits belong to no NAL. */
        while (end > begin && p[end - 1] == 0)
            end--;
        if (end > begin) {
            *nal = p + begin;
            *nal_len = end - begin;
            return 1;
        }
        i = *pos;
    }
    *pos = len;
    return 0;
}

int codec_nal_type(uint32_t codec, const uint8_t *nal, size_t nal_len)
{
    if (codec == RING_CODEC_H264 && nal_len >= 1)
        return nal[0] & 0x1f;
    if (codec == RING_CODEC_H265 && nal_len >= 2)
        return (nal[0] >> 1) & 0x3f;
    return -1;
}

bool codec_nal_is_param(uint32_t codec, const uint8_t *nal, size_t nal_len)
{
    int t = codec_nal_type(codec, nal, nal_len);
    if (codec == RING_CODEC_H264)
        return t == 7 || t == 8;
    return t >= 32 && t <= 34;
}

bool codec_nal_is_key(uint32_t codec, const uint8_t *nal, size_t nal_len)
{
    int t = codec_nal_type(codec, nal, nal_len);
    if (codec == RING_CODEC_H264)
        return t == 5;
    return t >= 16 && t <= 23; /* RFC 7798 / H.265 7.4.2.2: BLA, IDR, CRA (IRAP) */
}

bool codec_au_is_key(uint32_t codec, const uint8_t *au, size_t len)
{
    if (!codec_is_video(codec))
        return true;
    size_t pos = 0;
    const uint8_t *nal;
    size_t n;
    while (codec_annexb_next(au, len, &pos, &nal, &n) == 1)
        if (codec_nal_is_key(codec, nal, n))
            return true;
    return false;
}

/* Appends a 4-byte start code and the NAL at *off. */
static int put_nal(uint8_t *out, size_t cap, size_t *off, const uint8_t *nal, size_t n)
{
    if (cap - *off < n + 4)
        return -ENOSPC;
    memcpy(out + *off, "\0\0\0\1", 4);
    memcpy(out + *off + 4, nal, n);
    *off += n + 4;
    return 0;
}

/* True if the Annex-B blob out[0..len) already holds exactly this NAL. */
static bool blob_has_nal(const uint8_t *out, size_t len, const uint8_t *nal, size_t n)
{
    size_t pos = 0;
    const uint8_t *have;
    size_t m;
    while (codec_annexb_next(out, len, &pos, &have, &m) == 1)
        if (m == n && memcmp(have, nal, n) == 0)
            return true;
    return false;
}

int codec_params_from_au(uint32_t codec, const uint8_t *au, size_t len, uint8_t *out, size_t cap)
{
    size_t pos = 0, off = 0;
    const uint8_t *nal;
    size_t n;
    while (codec_annexb_next(au, len, &pos, &nal, &n) == 1) {
        /* A server that inserts parameter sets in front of a unit that already carries
         * them repeats each one; the track keeps one copy. */
        if (!codec_nal_is_param(codec, nal, n) || blob_has_nal(out, off, nal, n))
            continue;
        int err = put_nal(out, cap, &off, nal, n);
        if (err < 0)
            return err;
    }
    return (int)off;
}

static int b64_value(uint8_t c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

int codec_base64_decode(const char *in, size_t in_len, uint8_t *out, size_t cap)
{
    while (in_len > 0 && in[in_len - 1] == '=')
        in_len--;
    if (in_len % 4 == 1)
        return -EBADMSG; /* a lone sextet cannot hold a byte */
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t n = 0;
    for (size_t i = 0; i < in_len; i++) {
        int v = b64_value((uint8_t)in[i]);
        if (v < 0)
            return -EBADMSG;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n >= cap)
                return -ENOSPC;
            out[n++] = (uint8_t)(acc >> bits);
        }
    }
    return (int)n;
}

int codec_base64_encode(const uint8_t *in, size_t len, char *out, size_t cap)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t need = (len + 2) / 3 * 4;
    if (need >= cap)
        return -ENOSPC;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0) |
                     (i + 2 < len ? in[i + 2] : 0);
        out[o++] = abc[v >> 18 & 63];
        out[o++] = abc[v >> 12 & 63];
        out[o++] = i + 1 < len ? abc[v >> 6 & 63] : '=';
        out[o++] = i + 2 < len ? abc[v & 63] : '=';
    }
    out[o] = '\0';
    return (int)o;
}

/* Finds key's value in "k1=v1; k2=v2" (RFC 4566 fmtp, ';'-separated). */
static bool fmtp_find(const char *f, size_t len, const char *key, const char **val, size_t *vlen)
{
    size_t klen = strlen(key);
    size_t i = 0;
    while (i < len) {
        while (i < len && (f[i] == ' ' || f[i] == ';'))
            i++;
        size_t end = i;
        while (end < len && f[end] != ';')
            end++;
        if (end - i > klen && memcmp(f + i, key, klen) == 0 && f[i + klen] == '=') {
            *val = f + i + klen + 1;
            *vlen = end - (i + klen + 1);
            while (*vlen > 0 && (*val)[*vlen - 1] == ' ')
                (*vlen)--;
            return true;
        }
        i = end;
    }
    return false;
}

/* Decodes a comma-separated list of base64 NAL units into Annex-B at *off. */
static int put_b64_list(const char *v, size_t vlen, uint8_t *out, size_t cap, size_t *off)
{
    size_t i = 0;
    while (i < vlen) {
        size_t end = i;
        while (end < vlen && v[end] != ',')
            end++;
        if (end > i) {
            if (cap - *off < 4)
                return -ENOSPC;
            int n = codec_base64_decode(v + i, end - i, out + *off + 4, cap - *off - 4);
            if (n < 0)
                return n;
            if (n > 0) {
                memcpy(out + *off, "\0\0\0\1", 4);
                *off += 4 + (size_t)n;
            }
        }
        i = end + 1;
    }
    return 0;
}

int codec_params_from_fmtp(uint32_t codec, const char *fmtp, size_t fmtp_len, uint8_t *out,
                           size_t cap)
{
    static const char *const h264_keys[] = {"sprop-parameter-sets", NULL};
    static const char *const h265_keys[] = {"sprop-vps", "sprop-sps", "sprop-pps", NULL};
    const char *const *keys = codec == RING_CODEC_H264   ? h264_keys
                              : codec == RING_CODEC_H265 ? h265_keys
                                                         : NULL;
    size_t off = 0;
    for (; keys && *keys; keys++) {
        const char *v;
        size_t vlen;
        if (!fmtp || !fmtp_find(fmtp, fmtp_len, *keys, &v, &vlen))
            continue;
        int err = put_b64_list(v, vlen, out, cap, &off);
        if (err < 0)
            return err;
    }
    return (int)off;
}
