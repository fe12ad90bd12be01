/* SPDX-License-Identifier: MIT */
/* rtsp_sdp.c: turns a DESCRIBE answer into tracks: a reader of the few SDP lines (RFC 4566
 * 5) an RTSP pull needs: m=, a=rtpmap, a=fmtp and a=control. Not libre's decoder: the
 * ingest of an rtsp:// path links no libre, whose shared library loads OpenSSL (~450 KiB of
 * private memory per process); the WHIP offer (ingest/whip_sdp.c) keeps libre's. */
#include "ingest/rtsp_sdp.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "shm/ring.h"

#define SDP_MAX_FORMATS 16 /* per m= line; further formats are not looked at */

/* A span of the SDP text: not NUL-terminated. */
struct span {
    const char *p;
    size_t n;
};

struct sdp_fmt {
    int pt;
    struct span name, params; /* from a=rtpmap and a=fmtp; n = 0 when absent */
    uint32_t rate, ch;
};

struct sdp_sect {
    struct span media, control;
    unsigned n_fmt;
    struct sdp_fmt fmt[SDP_MAX_FORMATS];
};

uint32_t rtsp_sdp_codec_of(const char *name, int pt, uint32_t srate, uint32_t ch,
                           struct rtsp_sdp_track *t)
{
    t->clock_rate = srate;
    t->channels = ch ? ch : 1;
    if (!name || !*name) {
        if (pt != 0 && pt != 8) {
            snprintf(t->encoding, sizeof(t->encoding), "PT %d", pt);
            return RING_CODEC_NONE;
        }
        name = pt == 0 ? "PCMU" : "PCMA";
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

/* The next token of *s delimited by any of delims (skipped before it); n = 0 at the end. */
static struct span token(struct span *s, const char *delims)
{
    while (s->n && strchr(delims, *s->p)) {
        s->p++;
        s->n--;
    }
    struct span t = {s->p, 0};
    while (t.n < s->n && !strchr(delims, t.p[t.n]))
        t.n++;
    s->p += t.n;
    s->n -= t.n;
    return t;
}

/* A decimal number of at most 9 digits: 0, or -EBADMSG. */
static int number(struct span t, uint32_t *out)
{
    if (t.n == 0 || t.n > 9)
        return -EBADMSG;
    uint32_t v = 0;
    for (size_t i = 0; i < t.n; i++) {
        if (t.p[i] < '0' || t.p[i] > '9')
            return -EBADMSG;
        v = v * 10 + (uint32_t)(t.p[i] - '0');
    }
    *out = v;
    return 0;
}

static bool starts(struct span l, const char *prefix)
{
    size_t n = strlen(prefix);
    return l.n >= n && memcmp(l.p, prefix, n) == 0;
}

/* "m=<media> <port>[/<n>] <proto> <fmt> ...": a new section; RFC 4566 5.14. */
static int media_line(struct sdp_sect *m, struct span l)
{
    memset(m, 0, sizeof(*m));
    m->media = token(&l, " ");
    struct span port = token(&l, " "), proto = token(&l, " ");
    if (!m->media.n || !port.n || !proto.n)
        return -EBADMSG;
    for (struct span f = token(&l, " "); f.n && m->n_fmt < SDP_MAX_FORMATS; f = token(&l, " ")) {
        uint32_t pt;
        if (number(f, &pt) == 0 && pt <= 255) /* RTP payload types; other formats are skipped */
            m->fmt[m->n_fmt++] = (struct sdp_fmt){.pt = (int)pt};
    }
    return 0;
}

static struct sdp_fmt *format_of(struct sdp_sect *m, struct span *l)
{
    uint32_t pt;
    if (number(token(l, " "), &pt) < 0)
        return NULL;
    for (unsigned i = 0; i < m->n_fmt; i++)
        if (m->fmt[i].pt == (int)pt)
            return &m->fmt[i];
    return NULL;
}

/* "a=rtpmap:<pt> <name>/<rate>[/<channels>]" (RFC 4566 6) for a format of m. A rate or
 * channel count that is no number stays 0: no codec matches the format then. */
static void rtpmap_line(struct sdp_sect *m, struct span l)
{
    struct sdp_fmt *f = format_of(m, &l);
    if (!f)
        return;
    f->name = token(&l, " /");
    if (number(token(&l, "/ "), &f->rate) < 0)
        f->rate = 0;
    if (number(token(&l, "/ "), &f->ch) < 0)
        f->ch = 0;
}

static void fmtp_line(struct sdp_sect *m, struct span l)
{
    struct sdp_fmt *f = format_of(m, &l);
    if (f) {
        while (l.n && *l.p == ' ') {
            l.p++;
            l.n--;
        }
        f->params = l;
    }
}

/* Copies s into out as a C string; -ENAMETOOLONG when it does not fit. */
static int copy(char *out, size_t cap, struct span s)
{
    if (s.n >= cap)
        return -ENAMETOOLONG;
    if (s.n) /* an absent span's p is NULL */
        memcpy(out, s.p, s.n);
    out[s.n] = '\0';
    return 0;
}

static int media_track(struct rtsp_sdp_track *t, const struct sdp_sect *m, const char *base)
{
    memset(t, 0, sizeof(*t));
    snprintf(t->media, sizeof(t->media), "%.*s", (int)m->media.n, m->media.p);
    t->pt = -1;
    for (unsigned i = 0; i < m->n_fmt; i++) {
        const struct sdp_fmt *f = &m->fmt[i];
        struct rtsp_sdp_track cand = *t;
        char name[32];
        snprintf(name, sizeof(name), "%.*s", (int)f->name.n, f->name.p);
        uint32_t c = rtsp_sdp_codec_of(name, f->pt, f->rate, f->ch, &cand);
        if (t->pt < 0) /* name a format in logs when none is supported */
            snprintf(t->encoding, sizeof(t->encoding), "%s", cand.encoding);
        if (c == RING_CODEC_NONE || f->pt > 127)
            continue;
        *t = cand;
        t->codec = c;
        t->pt = f->pt;
        if (copy(t->fmtp, sizeof(t->fmtp), f->params) < 0)
            return -EMSGSIZE;
        break;
    }
    if (t->codec == RING_CODEC_NONE)
        t->pt = -1;
    char control[RTSP_URL_MAX];
    if (copy(control, sizeof(control), m->control) < 0)
        return -ENAMETOOLONG;
    return rtsp_url_resolve(base, m->control.n ? control : NULL, t->control, sizeof(t->control));
}

/* Every line is "<type>=<value>" (RFC 4566 5), ended by CRLF or a bare LF (servers send both;
 * the last one may lack it). Unknown types and attributes are skipped. */
static int read_lines(struct span text, struct sdp_sect *sect, unsigned *n_sect,
                      struct span *session_control)
{
    struct sdp_sect *m = NULL; /* the current media section; NULL at session level */
    struct sdp_sect ignored;   /* sections past RTSP_SDP_MAX_MEDIA */
    while (text.n) {
        struct span l = token(&text, "\n");
        if (l.n && l.p[l.n - 1] == '\r')
            l.n--;
        if (!l.n)
            continue;
        if (l.n < 2 || l.p[1] != '=' || l.p[0] < 'a' || l.p[0] > 'z')
            return -EBADMSG;
        int err = 0;
        if (starts(l, "m=")) {
            m = *n_sect < RTSP_SDP_MAX_MEDIA ? &sect[(*n_sect)++] : &ignored;
            err = media_line(m, (struct span){l.p + 2, l.n - 2});
        } else if (starts(l, "a=control:")) {
            struct span v = {l.p + 10, l.n - 10};
            *(m ? &m->control : session_control) = v;
        } else if (m && starts(l, "a=rtpmap:")) {
            rtpmap_line(m, (struct span){l.p + 9, l.n - 9});
        } else if (m && starts(l, "a=fmtp:")) {
            fmtp_line(m, (struct span){l.p + 7, l.n - 7});
        }
        if (err < 0)
            return err;
    }
    return 0;
}

int rtsp_sdp_parse(struct rtsp_sdp *out, const uint8_t *p, size_t len, const char *base)
{
    struct sdp_sect sect[RTSP_SDP_MAX_MEDIA];
    unsigned n_sect = 0;
    struct span sc = {0};

    memset(out, 0, sizeof(*out));
    if (len > RTSP_SDP_MAX_LEN)
        return -EMSGSIZE;
    if (len && memchr(p, '\0', len))
        return -EBADMSG;
    int err = read_lines((struct span){(const char *)p, len}, sect, &n_sect, &sc);
    if (err < 0)
        return err;
    /* The session-level control names the aggregate (for PLAY); when it is an absolute URL
     * it is also the base the media's relative controls resolve against (RFC 2326 C.1.1). */
    char control[RTSP_URL_MAX];
    if (copy(control, sizeof(control), sc) < 0)
        return -ENAMETOOLONG;
    err = rtsp_url_resolve(base, sc.n ? control : NULL, out->control, sizeof(out->control));
    if (err < 0)
        return err;
    const char *mbase = sc.n && strncasecmp(control, "rtsp://", 7) == 0 ? out->control : base;
    for (unsigned i = 0; i < n_sect; i++) {
        err = media_track(&out->t[i], &sect[i], mbase);
        if (err < 0)
            return err;
        out->n++;
    }
    return 0;
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
