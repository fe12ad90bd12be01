/* SPDX-License-Identifier: MIT */
/* sdp_answer.c: offer -> answer. libre's SDP decoder reads the offer into a scratch session
 * (sections, formats, attributes); the answer, one chosen format per section, is written by
 * rtc/sdpout, the writer the WHIP answer uses too. */
#include "egress/sdp_answer.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <re.h>

#include "rtc/sdpout.h"

#define ANSWER_PLAYOUT_DELAY_URI "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay"
#define ANSWER_SDES_MID_URI      "urn:ietf:params:rtp-hdrext:sdes:mid"

/* One m-section of the offer and what we answer in it. */
struct answer_section {
    struct sdp_media *rm; /* in the scratch session */
    char mid[MEDIA_MID_MAX];
    int track;                    /* ring track sent in it, -1 = rejected */
    const struct sdp_format *fmt; /* chosen offered format */
    uint8_t playout_delay_id, mid_id;
    bool nack, pli, in_bundle;
};

struct answer_job {
    const struct media_track_info *tracks;
    size_t n_tracks;
    const struct answer_local *local;
    struct answer_result *out;
    struct sdp_session *scratch;
    struct answer_section sec[ANSWER_MAX_SECTIONS];
    size_t n_sec;
    char bundle[256]; /* "BUNDLE 0 1" as offered, "" if none */
};

static int answer_fail(struct answer_result *out, int err, const char *fmt, const char *arg)
{
    snprintf(out->reason, sizeof(out->reason), fmt, arg);
    return err;
}

static size_t answer_count_sections(const uint8_t *p, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i + 1 < len; i++)
        if ((i == 0 || p[i - 1] == '\n') && p[i] == 'm' && p[i + 1] == '=')
            n++;
    return n;
}

/* RFC 8843 7.2 (JSEP 5.2.1): an offerer may mark bundled sections "a=bundle-only" with port
 * 0, meaning "accept only within the BUNDLE group". libre rejects every port-0 section, so
 * such a section gets the discard port 9 before decoding (libre notes 2, SDP traps); "0" and
 * "9" have the same length, so the text is rewritten in place. A port-0 section without
 * bundle-only stays rejected, as the offerer asked. */
static void answer_open_bundle_only(uint8_t *p, size_t len)
{
    uint8_t *port0 = NULL; /* the "0" of the current section's m= line */
    for (size_t i = 0; i < len;) {
        const uint8_t *nl = memchr(p + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - p) : len;
        size_t n = end - i;
        if (n && p[end - 1] == '\r')
            n--;
        uint8_t *l = p + i;
        if (n >= 2 && l[0] == 'm' && l[1] == '=') {
            /* "m=<media> <port>[/<count>] <proto> ..." (RFC 8866 5.14) */
            const uint8_t *sp = memchr(l, ' ', n);
            size_t k = sp ? (size_t)(sp - l) : n;
            port0 = k + 2 < n && l[k + 1] == '0' && (l[k + 2] == ' ' || l[k + 2] == '/') ? l + k + 1
                                                                                         : NULL;
        } else if (port0 && n == 13 && memcmp(l, "a=bundle-only", 13) == 0) {
            *port0 = '9';
            port0 = NULL;
        }
        i = end + 1;
    }
}

/* ---- format choice ---- */

/* The value of key in an fmtp string ("a=1;key=value;..."), copied into out. */
static bool answer_fmtp_get(const char *params, const char *key, char *out, size_t size)
{
    size_t kl = strlen(key);
    for (const char *s = params; s && *s;) {
        while (*s == ' ' || *s == ';')
            s++;
        const char *end = strchr(s, ';');
        size_t l = end ? (size_t)(end - s) : strlen(s);
        if (l > kl && strncasecmp(s, key, kl) == 0 && s[kl] == '=') {
            size_t vl = l - kl - 1;
            if (vl >= size)
                return false;
            memcpy(out, s + kl + 1, vl);
            out[vl] = '\0';
            return true;
        }
        s = end;
    }
    return false;
}

