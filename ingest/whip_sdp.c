/* SPDX-License-Identifier: MIT */
/* whip_sdp.c: the WHIP offer read with libre (a scratch session without local media decodes
 * it and exposes every remote section and format, notes/libre-1.1.md 2) and the answer
 * written as text: it only mirrors the offer's sections, so libre's matching adds nothing. */
#include "ingest/whip_sdp.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <re.h>

#include "shm/ring.h"

static int whip_sdp_fail(struct whip_sdp_offer *o, int err, const char *reason)
{
    snprintf(o->reason, sizeof(o->reason), "%s", reason);
    return err;
}

/* How much we want format f (0: not at all); fills t. */
static int whip_sdp_score(const struct sdp_format *f, struct rtsp_sdp_track *t)
{
    if (f->pt < 0 || f->pt > 127)
        return 0;
    switch (rtsp_sdp_codec_of(f->name, f->pt, f->srate, f->ch, t)) {
    case RING_CODEC_H264:
        /* FU-A and STAP-A (packetization-mode=1) carry big pictures; mode 0 works too. */
        return f->params && strstr(f->params, "packetization-mode=1") ? 6 : 4;
    case RING_CODEC_H265:
        return 5;
    case RING_CODEC_OPUS:
        return 3;
    case RING_CODEC_PCMU:
        return 2;
    case RING_CODEC_PCMA:
        return 1;
    default:
        return 0;
    }
}

/* The section's best format into s->t; false when none is usable. */
static bool whip_sdp_pick(const struct sdp_media *m, struct whip_sdp_section *s)
{
    int best = 0;
    s->first_pt = -1;
    for (struct le *le = list_head(sdp_media_format_lst(m, false)); le; le = le->next) {
        const struct sdp_format *f = le->data;
        struct rtsp_sdp_track cand = {0};
        if (s->first_pt < 0)
            s->first_pt = f->pt;
        int score = whip_sdp_score(f, &cand);
        if (score <= best || (f->params && strlen(f->params) >= sizeof(cand.fmtp)))
            continue;
        best = score;
        cand.codec = rtsp_sdp_codec_of(f->name, f->pt, f->srate, f->ch, &cand);
        cand.pt = f->pt;
        snprintf(cand.media, sizeof(cand.media), "%s", s->kind);
        snprintf(cand.fmtp, sizeof(cand.fmtp), "%s", f->params ? f->params : "");
        s->t = cand;
    }
    return best > 0;
}

static bool whip_sdp_fp_line(const char *name, const char *value, void *arg)
{
    (void)name;
    struct dtlsrv_fingerprints *set = arg;
    if (set->n < DTLSRV_FP_SET_MAX && dtlsrv_fingerprint_parse(value, &set->fp[set->n]) == 0)
        set->n++;
    return false; /* all lines */
}

/* ICE credentials and fingerprints of the first accepted section (the BUNDLE tag: offerers
 * put it first), its own attributes else the session's. */
static int whip_sdp_transport(struct whip_sdp_offer *o, const struct sdp_session *sess,
                              const struct sdp_media *m)
{
    const char *ufrag = sdp_media_session_rattr(m, sess, "ice-ufrag");
    const char *pwd = sdp_media_session_rattr(m, sess, "ice-pwd");
    const char *setup = sdp_media_session_rattr(m, sess, "setup");
    if (!ufrag || !pwd || !*ufrag || strlen(ufrag) >= sizeof(o->ufrag) || strlen(pwd) < 22 ||
        strlen(pwd) >= sizeof(o->pwd))
        return whip_sdp_fail(o, -EBADMSG, "offer lacks valid a=ice-ufrag/a=ice-pwd");
    (void)sdp_media_rattr_apply(m, "fingerprint", whip_sdp_fp_line, &o->fps);
    if (o->fps.n == 0)
        (void)sdp_session_rattr_apply(sess, "fingerprint", whip_sdp_fp_line, &o->fps);
    if (o->fps.n == 0)
        return whip_sdp_fail(o, -EBADMSG,
                             "offer has no usable a=fingerprint (sha-256, sha-384 or sha-512)");
    /* We are the DTLS server (RFC 5763 5): a passive offerer leaves no one to start. */
    if (setup && strcmp(setup, "passive") == 0)
        return whip_sdp_fail(o, -EBADMSG, "offer has a=setup:passive; we only answer passive");
    snprintf(o->ufrag, sizeof(o->ufrag), "%s", ufrag);
    snprintf(o->pwd, sizeof(o->pwd), "%s", pwd);
    return 0;
}

