/* SPDX-License-Identifier: MIT */
/* rtcp.h: the one RTCP codec of ingest, egress and the load generator (RFC 3550, RFC 4585,
 * RFC 5104): compound packets read in place through callbacks (SR, report blocks, generic
 * NACK, PLI, FIR), and SR, RR, SDES CNAME, generic NACK and PLI written into the caller's
 * buffer. Nothing here allocates or keeps state; NTP time and RTT helpers for reports. */
#ifndef RINGCAST_CODEC_RTCP_H
#define RINGCAST_CODEC_RTCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Packet types (RFC 3550 12.1, RFC 4585 6.1) and feedback formats (the count field). */
enum codec_rtcp_pt {
    CODEC_RTCP_SR = 200,
    CODEC_RTCP_RR = 201,
    CODEC_RTCP_SDES = 202,
    CODEC_RTCP_RTPFB = 205,
    CODEC_RTCP_PSFB = 206,
};
enum codec_rtcp_fmt {
    CODEC_RTCP_RTPFB_NACK = 1, /* RFC 4585 6.2.1 */
    CODEC_RTCP_PSFB_PLI = 1,   /* RFC 4585 6.3.1 */
    CODEC_RTCP_PSFB_FIR = 4,   /* RFC 5104 4.3.1 */
};

/* RFC 5761 4: on a port RTP shares, a second byte of 192..223 is an RTCP packet type
 * (RTP payload types 64..95 with the marker bit); 8 bytes is the smallest RTCP packet. */
static inline bool codec_rtcp_is_rtcp(const uint8_t *p, size_t len)
{
    return len >= 8 && p[1] >= 192 && p[1] <= 223;
}

/* A sender report's sender info (RFC 3550 6.4.1). */
struct codec_rtcp_sr {
    uint32_t ssrc;
    uint32_t ntp_sec;  /* NTP time (RFC 5905): seconds since 1900 */
    uint32_t ntp_frac; /* and a 32-bit fraction */
    uint32_t rtp_ts;   /* RTP time corresponding to the NTP time */
    uint32_t psent;    /* packets sent */
    uint32_t osent;    /* payload octets sent */
};

/* One reception report block (RFC 3550 6.4.1), of an SR or an RR. */
struct codec_rtcp_rb {
    uint32_t ssrc;     /* the source reported on */
    uint8_t fraction;  /* fraction lost since the last report, /256 */
    int32_t lost;      /* cumulative packets lost (24-bit signed; writers clamp) */
    uint32_t last_seq; /* extended highest sequence number received */
    uint32_t jitter;   /* interarrival jitter, timestamp units */
    uint32_t lsr;      /* middle 32 bits of the NTP time of the last SR, 0 = none */
    uint32_t dlsr;     /* delay since that SR, 1/65536 s */
};

/* What the parser found; every callback may be NULL. media_ssrc is the SSRC the feedback is
 * about (for FIR: the first FCI entry's SSRC, RFC 5104 4.3.1.1). */
struct codec_rtcp_handler {
    void (*sr)(void *arg, const struct codec_rtcp_sr *sr);
    void (*report)(void *arg, const struct codec_rtcp_rb *rb);
    /* RFC 4585 6.2.1: pid lost, and bit i of blp flags pid + 1 + i as lost too. */
    void (*nack)(void *arg, uint32_t media_ssrc, uint16_t pid, uint16_t blp);
    void (*pli)(void *arg, uint32_t media_ssrc);
    void (*fir)(void *arg, uint32_t media_ssrc);
};

/* Walks the compound packet p[0..len) packet by packet, each positioned by its own length
 * field, and calls h for what it recognises: the sender info of an SR, the report blocks of
 * SR and RR (RFC 3550 6.4), every FCI entry of a generic NACK (RFC 4585 6.2.1), PLI (6.3.1)
 * and FIR (RFC 5104 4.3.1, the first entry). Other packet types, and what recognised ones
 * are too short for (sender info in an SR under 28 bytes, the blocks of a report count beyond
 * the length, feedback under 12 bytes, FIR without an entry), are stepped over. Returns the
 * number of packets walked, or -EBADMSG when the first header is malformed (bad version, or a
 * length beyond len); a later malformed header ends the walk after what came before has been
 * reported.
 * Reads only p[0..len), keeps nothing, never allocates. */
int codec_rtcp_parse(const uint8_t *p, size_t len, const struct codec_rtcp_handler *h, void *arg);

/* The writers put one packet at out and return its length (a multiple of 4), or -ENOSPC when
 * it does not fit in cap bytes (then out may hold part of it), or -EINVAL for arguments no
 * packet can carry. Compound packets are written one packet after the other. */

/* SR without report blocks: 28 bytes. */
int codec_rtcp_write_sr(uint8_t *out, size_t cap, const struct codec_rtcp_sr *sr);
/* RR from ssrc with the report blocks rb[0..n), n <= 31 (none when n is 0): 8 + 24n bytes. */
int codec_rtcp_write_rr(uint8_t *out, size_t cap, uint32_t ssrc, const struct codec_rtcp_rb *rb,
                        unsigned n);
/* SDES with one chunk per SSRC of ssrcs[0..n), 1 <= n <= 31, each holding only the CNAME item
 * cname (at most 255 bytes), ended and padded to a 32-bit boundary (RFC 3550 6.5). */
int codec_rtcp_write_sdes(uint8_t *out, size_t cap, const uint32_t *ssrcs, unsigned n,
                          const char *cname);
/* Generic NACK (RFC 4585 6.2.1) from ssrc about media_ssrc for the sequence numbers
 * seqs[0..n), n >= 1, packed greedily in the given order: a number up to 16 after the open
 * entry's PID sets a bit of its BLP, any other opens a new entry. */
int codec_rtcp_write_nack(uint8_t *out, size_t cap, uint32_t ssrc, uint32_t media_ssrc,
                          const uint16_t *seqs, size_t n);
/* Picture loss indication (RFC 4585 6.3.1) from ssrc about media_ssrc: 12 bytes. */
int codec_rtcp_write_pli(uint8_t *out, size_t cap, uint32_t ssrc, uint32_t media_ssrc);

/* NTP time (RFC 5905) now: seconds since 1900 and a 32-bit fraction. */
void codec_rtcp_ntp_now(uint32_t *sec, uint32_t *frac);
/* The middle 32 bits of an NTP time, as LSR carries it (RFC 3550 6.4.1). */
static inline uint32_t codec_rtcp_ntp_mid(uint32_t sec, uint32_t frac)
{
    return (sec << 16) | (frac >> 16);
}
/* DLSR for an SR received held_ns ago: 1/65536 s. */
static inline uint32_t codec_rtcp_dlsr(uint64_t held_ns)
{
    return (uint32_t)((held_ns << 16) / 1000000000u);
}
/* Round-trip time in microseconds from a report block received at NTP middle time now_mid
 * (RFC 3550 6.4.1: now - LSR - DLSR); 0 when the block carries no LSR. */
uint32_t codec_rtcp_rtt_us(const struct codec_rtcp_rb *rb, uint32_t now_mid);

#endif