/* How well an offered H.264 format fits our stream (RFC 6184 8.1): 3 same profile and
 * constraints, 2 same profile, 1 a superset profile decodes our constrained baseline,
 * 0 unusable. packetization-mode=1 is required: we send FU-A and STAP-A. */
static int answer_h264_score(const struct sdp_format *f, const char *ours)
{
    char pm[8] = "0", plid[8] = "420010";
    if (!f->params || !answer_fmtp_get(f->params, "packetization-mode", pm, sizeof(pm)) ||
        strcmp(pm, "1") != 0)
        return 0;
    answer_fmtp_get(f->params, "profile-level-id", plid, sizeof(plid));
    if (strlen(plid) != 6)
        return 0;
    if (ours[0] == '\0')
        return 1; /* no SPS yet: any packetization-mode=1 format */
    if (strncasecmp(plid, ours, 4) == 0)
        return 3;
    if (strncasecmp(plid, ours, 2) == 0)
        return 2;
    unsigned long our_iop = strtoul((char[]){ours[2], ours[3], 0}, NULL, 16);
    bool constrained_baseline = strncasecmp(ours, "42", 2) == 0 && (our_iop & 0x40);
    bool main_or_high = strncasecmp(plid, "4d", 2) == 0 || strncasecmp(plid, "64", 2) == 0;
    return constrained_baseline && main_or_high ? 1 : 0;
}

static bool answer_name_is(const struct sdp_format *f, const char *name, uint32_t srate)
{
    return f->name && strcasecmp(f->name, name) == 0 && f->srate == srate;
}

/* The best offered format of m for track t, or NULL. */
static const struct sdp_format *answer_pick_format(struct sdp_media *rm,
                                                   const struct media_track_info *t)
{
    const struct sdp_format *best = NULL;
    int best_score = 0;
    for (struct le *le = list_head(sdp_media_format_lst(rm, false)); le; le = le->next) {
        const struct sdp_format *f = le->data;
        int score = 0;
        switch (t->codec) {
        case RING_CODEC_H264:
            score =
                answer_name_is(f, "H264", 90000) ? answer_h264_score(f, t->profile_level_id) : 0;
            break;
        case RING_CODEC_H265:
            score = answer_name_is(f, "H265", 90000);
            break;
        case RING_CODEC_OPUS:
            score = answer_name_is(f, "opus", 48000) && f->ch == 2;
            break;
        case RING_CODEC_PCMU:
            score = f->pt == 0 || answer_name_is(f, "PCMU", 8000);
            break;
        case RING_CODEC_PCMA:
            score = f->pt == 8 || answer_name_is(f, "PCMA", 8000);
            break;
        }
        if (score > best_score) {
            best = f;
            best_score = score;
        }
    }
    return best;
}

static bool answer_track_is_video(const struct media_track_info *t)
{
    return t->codec == RING_CODEC_H264 || t->codec == RING_CODEC_H265;
}

/* ---- reading the offer ---- */

static bool answer_rtcp_fb(const char *name, const char *value, void *arg)
{
    (void)name;
    struct answer_section *s = arg;
    char pt[8];
    const char *sp = strchr(value, ' ');
    if (!sp || (size_t)(sp - value) >= sizeof(pt))
        return false;
    memcpy(pt, value, (size_t)(sp - value));
    pt[sp - value] = '\0';
    if (strcmp(pt, "*") != 0 && strcmp(pt, s->fmt->id) != 0)
        return false;
    if (strcmp(sp + 1, "nack") == 0)
        s->nack = true;
    else if (strcmp(sp + 1, "nack pli") == 0)
        s->pli = true;
    return false;
}

static bool answer_extmap(const char *name, const char *value, void *arg)
{
    (void)name;
    struct answer_section *s = arg;
    struct sdp_extmap ext;
    if (sdp_extmap_decode(&ext, value) != 0 || ext.id < 1 || ext.id > 14)
        return false; /* one-byte header ids only (RFC 8285 4.2) */
    if (pl_strcmp(&ext.name, ANSWER_PLAYOUT_DELAY_URI) == 0)
        s->playout_delay_id = (uint8_t)ext.id;
    else if (pl_strcmp(&ext.name, ANSWER_SDES_MID_URI) == 0)
        s->mid_id = (uint8_t)ext.id;
    return false;
}

