/* SPDX-License-Identifier: MIT */
/* sdp_answer.h: WHEP offer -> answer (JSEP, RFC 8829) with libre's SDP codec: picks the
 * offer's formats for the path's tracks, takes the peer's ICE credentials and DTLS
 * fingerprints from the BUNDLE-tagged section (RFC 8843), and writes an ICE-lite, passive,
 * rtcp-mux, BUNDLE, sendonly answer with our host candidates. Prefix answer_. */
#ifndef RINGCAST_EGRESS_SDP_ANSWER_H
#define RINGCAST_EGRESS_SDP_ANSWER_H

#include <stddef.h>
#include <stdint.h>

#include "rtc/dtlsrv.h"
#include "rtc/icelite.h"
#include "egress/media.h"

#define ANSWER_MAX_SECTIONS   16 /* a WHEP offer has one or two; more is refused */
#define ANSWER_MAX_CANDIDATES 16

/* What we put in the answer. */
struct answer_local {
    const char *ufrag, *pwd;                       /* our ICE credentials */
    const char *fingerprint;                       /* "sha-256 AB:..." */
    const char *candidates[ANSWER_MAX_CANDIDATES]; /* IPv4 or IPv6 literals */
    size_t n_candidates;
    uint16_t port;                   /* this worker's UDP port */
    uint16_t tcp_port;               /* its ICE-TCP port (passive candidates), 0 = none */
    uint32_t ssrc[MEDIA_MAX_TRACKS]; /* per ring track, from media_viewer_init */
};

/* What the answer settled. */
struct answer_result {
    char *sdp; /* malloc'd answer text, NUL-terminated; free() it */
    size_t sdp_len;
    struct media_track_params tracks[MEDIA_MAX_TRACKS]; /* indexed by ring track index */
    char remote_ufrag[ICELITE_UFRAG_MAX];
    char remote_pwd[ICELITE_UFRAG_MAX];
    struct dtlsrv_fingerprints fingerprints; /* the peer's certificate: one must match */
    char reason[160]; /* why it failed, one line, for the HTTP body and the log */
};

/* Builds the answer to offer (len bytes, not NUL-terminated) for a path with n tracks.
 * Returns 0 with *out filled, or -errno with out->reason: -EBADMSG unparsable offer or
 * missing ICE credentials/fingerprint or none with sha-256/384/512 (400), -E2BIG too many
 * media sections (400),
 * -ENOTSUP setup:passive offer (400), -ENOMEDIUM no section with a common codec (406),
 * -ENOMEM. */
int answer_build(const uint8_t *offer, size_t len, const struct media_track_info *tracks, size_t n,
                 const struct answer_local *local, struct answer_result *out);

/* Frees out->sdp; tolerates a zeroed or failed result. */
void answer_result_free(struct answer_result *out);

#endif
