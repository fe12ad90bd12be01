/* SPDX-License-Identifier: MIT */
/* depack.h: RTP depacketizers, one object per track, turning RTP packets into access
 * units: H.264 (RFC 6184: single NAL, STAP-A, FU-A), H.265 (RFC 7798: single, AP, FU),
 * Opus (RFC 7587), PCMU/PCMA (RFC 3551). Video units come out as Annex-B with 4-byte start
 * codes, ending on the marker bit or a timestamp change. A unit damaged by loss (a sequence
 * gap, 16-bit wrap included) is dropped and counted, and video resumes at the next
 * keyframe (its in-band parameter sets are the ingest's to track). Packets must arrive in
 * order (reordering, if any, happens before). */
#ifndef RINGCAST_DEPACK_H
#define RINGCAST_DEPACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A sequence number this far behind the last one is a sender that restarted its numbering
 * (follow it), not a late or duplicate packet (ignore it). Shared with the UDP reorder
 * buffer so both stages take the same packet for a restart. */
#define RTP_SEQ_RESYNC_BACK 1024

/* Fixed RTP header fields (RFC 3550 5.1). */
struct depack_rtp {
    uint8_t pt;
    bool marker;
    uint16_t seq;
    uint32_t ts;
    uint32_t ssrc;
    uint16_t payload_off; /* after CSRCs and the header extension */
    uint16_t payload_len; /* padding removed */
};

/* Parses an RTP packet's header. Returns 0, or -EBADMSG (version != 2, truncated, padding
 * or extension longer than the packet). */
int depack_rtp_parse(const uint8_t *p, size_t len, struct depack_rtp *out);

/* A completed access unit, valid only during the callback. */
struct depack_au {
    const uint8_t *data; /* Annex-B for video, the codec frame for audio */
    size_t len;
    uint32_t ts; /* RTP timestamp */
    bool key;    /* video: holds an IDR/IRAP slice; audio: always */
};

struct depack_stats {
    uint64_t packets; /* accepted RTP packets */
    uint64_t lost;    /* packets missing by sequence number */
    uint64_t bad;     /* malformed payloads (unit dropped) */
    uint64_t units;   /* units delivered */
    uint64_t dropped; /* units dropped: damaged, or waiting for a keyframe */
};

typedef void (*depack_au_cb)(void *arg, const struct depack_au *au);

struct depack;

/* One depacketizer for a track of codec (enum ring_codec). max_au bounds an access unit
 * (bigger ones are dropped as bad); its buffer is allocated here, once. cb is called for
 * each completed unit. Returns 0 or -errno (-EINVAL unknown codec, -ENOMEM). */
int depack_create(struct depack **out, uint32_t codec, size_t max_au, depack_au_cb cb, void *arg);
void depack_free(struct depack *d);

/* Feeds one RTP packet (header included). Calls cb zero, one or two times (a timestamp
 * change completes the previous unit; a marker completes the current one). Returns 0, or
 * -EBADMSG for a malformed packet (counted in stats.bad; the unit in progress is dropped). */
int depack_push(struct depack *d, const uint8_t *pkt, size_t len);

/* Forgets the unit in progress and the sequence state, e.g. after a source reconnect;
 * video waits for the next keyframe again. */
void depack_reset(struct depack *d);

const struct depack_stats *depack_stats(const struct depack *d);

#endif
