/* SPDX-License-Identifier: MIT */
/* rtcp.h: RTCP for the egress: parsing a viewer's compound packets in place (SR/RR report
 * blocks, generic NACK, PLI, FIR; RFC 3550, RFC 4585, RFC 5104) and building our sender
 * reports with SDES CNAME (RFC 3550 6.4.1, 6.5.1); neither allocates. */
#ifndef RINGCAST_EGRESS_RTCP_H
#define RINGCAST_EGRESS_RTCP_H

#include <stddef.h>
#include <stdint.h>

/* One reception report block about one of our SSRCs. */
struct ertcp_rr {
    uint32_t ssrc;     /* the source reported on (ours) */
    uint8_t fraction;  /* fraction lost since the last report, /256 */
    int32_t lost;      /* cumulative packets lost (24-bit signed) */
    uint32_t last_seq; /* extended highest sequence number received */
    uint32_t jitter;   /* interarrival jitter, timestamp units */
    uint32_t lsr;      /* middle 32 bits of the NTP time of our last SR, 0 = none */
    uint32_t dlsr;     /* delay since that SR, 1/65536 s */
};

/* What the parser found; every callback may be NULL. media_ssrc is the sender's SSRC the
 * feedback is about (for FIR: the first FCI entry's SSRC, RFC 5104 4.3.1.1). */
struct ertcp_handler {
    void (*rr)(void *arg, const struct ertcp_rr *rr);
    /* RFC 4585 6.2.1: pid lost, and bit i of blp flags pid + 1 + i as lost too. */
    void (*nack)(void *arg, uint32_t media_ssrc, uint16_t pid, uint16_t blp);
    void (*pli)(void *arg, uint32_t media_ssrc);
    void (*fir)(void *arg, uint32_t media_ssrc);
};

/* Walks the compound packet p[0..len) packet by packet, each positioned by its own length
 * field, and calls h for what it recognises: report blocks of SR and RR (RFC 3550 6.4), every
 * FCI entry of a generic NACK (RFC 4585 6.2.1), PLI (6.3.1) and FIR (RFC 5104 4.3.1, the first
 * entry). Other packet types, and recognised ones too short for what they claim (a report
 * count beyond the length, feedback under 12 bytes, FIR without an entry), are stepped over.
 * Returns the number of packets walked, or -EBADMSG when the first header is malformed (bad
 * version, or a length beyond len); a later malformed header ends the walk after what came
 * before has been reported. Reads only p[0..len), keeps nothing, never allocates. */
int ertcp_parse(const uint8_t *p, size_t len, const struct ertcp_handler *h, void *arg);

/* One sender report's contents. */
struct ertcp_sr {
    uint32_t ssrc;
    uint32_t rtp_ts; /* RTP time corresponding to the NTP time */
    uint32_t psent;
    uint32_t osent;
};

/* NTP time (RFC 5905) now: seconds since 1900 and a 32-bit fraction. */
void ertcp_ntp_now(uint32_t *sec, uint32_t *frac);
/* The middle 32 bits of an NTP time, as LSR carries it. */
static inline uint32_t ertcp_ntp_mid(uint32_t sec, uint32_t frac)
{
    return (sec << 16) | (frac >> 16);
}

/* Writes one compound: an SR without report blocks per entry of srs (n >= 1), then one
 * SDES with a CNAME chunk per SSRC. Returns its length, or -ENOSPC. */
int ertcp_build_sr(uint8_t *out, size_t cap, const struct ertcp_sr *srs, unsigned n,
                   uint32_t ntp_sec, uint32_t ntp_frac, const char *cname);

/* Round-trip time in microseconds from a report block received at NTP middle time now_mid
 * (RFC 3550 6.4.1: now - LSR - DLSR); 0 when the block carries no LSR. */
uint32_t ertcp_rtt_us(const struct ertcp_rr *rr, uint32_t now_mid);

#endif