static bool answer_group(const char *name, const char *value, void *arg)
{
    (void)name;
    struct answer_job *j = arg;
    if (strncmp(value, "BUNDLE", 6) != 0 || (value[6] != ' ' && value[6] != '\0'))
        return false;
    snprintf(j->bundle, sizeof(j->bundle), "%s", value);
    return true;
}

static bool answer_mid_in_bundle(const struct answer_job *j, const char *mid)
{
    size_t ml = strlen(mid);
    for (const char *s = strchr(j->bundle, ' '); s && ml; s = strchr(s + 1, ' '))
        if (strncmp(s + 1, mid, ml) == 0 && (s[1 + ml] == ' ' || s[1 + ml] == '\0'))
            return true;
    return false;
}

/* Assigns each path track to the first offered section of its kind that can carry it. */
static void answer_assign(struct answer_job *j)
{
    bool used[MEDIA_MAX_TRACKS] = {0};
    for (size_t i = 0; i < j->n_sec; i++)
        j->sec[i].track = -1; /* the loop may stop early */
    for (size_t i = 0; i < j->n_sec; i++) {
        struct answer_section *s = &j->sec[i];
        const char *kind = sdp_media_name(s->rm);
        const char *proto = sdp_media_proto(s->rm);
        /* The peer must be willing to receive (libre mirrors directions: SENDONLY here). */
        if (!sdp_media_rport(s->rm) || !(sdp_media_rdir(s->rm) & SDP_SENDONLY) || !proto ||
            strncmp(proto, "UDP/TLS/RTP/SAVP", 16) != 0 || (j->bundle[0] && !s->in_bundle))
            continue;
        for (size_t t = 0; t < j->n_tracks && t < MEDIA_MAX_TRACKS; t++) {
            const struct media_track_info *ti = &j->tracks[t];
            bool video = answer_track_is_video(ti);
            if (used[t] || strcmp(kind, video ? "video" : "audio") != 0)
                continue;
            const struct sdp_format *f = answer_pick_format(s->rm, ti);
            if (!f)
                continue;
            used[t] = true;
            s->track = (int)t;
            s->fmt = f;
            sdp_media_rattr_apply(s->rm, "rtcp-fb", answer_rtcp_fb, s);
            sdp_media_rattr_apply(s->rm, "extmap", answer_extmap, s);
            break;
        }
        /* Without BUNDLE everything goes over one transport: answer one section only. */
        if (s->track >= 0 && !j->bundle[0])
            break;
    }
}

static int answer_read_offer(struct answer_job *j)
{
    sdp_session_rattr_apply(j->scratch, "group", answer_group, j);
    for (struct le *le = list_head(sdp_session_medial(j->scratch, false)); le; le = le->next) {
        if (j->n_sec == ANSWER_MAX_SECTIONS)
            return answer_fail(j->out, -E2BIG, "offer has more than %s media sections", "16");
        struct answer_section *s = &j->sec[j->n_sec++];
        s->rm = le->data;
        const char *mid = sdp_media_rattr(s->rm, "mid");
        if (mid && strlen(mid) >= sizeof(s->mid))
            return answer_fail(j->out, -EBADMSG, "a=mid longer than %s characters", "15");
        snprintf(s->mid, sizeof(s->mid), "%s", mid ? mid : "");
        s->in_bundle = mid && answer_mid_in_bundle(j, s->mid);
    }
    if (j->n_sec == 0)
        return answer_fail(j->out, -EBADMSG, "offer has no media section%s", "");
    answer_assign(j);
    for (size_t i = 0; i < j->n_sec; i++)
        if (j->sec[i].track >= 0)
            return 0;
    bool path_video = false, offer_video = false;
    for (size_t t = 0; t < j->n_tracks; t++)
        path_video |= answer_track_is_video(&j->tracks[t]);
    for (size_t i = 0; i < j->n_sec; i++)
        offer_video |= strcmp(sdp_media_name(j->sec[i].rm), "video") == 0;
    if (path_video && !offer_video)
        return answer_fail(j->out, -ENOMEDIUM, "offer has no video section%s", "");
    return answer_fail(j->out, -ENOMEDIUM,
                       "no offered section can receive this path's codecs (sendonly answer, "
                       "UDP/TLS/RTP/SAVPF%s)",
                       j->bundle[0] ? ", BUNDLE" : "");
}

