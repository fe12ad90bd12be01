/* SPDX-License-Identifier: MIT */
/* whip_sdp.c: the WHIP offer read with libre (a scratch session without local media decodes
 * it and exposes every remote section and format, notes/libre-1.1.md 2) and the answer
 * written by rtc/sdpout, the writer the WHEP answer uses too. */
#include "ingest/whip_sdp.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <re.h>

#include "rtc/sdpout.h"
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

int whip_sdp_answer(char *out, size_t cap, const struct whip_sdp_offer *o,
                    const struct whip_sdp_local *l)
{
    const char *cands[WHIP_SDP_MAX_CANDIDATES];
    size_t nc =
        l->n_candidates < WHIP_SDP_MAX_CANDIDATES ? l->n_candidates : WHIP_SDP_MAX_CANDIDATES;
    for (size_t c = 0; c < nc; c++)
        cands[c] = l->candidates[c];
    const struct sdpout_transport t = {.ufrag = l->ufrag,
                                       .pwd = l->pwd,
                                       .fingerprint = l->fingerprint,
                                       .candidates = cands,
                                       .n_candidates = nc,
                                       .port = l->port};
    char bundle[WHIP_SDP_MAX_SECTIONS * 17 + 1] = "";
    size_t bl = 0;
    for (unsigned i = 0; i < o->n; i++)
        if (o->s[i].accepted && o->s[i].mid[0])
            bl += (size_t)snprintf(bundle + bl, sizeof(bundle) - bl, " %s", o->s[i].mid);
    struct sdpout w;
    sdpout_init(&w, out, cap);
    sdpout_session(&w, l->session_id, &t, o->bundle ? bundle : NULL);
    for (unsigned i = 0; i < o->n; i++) {
        const struct whip_sdp_section *s = &o->s[i];
        const struct rtsp_sdp_track *tr = &s->t;
        bool video = tr->codec == RING_CODEC_H264 || tr->codec == RING_CODEC_H265;
        /* RFC 4585: we ask for lost video packets again (NACK) and for a keyframe (PLI). */
        const struct sdpout_media m = {.kind = s->kind,
                                       .proto = s->proto,
                                       .mid = s->mid,
                                       .rejected = !s->accepted,
                                       .pt = s->accepted ? tr->pt : s->first_pt,
                                       .dir = "recvonly",
                                       .encoding = tr->encoding,
                                       .clock_rate = tr->clock_rate,
                                       .channels = tr->channels,
                                       .fmtp = tr->fmtp,
                                       .nack = video,
                                       .pli = video};
        sdpout_media(&w, &m, &t);
        if (s->accepted)
            sdpout_candidates(&w, &t);
    }
    return sdpout_end(&w);
}
