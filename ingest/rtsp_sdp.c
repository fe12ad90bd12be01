/* SPDX-License-Identifier: MIT */
/* rtsp_sdp.c: turns a DESCRIBE answer into tracks with libre's SDP decoder. libre is used
 * as a codec only: a scratch session with no local media decodes the server's SDP as an
 * offer, which exposes every remote media section and format (notes/libre-1.1.md 2). */
#include "ingest/rtsp_sdp.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <re.h>

#include "shm/ring.h"

uint32_t rtsp_sdp_codec_of(const struct sdp_format *f, struct rtsp_sdp_track *t)
{
    const char *name = f->name;
    t->clock_rate = f->srate;
    t->channels = f->ch ? f->ch : 1;
    if (!name || !*name) {
        if (f->pt != 0 && f->pt != 8) {
            snprintf(t->encoding, sizeof(t->encoding), "PT %d", f->pt);
            return RING_CODEC_NONE;
        }
        name = f->pt == 0 ? "PCMU" : "PCMA";
        t->clock_rate = 8000;
        t->channels = 1;
    }
    snprintf(t->encoding, sizeof(t->encoding), "%s", name);
    if (strcasecmp(name, "H264") == 0 && t->clock_rate == 90000)
        return RING_CODEC_H264;
    if ((strcasecmp(name, "H265") == 0 || strcasecmp(name, "HEVC") == 0) && t->clock_rate == 90000)
        return RING_CODEC_H265;
    /* RFC 7587 7: always opus/48000/2, whatever the stream carries. */
    if (strcasecmp(name, "opus") == 0 && t->clock_rate == 48000)
        return RING_CODEC_OPUS;
    if (strcasecmp(name, "PCMU") == 0 && t->clock_rate == 8000)
        return RING_CODEC_PCMU;
    if (strcasecmp(name, "PCMA") == 0 && t->clock_rate == 8000)
        return RING_CODEC_PCMA;
    return RING_CODEC_NONE;
}

static int media_track(struct rtsp_sdp_track *t, const struct sdp_media *m, const char *base)
{
    memset(t, 0, sizeof(*t));
    snprintf(t->media, sizeof(t->media), "%s", sdp_media_name(m) ? sdp_media_name(m) : "");
    t->pt = -1;
    for (struct le *le = list_head(sdp_media_format_lst(m, false)); le; le = le->next) {
        const struct sdp_format *f = le->data;
        struct rtsp_sdp_track cand = *t;
        uint32_t c = rtsp_sdp_codec_of(f, &cand);
        if (t->pt < 0) /* name the first format in logs when none is supported */
            snprintf(t->encoding, sizeof(t->encoding), "%s", cand.encoding);
        if (c == RING_CODEC_NONE || f->pt < 0 || f->pt > 127)
            continue;
        *t = cand;
        t->codec = c;
        t->pt = f->pt;
        if (f->params && strlen(f->params) >= sizeof(t->fmtp))
            return -EMSGSIZE;
        snprintf(t->fmtp, sizeof(t->fmtp), "%s", f->params ? f->params : "");
        break;
    }
    if (t->codec == RING_CODEC_NONE)
        t->pt = -1;
    return rtsp_url_resolve(base, sdp_media_rattr(m, "control"), t->control, sizeof(t->control));
}

int rtsp_sdp_parse(struct rtsp_sdp *out, const uint8_t *p, size_t len, const char *base)
{
    struct sdp_session *sess = NULL;
    struct mbuf *mb = NULL;
    struct sa laddr;
    int err;

    memset(out, 0, sizeof(*out));
    if (len > RTSP_SDP_MAX_LEN)
        return -EMSGSIZE;
    if (memchr(p, '\0', len))
        return -EBADMSG; /* libre reads lines as C strings in places */
    sa_init(&laddr, AF_INET);
    err = sdp_session_alloc(&sess, &laddr);
    if (err)
        return -err;
    mb = mbuf_alloc(len + 2);
    if (!mb) {
        err = ENOMEM;
        goto out;
    }
    err = mbuf_write_mem(mb, p, len);
    /* libre rejects an SDP whose last line lacks its CRLF; servers often omit it. */
    if (!err && (len == 0 || p[len - 1] != '\n'))
        err = mbuf_write_str(mb, "\r\n");
    if (err)
        goto out;
    mb->pos = 0;
    if (sdp_decode(sess, mb, true)) {
        err = EBADMSG;
        goto out;
    }
    /* The session-level control names the aggregate (for PLAY); when it is an absolute URL
     * it is also the base the media's relative controls resolve against (RFC 2326 C.1.1). */
    const char *sc = sdp_session_rattr(sess, "control");
    err = -rtsp_url_resolve(base, sc, out->control, sizeof(out->control));
    if (err)
        goto out;
    const char *mbase = sc && strncasecmp(sc, "rtsp://", 7) == 0 ? out->control : base;
    for (struct le *le = list_head(sdp_session_medial(sess, false)); le; le = le->next) {
        if (out->n >= RTSP_SDP_MAX_MEDIA)
            break;
        err = -media_track(&out->t[out->n], le->data, mbase);
        if (err)
            goto out;
        out->n++;
    }
out:
    mem_deref(mb);
    mem_deref(sess);
    return -err;
}

int rtsp_sdp_declare(struct ingest *ing, const struct rtsp_sdp_track *t)
{
    struct ingest_track_desc d = {
        .codec = t->codec,
        .clock_rate = t->clock_rate,
        .channels = t->channels,
        .fmtp = t->fmtp[0] ? t->fmtp : NULL,
    };
    return ingest_add_track(ing, &d);
}