/* What the a=fingerprint lines of one level gave. */
struct answer_fp_scan {
    struct dtlsrv_fingerprints *set;
    size_t lines;
};

static bool answer_fp_line(const char *name, const char *value, void *arg)
{
    (void)name;
    struct answer_fp_scan *scan = arg;
    struct dtlsrv_fingerprints *set = scan->set;
    scan->lines++;
    if (set->n < DTLSRV_FP_SET_MAX && dtlsrv_fingerprint_parse(value, &set->fp[set->n]) == 0)
        set->n++;
    return false; /* all lines */
}

/* RFC 8122 5: the section's own a=fingerprint lines, else the session's (a media-level
 * attribute overrides the session level). Any of several may match the certificate (one
 * per hash or per certificate); lines with another hash (md5, sha-1) or malformed ones are
 * skipped, and up to DTLSRV_FP_SET_MAX usable ones kept. */
static int answer_fingerprints(struct answer_job *j, const struct sdp_media *rm)
{
    struct dtlsrv_fingerprints *set = &j->out->fingerprints;
    struct answer_fp_scan scan = {.set = set};
    memset(set, 0, sizeof(*set));
    (void)sdp_media_rattr_apply(rm, "fingerprint", answer_fp_line, &scan);
    if (scan.lines == 0)
        (void)sdp_session_rattr_apply(j->scratch, "fingerprint", answer_fp_line, &scan);
    if (scan.lines == 0)
        return answer_fail(j->out, -EBADMSG, "offer has no a=fingerprint%s", "");
    if (set->n == 0)
        return answer_fail(j->out, -EBADMSG,
                           "offer has no usable a=fingerprint (sha-256, sha-384 or sha-512 with "
                           "a digest of its length)%s",
                           "");
    return 0;
}

/* ICE credentials and fingerprint of the BUNDLE-tagged section (RFC 8843 7.3.1: the first
 * mid of the group), else of the first answered section; session level as a fallback. */
static int answer_transport(struct answer_job *j)
{
    const struct answer_section *tag = NULL;
    if (j->bundle[0]) {
        const char *first = strchr(j->bundle, ' ');
        for (size_t i = 0; first && i < j->n_sec && !tag; i++) {
            size_t ml = strlen(j->sec[i].mid);
            if (ml && strncmp(first + 1, j->sec[i].mid, ml) == 0 &&
                (first[1 + ml] == ' ' || first[1 + ml] == '\0'))
                tag = &j->sec[i];
        }
    }
    for (size_t i = 0; i < j->n_sec && !tag; i++)
        if (j->sec[i].track >= 0)
            tag = &j->sec[i];
    if (!tag)
        return answer_fail(j->out, -ENOMEDIUM, "no offered section has a codec of this path%s", "");
    const char *ufrag = sdp_media_session_rattr(tag->rm, j->scratch, "ice-ufrag");
    const char *pwd = sdp_media_session_rattr(tag->rm, j->scratch, "ice-pwd");
    const char *setup = sdp_media_session_rattr(tag->rm, j->scratch, "setup");
    struct answer_result *out = j->out;
    if (!ufrag || !pwd || !*ufrag || strlen(ufrag) >= sizeof(out->remote_ufrag) ||
        strlen(pwd) < 22 || strlen(pwd) >= sizeof(out->remote_pwd))
        return answer_fail(out, -EBADMSG, "offer lacks valid a=ice-ufrag/a=ice-pwd%s", "");
    int err = answer_fingerprints(j, tag->rm);
    if (err < 0)
        return err;
    /* We are always the DTLS server (a=setup:passive); a passive offerer leaves no one to
     * start the handshake (RFC 5763 5). */
    if (setup && strcmp(setup, "passive") == 0)
        return answer_fail(out, -ENOTSUP, "offer has a=setup:passive; we only answer passive%s",
                           "");
    snprintf(out->remote_ufrag, sizeof(out->remote_ufrag), "%s", ufrag);
    snprintf(out->remote_pwd, sizeof(out->remote_pwd), "%s", pwd);
    return 0;
}

