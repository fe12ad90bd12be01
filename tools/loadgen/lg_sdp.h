/* SPDX-License-Identifier: MIT */
/* lg_sdp.h: the load generator's side of the WHEP offer/answer: builds a browser-like
 * recvonly H.264 offer and extracts from the answer what ICE and DTLS need. Pure code. */
#ifndef LG_SDP_H
#define LG_SDP_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#define LG_ICE_STR_MAX 257 /* RFC 8839 5.4: ufrag and pwd are at most 256 characters */
#define LG_FP_LEN      32  /* sha-256 */

struct lg_offer_params {
    const char *ice_ufrag;
    const char *ice_pwd;
    const char *fingerprint; /* "AB:CD:..." sha-256 of our certificate */
    const char *local_ip;    /* IPv4 literal of the viewer's socket */
    uint16_t local_port;
    uint64_t session_id;
    int tcp; /* ICE-TCP: an active TCP candidate (local_port 9, RFC 6544 4.5), not UDP */
};

enum lg_setup_role { LG_SETUP_NONE = 0, LG_SETUP_ACTIVE, LG_SETUP_PASSIVE, LG_SETUP_ACTPASS };

struct lg_answer {
    char ice_ufrag[LG_ICE_STR_MAX];
    char ice_pwd[LG_ICE_STR_MAX];
    uint8_t fingerprint[LG_FP_LEN];
    int has_fingerprint;
    enum lg_setup_role setup;
    int ice_lite;
    int video_port;          /* m=video port; 0 means the section was rejected */
    int h264_pt;             /* -1 if no H264 rtpmap */
    struct sockaddr_in cand; /* first IPv4 UDP host/srflx candidate, component 1 */
    int has_cand;
    struct sockaddr_in tcp_cand; /* first IPv4 passive TCP candidate, component 1 */
    int has_tcp_cand;
};

/* Writes the offer into out (NUL-terminated). Returns its length, or -ENOSPC. */
int lg_sdp_offer(const struct lg_offer_params *prm, char *out, size_t outlen);

/* Parses the answer at p[0..len). Returns 0 (out filled) or -EBADMSG when something the
 * viewer needs is missing or malformed (ICE credentials, sha-256 fingerprint, a video
 * section, an H.264 format, an IPv4 candidate or connection address). */
int lg_sdp_parse_answer(const uint8_t *p, size_t len, struct lg_answer *out);

/* "AB:CD:.." (32 hex pairs) -> 32 bytes. Returns 0 or -EINVAL. */
int lg_sdp_parse_fingerprint(const char *s, size_t len, uint8_t out[LG_FP_LEN]);

#endif