static int whip_sdp_read(struct whip_sdp_offer *o, const struct sdp_session *sess)
{
    const struct sdp_media *tag = NULL;
    bool have_video = false, have_audio = false;
    o->bundle = sdp_session_rattr(sess, "group") != NULL;
    for (struct le *le = list_head(sdp_session_medial(sess, false)); le; le = le->next) {
        const struct sdp_media *m = le->data;
        if (o->n == WHIP_SDP_MAX_SECTIONS)
            return whip_sdp_fail(o, -E2BIG, "offer has more than 8 media sections");
        struct whip_sdp_section *s = &o->s[o->n++];
        const char *mid = sdp_media_rattr(m, "mid"), *proto = sdp_media_proto(m);
        if ((mid && strlen(mid) >= sizeof(s->mid)) || !proto || strlen(proto) >= sizeof(s->proto))
            return whip_sdp_fail(o, -EBADMSG, "a=mid or a protocol too long");
        snprintf(s->kind, sizeof(s->kind), "%s", sdp_media_name(m) ? sdp_media_name(m) : "");
        snprintf(s->mid, sizeof(s->mid), "%s", mid ? mid : "");
        snprintf(s->proto, sizeof(s->proto), "%s", proto);
        bool *have = strcmp(s->kind, "video") == 0   ? &have_video
                     : strcmp(s->kind, "audio") == 0 ? &have_audio
                                                     : NULL;
        /* The publisher must send (libre mirrors directions: RECVONLY is ours). */
        if (!have || *have || !sdp_media_rport(m) || !(sdp_media_rdir(m) & SDP_RECVONLY) ||
            strncmp(proto, "UDP/TLS/RTP/SAVP", 16) != 0 || !whip_sdp_pick(m, s))
            continue;
        bool video = s->t.codec == RING_CODEC_H264 || s->t.codec == RING_CODEC_H265;
        if (video != (have == &have_video))
            continue; /* audio codecs in a video section, or the reverse */
        s->accepted = *have = true;
        if (!tag)
            tag = m;
    }
    if (o->n == 0)
        return whip_sdp_fail(o, -EBADMSG, "offer has no media section");
    if (!tag)
        return whip_sdp_fail(o, -ENOMEDIUM,
                             "no sendonly section with H264, H265, opus, PCMU or PCMA "
                             "(UDP/TLS/RTP/SAVPF)");
    return whip_sdp_transport(o, sess, tag);
}

int whip_sdp_parse(struct whip_sdp_offer *o, const uint8_t *p, size_t len)
{
    memset(o, 0, sizeof(*o));
    if (memchr(p, '\0', len))
        return whip_sdp_fail(o, -EBADMSG, "unparsable SDP offer (a NUL byte)");
    struct sdp_session *sess = NULL;
    struct mbuf *mb = mbuf_alloc(len + 2);
    struct sa laddr;
    sa_init(&laddr, AF_INET);
    int err = mb && !sdp_session_alloc(&sess, &laddr) ? 0 : -ENOMEM;
    /* libre wants a final line break (libre notes 2). */
    if (!err && (mbuf_write_mem(mb, p, len) ||
                 ((len == 0 || p[len - 1] != '\n') && mbuf_write_str(mb, "\r\n"))))
        err = -ENOMEM;
    if (err) {
        whip_sdp_fail(o, err, "out of memory");
    } else {
        mb->pos = 0;
        err = sdp_decode(sess, mb, true) ? whip_sdp_fail(o, -EBADMSG, "unparsable SDP offer")
                                         : whip_sdp_read(o, sess);
    }
    mem_deref(mb);
    mem_deref(sess);
    return err;
}

