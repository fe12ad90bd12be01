/* SPDX-License-Identifier: MIT */
/* lg_rtp.h: what the load generator knows about received media: RTP header parsing,
 * per-viewer sequence accounting (loss, duplicates, late fills) and H.264 first-keyframe
 * detection (the RTCP it sends and reads is codec/rtcp's). Pure code. */
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
 * marker bit. Packets of later frames do not end it (a lost packet may be retransmitted
 * after them); a newer keyframe does. Feed only packets that are not duplicates, with their
 * decrypted payload. */
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

#endif