/* ---- writing the answer ---- */

#define ANSWER_SDP_MAX 16384 /* two answered sections of 16 candidates each, 14 rejected */

static void answer_our_fmtp(const struct media_track_info *t, const struct sdp_format *f, char *buf,
                            size_t size)
{
    buf[0] = '\0';
    if (t->codec == RING_CODEC_H264)
        snprintf(buf, size, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=%s",
                 t->profile_level_id[0] ? t->profile_level_id : "42e01f");
    else if (t->codec == RING_CODEC_OPUS)
        snprintf(buf, size, "minptime=10;useinbandfec=1%s",
                 f->params && strstr(f->params, "stereo=1") ? ";stereo=1" : "");
}

/* Settles what the section's track is sent with (answer_result.tracks) and writes the
 * section: the shared lines (rtc/sdpout), then ours: header extensions, msid, ssrc. */
static void answer_section(struct answer_job *j, const struct answer_section *s,
                           const struct sdpout_transport *t, struct sdpout *o)
{
    const struct sdp_format *any = list_ledata(list_head(sdp_media_format_lst(s->rm, false)));
    struct sdpout_media m = {.kind = sdp_media_name(s->rm),
                             .proto = sdp_media_proto(s->rm) ? sdp_media_proto(s->rm) : "RTP/AVP",
                             .mid = s->mid,
                             .rejected = s->track < 0,
                             .pt = any ? any->pt : 0,
                             .dir = "sendonly"};
    if (s->track < 0) {
        /* Port 0 and inactive, echoing the first offered format; the a=mid stays, as a
         * rejected BUNDLE section needs. */
        sdpout_media(o, &m, t);
        return;
    }
    const struct answer_local *l = j->local;
    const struct media_track_info *ti = &j->tracks[s->track];
    const struct sdp_format *f = s->fmt;
    const bool video = answer_track_is_video(ti);
    unsigned ri = ti->index < MEDIA_MAX_TRACKS ? ti->index : 0; /* ring track index */
    struct media_track_params *tp = &j->out->tracks[ri];
    tp->flags =
        MEDIA_TRACK_SEND | (s->nack ? MEDIA_TRACK_NACK : 0) | (s->pli ? MEDIA_TRACK_PLI : 0);
    tp->pt = (uint8_t)f->pt;
    tp->playout_delay_id = s->playout_delay_id;
    tp->mid_id = s->mid_id;
    snprintf(tp->mid, sizeof(tp->mid), "%s", s->mid);
    char fmtp[160];
    answer_our_fmtp(ti, f, fmtp, sizeof(fmtp));
    m.pt = f->pt;
    /* A static payload type may come without a=rtpmap (RFC 3551 6). */
    m.encoding = f->name ? f->name : ti->codec == RING_CODEC_PCMU ? "PCMU" : "PCMA";
    m.clock_rate = f->srate ? f->srate : 8000;
    m.channels = video ? 1 : f->ch;
    m.fmtp = fmtp;
    m.nack = s->nack;
    m.pli = s->pli;
    sdpout_media(o, &m, t);
    if (s->mid_id)
        sdpout_put(o, "a=extmap:%u %s\r\n", s->mid_id, ANSWER_SDES_MID_URI);
    if (s->playout_delay_id)
        sdpout_put(o, "a=extmap:%u %s\r\n", s->playout_delay_id, ANSWER_PLAYOUT_DELAY_URI);
    sdpout_put(o, "a=msid:ringcast ringcast-%s\r\n", video ? "video" : "audio");
    sdpout_put(o, "a=ssrc:%u cname:ringcast\r\n", l->ssrc[ri]);
    sdpout_candidates(o, t);
}

