/* SPDX-License-Identifier: MIT */
/* describe.h: the SDP (RFC 4566) a server answers DESCRIBE with, built from a ring's track
 * table: one m= section per track with its rtpmap, fmtp (parameter sets as sprop-*, RFC 6184
 * 8.1, RFC 7798 7.1) and a=control:trackID=N (N the ring track index). Pure: no I/O. */
#ifndef RINGCAST_RTSP_DESCRIBE_H
#define RINGCAST_RTSP_DESCRIBE_H

#include <stddef.h>
#include <stdint.h>

#define RTSP_SDP_MAX 8192 /* an SDP of four tracks with 1 KiB of parameter sets each, base64 */

struct rtsp_sdp_track {
    uint8_t index;  /* ring track index: a=control:trackID=<index> */
    uint32_t codec; /* enum ring_codec */
    uint32_t clock_rate;
    uint32_t channels;
    const uint8_t *params; /* Annex-B parameter sets (SPS/PPS, VPS/SPS/PPS), may be NULL */
    size_t params_len;
};

/* The payload type track t is sent with: 0 (PCMU) and 8 (PCMA) at 8000 Hz mono (RFC 3551),
 * else 96 + its index. */
uint8_t rtsp_sdp_pt(const struct rtsp_sdp_track *t);

/* Writes the session description of tracks t[0..n) for path name into out: origin address
 * addr (IPv4 or IPv6 literal), session id sid. Returns the length, -EINVAL for a track of
 * no codec we send, or -ENOSPC. */
int rtsp_sdp_build(char *out, size_t cap, const char *name, const char *addr, uint64_t sid,
                   const struct rtsp_sdp_track *t, unsigned n);

#endif
