/* SPDX-License-Identifier: MIT */
/* pack.h: RTP packetizers for access units as stored in the ring (Annex-B for video).
 * A packet is described, not copied: a few header bytes owned by the descriptor (FU
 * indicator/header, STAP-A/AP headers and length prefixes) interleaved with pointers into
 * the access unit, so the egress builds iovecs straight from shared memory.
 *
 * Packetization is a pure function of (codec, access unit bytes, mtu): packet k of a frame
 * is the same every time, which is how a NACKed packet is rebuilt from the ring. Rules:
 *  H.264 (RFC 6184, packetization-mode=1): consecutive parameter sets (SPS/PPS) that fit in
 *   one payload go into one STAP-A (a lone one is sent as a single NAL unit); any other NAL
 *   that fits is a single NAL unit packet; larger NALs become FU-A fragments, each full
 *   (mtu - 2 payload bytes) except the last.
 *  H.265 (RFC 7798): the same with AP for VPS/SPS/PPS and FU (mtu - 3 bytes per fragment).
 *  Opus (RFC 7587), PCMU/PCMA (RFC 3551): one packet per frame, the frame as payload,
 *   whatever its size (the MTU only governs video fragmentation).
 * The marker bit is set on the last packet of the access unit (video; audio: every packet,
 * harmless for receivers and what RFC 3551 leaves open). */
#ifndef RINGCAST_PACK_H
#define RINGCAST_PACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define PACK_DEFAULT_MTU 1200
#define PACK_MIN_MTU     64
#define PACK_AGG_MAX     8 /* NAL units per STAP-A / AP */
#define PACK_SEGS_MAX    (2 * PACK_AGG_MAX)
#define PACK_HDR_MAX     (2 + 2 * PACK_AGG_MAX)

/* One segment of a packet's payload: either hdr[off, off+len) of the descriptor (own = 1)
 * or au[off, off+len) of the access unit (own = 0). Offsets, not pointers, so descriptors
 * can be copied and cached. */
struct pack_seg {
    uint32_t off;
    uint32_t len : 31;
    uint32_t own : 1;
};

struct pack_pkt {
    uint32_t index; /* k */
    uint32_t len;   /* payload bytes (sum of the segments) */
    bool marker;
    uint8_t n_seg;
    uint8_t hdr_len;
    uint8_t hdr[PACK_HDR_MAX];
    struct pack_seg seg[PACK_SEGS_MAX];
};

/* Packets the access unit becomes at mtu (RTP payload bytes). Same code path as
 * pack_packet(). Returns >= 1, or -EINVAL (unknown codec, mtu < PACK_MIN_MTU, empty or
 * NAL-less video unit). */
int pack_count(uint32_t codec, const uint8_t *au, size_t len, unsigned mtu);

/* Describes packet k (0-based). Walks the unit's NAL boundaries, not its earlier packets.
 * Returns 0, -ERANGE when k >= pack_count(), or pack_count()'s errors. */
int pack_packet(uint32_t codec, const uint8_t *au, size_t len, unsigned mtu, uint32_t k,
                struct pack_pkt *out);

/* Describes all packets into out[0..max), in order. Returns the packet count (which may
 * exceed max: then only max were written), or pack_count()'s errors. No allocation. */
int pack_frame(uint32_t codec, const uint8_t *au, size_t len, unsigned mtu, struct pack_pkt *out,
               size_t max);

/* Fills iov with pkt's payload segments resolved against au (the same access unit it was
 * described from). Returns the number of iovecs (pkt->n_seg, <= PACK_SEGS_MAX); pkt must
 * stay in place while the iovecs are used (header segments point into it). */
int pack_iov(const struct pack_pkt *pkt, const uint8_t *au, struct iovec *iov, size_t max);

#endif