static int answer_encode(struct answer_job *j)
{
    const struct answer_local *l = j->local;
    const struct sdpout_transport t = {.ufrag = l->ufrag,
                                       .pwd = l->pwd,
                                       .fingerprint = l->fingerprint,
                                       .candidates = l->candidates,
                                       .n_candidates = l->n_candidates,
                                       .port = l->port,
                                       .tcp_port = l->tcp_port};
    char bundle[ANSWER_MAX_SECTIONS * MEDIA_MID_MAX + 1] = "";
    size_t bl = 0;
    for (size_t i = 0; i < j->n_sec; i++)
        if (j->sec[i].track >= 0)
            bl += (size_t)snprintf(bundle + bl, sizeof(bundle) - bl, " %s", j->sec[i].mid);
    char *sdp = malloc(ANSWER_SDP_MAX);
    if (!sdp)
        return -ENOMEM;
    struct sdpout o;
    sdpout_init(&o, sdp, ANSWER_SDP_MAX);
    /* The o= line's id only has to differ between sessions (RFC 8866 5.2): the viewer's
     * random SSRCs do. */
    sdpout_session(&o, (uint64_t)l->ssrc[0] << 32 | l->ssrc[MEDIA_MAX_TRACKS - 1], &t,
                   j->bundle[0] ? bundle : NULL);
    sdpout_put(&o, "a=msid-semantic: WMS ringcast\r\n");
    for (size_t i = 0; i < j->n_sec; i++)
        answer_section(j, &j->sec[i], &t, &o);
    int n = sdpout_end(&o);
    if (n < 0) {
        free(sdp);
        return answer_fail(j->out, -ENOMEM, "answer longer than %s bytes", "16384");
    }
    j->out->sdp = sdp;
    j->out->sdp_len = (size_t)n;
    return 0;
}

int answer_build(const uint8_t *offer, size_t len, const struct media_track_info *tracks, size_t n,
                 const struct answer_local *local, struct answer_result *out)
{
    memset(out, 0, sizeof(*out));
    size_t n_sections = answer_count_sections(offer, len);
    if (n_sections > ANSWER_MAX_SECTIONS) {
        snprintf(out->reason, sizeof(out->reason),
                 "offer has %zu media sections (at most %d are accepted)", n_sections,
                 ANSWER_MAX_SECTIONS);
        return -E2BIG;
    }
    struct answer_job *j = calloc(1, sizeof(*j));
    struct mbuf *mb = mbuf_alloc(len + 2);
    int err = j && mb ? 0 : -ENOMEM;
    if (j) {
        j->tracks = tracks;
        j->n_tracks = n;
        j->local = local;
        j->out = out;
    }
    struct sa laddr; /* the scratch session's, never written */
    sa_init(&laddr, AF_INET);
    /* libre wants a final line break (libre notes 2). */
    if (!err && (mbuf_write_mem(mb, offer, len) ||
                 ((len == 0 || offer[len - 1] != '\n') && mbuf_write_str(mb, "\r\n"))))
        err = -ENOMEM;
    if (!err)
        answer_open_bundle_only(mb->buf, mb->end);
    if (!err && sdp_session_alloc(&j->scratch, &laddr))
        err = -ENOMEM;
    if (!err) {
        mb->pos = 0;
        if (sdp_decode(j->scratch, mb, true) != 0)
            err = answer_fail(out, -EBADMSG, "unparsable SDP offer%s", "");
    }
    if (!err)
        err = answer_read_offer(j);
    if (!err)
        err = answer_transport(j);
    if (!err)
        err = answer_encode(j);
    if (err == -ENOMEM && !out->reason[0])
        snprintf(out->reason, sizeof(out->reason), "out of memory");
    if (j)
        mem_deref(j->scratch);
    mem_deref(mb);
    free(j);
    if (err)
        answer_result_free(out);
    return err;
}

void answer_result_free(struct answer_result *out)
{
    free(out->sdp);
    out->sdp = NULL;
    out->sdp_len = 0;
}
