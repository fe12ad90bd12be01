/* SPDX-License-Identifier: MIT */
/* rtsp_sdp.h: the ingest side of SDP: what a DESCRIBE answer offers, as a list of tracks (codec,
 * payload type, clock, fmtp) with their control URLs resolved against the content base (RFC 2326
 * C.1.1). */
#ifndef RINGCAST_RTSP_SDP_H
#define RINGCAST_RTSP_SDP_H

#include <stddef.h>
#include <stdint.h>

#include "ingest/ingest.h"
#include "rtsp/msg.h"

#define RTSP_SDP_MAX_MEDIA 8
#define RTSP_SDP_MAX_LEN   RTSP_BODY_MAX

struct rtsp_sdp_track {
    char media[16]; /* "video", "audio", ... */
    uint32_t codec; /* enum ring_codec; RING_CODEC_NONE when unsupported */
    int pt;         /* payload type of the chosen format */
    uint32_t clock_rate;
    uint32_t channels;
    char encoding[32]; /* rtpmap encoding name, for log lines */
    char fmtp[1024];
    char control[RTSP_URL_MAX]; /* absolute URL for SETUP */
};

struct rtsp_sdp {
    char control[RTSP_URL_MAX]; /* aggregate control URL, for PLAY */
    unsigned n;                 /* media sections, supported or not, in SDP order */
    struct rtsp_sdp_track t[RTSP_SDP_MAX_MEDIA];
};

/* Decodes the SDP p[0..len) and resolves each media's control against base (the response's
 * Content-Base, else Content-Location, else the request URL). In each media section the
 * first format with a supported codec (H264, H265, opus, PCMU, PCMA, static PT 0 and 8
 * included) is chosen. Returns 0, -EBADMSG for a line that is no "<type>=<value>" or a
 * bad m= line, -EMSGSIZE past
 * RTSP_SDP_MAX_LEN, -ENAMETOOLONG for an unusable control URL, -ENOMEM. Sections past
 * RTSP_SDP_MAX_MEDIA are ignored. */
int rtsp_sdp_parse(struct rtsp_sdp *out, const uint8_t *p, size_t len, const char *base);

/* Maps a format's rtpmap encoding name (NULL or "" without rtpmap: a static payload type,
 * RFC 3551 6), clock rate and channels to a ring codec (RING_CODEC_NONE when unsupported);
 * fills t's clock, channels and encoding (the static types' too). Shared with the WHIP offer
 * (ingest/whip_sdp.c). */
uint32_t rtsp_sdp_codec_of(const char *name, int pt, uint32_t srate, uint32_t ch,
                           struct rtsp_sdp_track *t);

/* Declares t as the ingest's next track (ingest_add_track with its codec, clock, channels and
 * fmtp). Returns the ring track index or -errno, as ingest_add_track. The RTSP pull calls it
 * at PLAY, a publisher's session at RECORD. */
int rtsp_sdp_declare(struct ingest *ing, const struct rtsp_sdp_track *t);

#endif
