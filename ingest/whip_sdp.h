/* SPDX-License-Identifier: MIT */
/* whip_sdp.h: a WHIP publisher's offer (RFC 9725 4.2, JSEP) read with libre's SDP decoder
 * into what its session needs (one video and one audio section at most, the chosen format of
 * each, the ICE credentials and DTLS fingerprints of the BUNDLE transport), and the answer
 * written for it: ICE-lite, setup:passive, rtcp-mux, BUNDLE, recvonly, NACK and PLI feedback
 * on video, our host candidates on the one media port. */
#ifndef RINGCAST_WHIP_SDP_H
#define RINGCAST_WHIP_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ingest/rtsp_sdp.h"
#include "rtc/dtlsrv.h"
#include "rtc/hostcand.h"
#include "rtc/icelite.h"

#define WHIP_SDP_MAX_SECTIONS   8
#define WHIP_SDP_MAX_CANDIDATES 16

struct whip_sdp_section {
    char kind[16];  /* "video", "audio", ... */
    char mid[16];   /* "" without a=mid */
    char proto[32]; /* as offered, echoed in the answer */
    int first_pt;   /* the first offered format, echoed in a rejected section */
    bool accepted;  /* t holds the chosen format */
    struct rtsp_sdp_track t;
};

struct whip_sdp_offer {
    unsigned n;
    struct whip_sdp_section s[WHIP_SDP_MAX_SECTIONS];
    bool bundle; /* a=group:BUNDLE was offered: the answer groups the accepted sections */
    char ufrag[ICELITE_UFRAG_MAX];
    char pwd[ICELITE_UFRAG_MAX];
    struct dtlsrv_fingerprints fps;
    char reason[160]; /* why it was refused, one line */
};

/* Reads offer p[0..len). 0, or -errno with o->reason: -EBADMSG unparsable, no ICE
 * credentials, no usable fingerprint, a=setup:passive (400); -E2BIG more than
 * WHIP_SDP_MAX_SECTIONS sections (400); -ENOMEDIUM no sendonly/sendrecv section with H264,
 * H265, opus, PCMU or PCMA (406); -ENOMEM. Per kind the first section with a usable format
 * is accepted: H264 with packetization-mode=1 before H265 before other H264, opus before
 * PCMU before PCMA. */
int whip_sdp_parse(struct whip_sdp_offer *o, const uint8_t *p, size_t len);

struct whip_sdp_local {
    const char *ufrag, *pwd, *fingerprint;
    const char (*candidates)[HOSTCAND_ADDR_MAX];
    size_t n_candidates;
    uint16_t port;
    uint64_t session_id; /* o= line */
};

/* Writes the answer to o into out (cap bytes, NUL-terminated). Its length, or -ENOSPC. */
int whip_sdp_answer(char *out, size_t cap, const struct whip_sdp_offer *o,
                    const struct whip_sdp_local *l);

#endif