/* ---- the answer ---- */

struct whip_sdp_out {
    char *p;
    size_t cap, len;
    bool full;
};

static void __attribute__((format(printf, 2, 3)))
whip_sdp_put(struct whip_sdp_out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = o->full ? -1 : vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= o->cap - o->len)
        o->full = true;
    else
        o->len += (size_t)n;
}

static void whip_sdp_transport_attrs(struct whip_sdp_out *w, const struct whip_sdp_local *l)
{
    /* In rejected sections too: aiortc refuses an answer with a section lacking them. */
    whip_sdp_put(w, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=setup:passive\r\na=rtcp-mux\r\n", l->ufrag,
                 l->pwd);
}

static void whip_sdp_section(struct whip_sdp_out *w, const struct whip_sdp_section *s,
                             const struct whip_sdp_local *l)
{
    if (!s->accepted) {
        whip_sdp_put(w, "m=%s 0 %s %d\r\nc=IN IP4 0.0.0.0\r\n", s->kind, s->proto,
                     s->first_pt < 0 ? 0 : s->first_pt);
        if (s->mid[0])
            whip_sdp_put(w, "a=mid:%s\r\n", s->mid);
        whip_sdp_put(w, "a=inactive\r\n");
        whip_sdp_transport_attrs(w, l);
        return;
    }
    const struct rtsp_sdp_track *t = &s->t;
    bool video = t->codec == RING_CODEC_H264 || t->codec == RING_CODEC_H265;
    whip_sdp_put(w, "m=%s %u %s %d\r\nc=IN IP4 0.0.0.0\r\n", s->kind, l->port, s->proto, t->pt);
    if (s->mid[0])
        whip_sdp_put(w, "a=mid:%s\r\n", s->mid);
    whip_sdp_put(w, "a=recvonly\r\n");
    whip_sdp_transport_attrs(w, l);
    if (t->channels > 1)
        whip_sdp_put(w, "a=rtpmap:%d %s/%u/%u\r\n", t->pt, t->encoding, t->clock_rate, t->channels);
    else
        whip_sdp_put(w, "a=rtpmap:%d %s/%u\r\n", t->pt, t->encoding, t->clock_rate);
    if (t->fmtp[0])
        whip_sdp_put(w, "a=fmtp:%d %s\r\n", t->pt, t->fmtp);
    /* RFC 4585: we ask for lost packets again (NACK) and for a keyframe (PLI). */
    if (video)
        whip_sdp_put(w, "a=rtcp-fb:%d nack\r\na=rtcp-fb:%d nack pli\r\n", t->pt, t->pt);
    for (size_t c = 0; c < l->n_candidates; c++)
        whip_sdp_put(w, "a=candidate:%zu 1 udp %u %s %u typ host\r\n", c + 1,
                     (126u << 24) | ((65535u - (unsigned)c) << 8) | 255u, l->candidates[c],
                     l->port);
    whip_sdp_put(w, "a=end-of-candidates\r\n");
}

int whip_sdp_answer(char *out, size_t cap, const struct whip_sdp_offer *o,
                    const struct whip_sdp_local *l)
{
    struct whip_sdp_out w = {.p = out, .cap = cap};
    whip_sdp_put(&w, "v=0\r\no=- %llu 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=ice-lite\r\n",
                 (unsigned long long)l->session_id);
    whip_sdp_put(&w, "a=fingerprint:%s\r\n", l->fingerprint);
    if (o->bundle) {
        whip_sdp_put(&w, "a=group:BUNDLE");
        for (unsigned i = 0; i < o->n; i++)
            if (o->s[i].accepted && o->s[i].mid[0])
                whip_sdp_put(&w, " %s", o->s[i].mid);
        whip_sdp_put(&w, "\r\n");
    }
    for (unsigned i = 0; i < o->n; i++)
        whip_sdp_section(&w, &o->s[i], l);
    if (w.full || cap == 0)
        return -ENOSPC;
    return (int)w.len;
}
