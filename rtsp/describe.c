/* SPDX-License-Identifier: MIT */
/* describe.c: the SDP of a DESCRIBE answer from a ring's track table. The fmtp lines carry
 * the parameter sets the ring holds now, so that a client can start its decoder before the
 * first keyframe's in-band copies arrive (ffmpeg needs them to probe the stream). */
#include "rtsp/describe.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "codec/codec.h"

uint8_t rtsp_sdp_pt(const struct rtsp_sdp_track *t)
{
    bool g711 = t->clock_rate == 8000 && t->channels <= 1;
    if (t->codec == RING_CODEC_PCMU && g711)
        return 0;
    if (t->codec == RING_CODEC_PCMA && g711)
        return 8;
    return (uint8_t)(96 + t->index);
}

struct out {
    char *p;
    size_t cap, len;
    bool full;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
    if (o->full)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= o->cap - o->len)
        o->full = true;
    else
        o->len += (size_t)n;
}

/* Appends ";key=B64,B64..." for the parameter-set NALs of type ta or tb, in the order the ring
 * holds them; nothing when there is none. */
static void put_sprop(struct out *o, const struct rtsp_sdp_track *t, const char *key, int ta,
                      int tb)
{
    bool any = false;
    size_t pos = 0, nl;
    const uint8_t *nal;
    while (codec_annexb_next(t->params, t->params_len, &pos, &nal, &nl) == 1) {
        int ty = codec_nal_type(t->codec, nal, nl);
        if (ty != ta && ty != tb)
            continue;
        char b64[RTSP_SDP_MAX];
        if (codec_base64_encode(nal, nl, b64, sizeof(b64)) < 0) {
            o->full = true;
            return;
        }
        if (any)
            put(o, ",%s", b64);
        else
            put(o, ";%s=%s", key, b64);
        any = true;
    }
}

static int put_track(struct out *o, const struct rtsp_sdp_track *t)
{
    uint8_t pt = rtsp_sdp_pt(t);
    bool video = codec_is_video(t->codec);
    put(o, "m=%s 0 RTP/AVP %u\r\n", video ? "video" : "audio", pt);
    switch (t->codec) {
    case RING_CODEC_H264: {
        put(o, "a=rtpmap:%u H264/90000\r\na=fmtp:%u packetization-mode=1", pt, pt);
        /* profile-level-id is the SPS's bytes 1..3 (RFC 6184 8.1). */
        size_t pos = 0, nl;
        const uint8_t *nal;
        while (codec_annexb_next(t->params, t->params_len, &pos, &nal, &nl) == 1)
            if (codec_nal_type(t->codec, nal, nl) == 7 && nl >= 4) {
                put(o, ";profile-level-id=%02X%02X%02X", nal[1], nal[2], nal[3]);
                break;
            }
        put_sprop(o, t, "sprop-parameter-sets", 7, 8);
        put(o, "\r\n");
        break;
    }
    case RING_CODEC_H265: {
        put(o, "a=rtpmap:%u H265/90000\r\n", pt);
        if (t->params_len) {
            put(o, "a=fmtp:%u profile-id=1", pt);
            put_sprop(o, t, "sprop-vps", 32, 32);
            put_sprop(o, t, "sprop-sps", 33, 33);
            put_sprop(o, t, "sprop-pps", 34, 34);
            put(o, "\r\n");
        }
        break;
    }
    case RING_CODEC_OPUS: /* RFC 7587 7: always opus/48000/2 */
        put(o, "a=rtpmap:%u opus/48000/2\r\n", pt);
        if (t->channels == 2)
            put(o, "a=fmtp:%u sprop-stereo=1\r\n", pt);
        break;
    case RING_CODEC_PCMU:
    case RING_CODEC_PCMA:
        put(o, "a=rtpmap:%u %s/%u", pt, t->codec == RING_CODEC_PCMU ? "PCMU" : "PCMA",
            t->clock_rate);
        if (t->channels > 1)
            put(o, "/%u", t->channels);
        put(o, "\r\n");
        break;
    default:
        return -EINVAL;
    }
    put(o, "a=control:trackID=%u\r\n", t->index);
    return 0;
}

int rtsp_sdp_build(char *out, size_t cap, const char *name, const char *addr, uint64_t sid,
                   const struct rtsp_sdp_track *t, unsigned n)
{
    struct out o = {out, cap, 0, cap == 0};
    const char *fam = strchr(addr, ':') ? "IP6" : "IP4";
    put(&o, "v=0\r\no=- %llu 1 IN %s %s\r\ns=%s\r\nc=IN %s %s\r\nt=0 0\r\na=control:*\r\n",
        (unsigned long long)sid, fam, addr, name, fam, strchr(addr, ':') ? "::" : "0.0.0.0");
    for (unsigned i = 0; i < n; i++) {
        int rc = put_track(&o, &t[i]);
        if (rc < 0)
            return rc;
    }
    return o.full ? -ENOSPC : (int)o.len;
}
