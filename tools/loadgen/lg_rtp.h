/* SPDX-License-Identifier: MIT */
/* lg_rtp.h: what the load generator knows about received media: RTP header parsing,
 * per-viewer sequence accounting (loss, duplicates, late fills), H.264 first-keyframe
 * detection, and the RTCP it sends (RR, SDES, generic NACK) or reads (SR). Pure code. */
#ifndef LG_RTP_H
#define LG_RTP_H

#include <stddef.h>
#include <stdint.h>

struct lg_rtp_hdr {
    uint8_t pt;
    uint8_t marker;
    uint16_t seq;
    uint32_t ts;
    uint32_t ssrc;
    size_t hdr_len; /* fixed header + CSRCs + extension */
};

/* RTP fixed header, CSRC list and extension (RFC 3550 5.1, 5.3.1): all in the clear even
 * in SRTP. Returns 0 or -EBADMSG. */
int lg_rtp_parse(const uint8_t *p, size_t len, struct lg_rtp_hdr *h);

/* RFC 5761 4 / RFC 7983: an RTCP packet on a muxed port has a packet type of 192..223. */
static inline int lg_is_rtcp(const uint8_t *p, size_t len)
{
    return len >= 8 && p[1] >= 192 && p[1] <= 223;
}

/* Sequence accounting over a sliding window of recent sequence numbers. */
#define LG_SEQ_WINDOW 1024 /* packets; about 4 s of a 2 Mbit/s stream */
enum lg_seq_class { LG_SEQ_NEW = 0, LG_SEQ_LATE, LG_SEQ_DUP, LG_SEQ_OLD };

struct lg_seq {
    int started;
    uint32_t ext_first; /* extended sequence number of the first packet */
    uint32_t ext_hi;    /* highest extended sequence number seen */
    uint64_t unique;    /* distinct sequence numbers received */
    uint64_t dups;
    uint64_t late; /* filled a gap below ext_hi (reordered or retransmitted) */
    uint64_t seen[LG_SEQ_WINDOW / 64];
};

/* Classifies seq without recording it (to decide on a deliberate drop first). */
enum lg_seq_class lg_seq_peek(const struct lg_seq *s, uint16_t seq);
/* Records seq and returns its class. */
enum lg_seq_class lg_seq_update(struct lg_seq *s, uint16_t seq);
/* Packets expected so far (ext_hi - ext_first + 1), 0 before the first. */
uint64_t lg_seq_expected(const struct lg_seq *s);

/* First complete H.264 keyframe: an access unit that starts cleanly (SPS, STAP-A, IDR or
 * an IDR FU-A start), contains IDR data and has every packet from its first one up to the
 * marker bit. Feed only packets that are not duplicates, with their decrypted payload. */
struct lg_keyframe {
    uint32_t ts;
    uint16_t first_seq;
    uint16_t marker_seq;
    uint16_t count;
    uint8_t active, has_idr, has_marker, done;
};
/* Returns 1 when this packet completed the first keyframe (then done = 1). */
int lg_keyframe_feed(struct lg_keyframe *k, const struct lg_rtp_hdr *h, const uint8_t *payload,
                     size_t len);

/* RTCP receiver report block (RFC 3550 6.4.2). */
struct lg_rr_block {
    uint32_t ssrc;
    uint8_t fraction_lost;
    int32_t cumulative_lost; /* clamped to 24 bits */
    uint32_t ext_hi_seq;
    uint32_t jitter;
    uint32_t lsr;
    uint32_t dlsr;
};

/* RR (with one block, or none when b is NULL) followed by SDES CNAME (RFC 3550 6.1
 * compound). Returns the length written, or -ENOSPC. */
int lg_rtcp_rr_sdes(uint8_t *buf, size_t cap, uint32_t ssrc, const struct lg_rr_block *b,
                    const char *cname);
/* Generic NACK (RFC 4585 6.2.1) for seqs[0..n) appended after an empty RR; PID/BLP pairs
 * are packed greedily in the given order. Returns the length written, or -ENOSPC. */
int lg_rtcp_nack(uint8_t *buf, size_t cap, uint32_t ssrc, uint32_t media_ssrc, const uint16_t *seqs,
                 size_t n);

/* Walks a decrypted RTCP compound packet; if it holds a sender report, stores the middle
 * 32 bits of its NTP timestamp (for LSR) and returns 1; 0 if none; -EBADMSG if a length
 * field runs past the end. */
int lg_rtcp_find_sr(const uint8_t *p, size_t len, uint32_t *ntp_mid);

#endif
