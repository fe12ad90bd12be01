/* SPDX-License-Identifier: MIT */
/* ring.h: the per-path frame ring in POSIX shared memory, the contract between one ingest
 * (single writer) and any number of egress workers (readers). Readers never block or slow
 * the writer: they detect being lapped and resynchronize at the latest keyframe.
 *
 * Layout of /<prefix>.<path> (all fields fixed-width, little-endian host order):
 *   struct ring_hdr (4096 bytes) | struct ring_track_desc[RING_MAX_TRACKS] (2048 each) |
 *   struct ring_slot[slot_count] (64 each) | payload bytes[data_size]
 * slot_count and data_size are powers of two. Frame sequence numbers start at 1 and never
 * repeat, across writer restarts too; frame s lives in slot s & (slot_count - 1). Payload
 * positions are absolute byte counts (monotonic, 64-bit); a frame's bytes are contiguous in
 * the mapping (the writer skips the tail of the byte ring when a frame would not fit).
 * The writer advances hdr->reserved before it writes payload bytes, so bytes at position p
 * are intact while reserved <= p + data_size; a slot is valid while its seq is unchanged.
 * Readers map the object read-only, plus the header page read-write for one purpose: the
 * keyframe-request counter (and futex waits on the doorbell). Every offset and length a
 * reader takes from shared memory is bounds-checked against its own copy of the geometry. */
#ifndef RINGCAST_RING_H
#define RINGCAST_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shm/codec_id.h"

#define RING_MAGIC         0x31474e4952435200ull /* "\0RCRING1" */
#define RING_VERSION       1
#define RING_MAX_TRACKS    4
#define RING_FMTP_MAX      256
#define RING_DEFAULT_SLOTS 8192
#define RING_DEFAULT_DATA  (16u << 20)
#define RING_MAX_FRAME     (4u << 20) /* and at most data_size / 4 */

enum ring_frame_flags {
    RING_FRAME_KEY = 1u << 0,            /* decodable on its own (IDR/IRAP); params in front */
    RING_FRAME_PARAMS_CHANGED = 1u << 1, /* the track's parameter sets changed at this frame */
};

/* A track as declared by the writer; readers copy it out under the track's seqlock. */
struct ring_track {
    uint32_t codec;      /* enum ring_codec */
    uint32_t clock_rate; /* RTP clock, e.g. 90000, 48000 */
    uint32_t channels;   /* audio channels; 1 for video */
    uint32_t params_len;
    char fmtp[RING_FMTP_MAX];        /* the source's fmtp, informational */
    uint8_t params[RING_PARAMS_MAX]; /* current SPS/PPS (H.264) or VPS/SPS/PPS (H.265) */
};

/* One frame as a reader sees it: a view into shared memory, no copy. Only trust data
 * after ring_frame_still_valid() confirms the writer has not overwritten it meanwhile. */
struct ring_frame {
    uint64_t seq;        /* frame sequence number */
    uint64_t first_pkt;  /* the track's global RTP sequence number of its first packet */
    uint64_t arrival_ns; /* CLOCK_MONOTONIC when the writer got it */
    uint64_t data_pos;   /* absolute payload position, for validity checks */
    const uint8_t *data;
    uint32_t len;
    uint32_t rtp_ts;    /* ring timestamp (continuous across writer restarts) */
    uint32_t pkt_count; /* RTP packets this frame becomes at the ring's MTU */
    uint8_t track;
    uint8_t flags; /* enum ring_frame_flags */
};

/* ---- shared-memory layout (the contract; use the API below, not these structs) ---- */

/* Per-track state the writer keeps in the header. The descriptor (struct ring_track) is
 * guarded by desc_seq, a seqlock: odd while the writer updates it. The timestamp state lets
 * a new writer continue the ring's timestamps after a restart. */
struct ring_track_state {
    _Atomic uint32_t desc_seq;
    uint32_t ts_valid;           /* a frame has been written: last_* are meaningful */
    _Atomic uint64_t latest_key; /* frame seq of the latest keyframe, 0 = none */
    _Atomic uint64_t next_pkt;   /* the track's next global packet number */
    uint64_t last_wall_ns;       /* CLOCK_MONOTONIC of the last frame written */
    uint32_t last_ring_ts;       /* ring timestamp of the last frame written */
    uint32_t ts_offset;          /* ring_ts = src_ts + ts_offset (mod 2^32) */
    uint32_t rebase;             /* the next frame starts a new source timestamp base */
    uint8_t pad[20];
};

/* The first page. Readers map the whole object read-only and this page a second time
 * read-write, only to bump keyframe_requests (a viewer's PLI) and to wait on doorbell. */
struct ring_hdr {
    uint64_t magic;    /* RING_MAGIC, stored last (release) when the ring is created */
    uint32_t version;  /* RING_VERSION */
    uint32_t hdr_size; /* sizeof(struct ring_hdr) */
    uint32_t slot_count;
    uint32_t mtu;
    uint64_t data_size;
    _Atomic uint32_t generation; /* 1 for the creator, +1 per re-opening writer */
    _Atomic int32_t writer_pid;
    _Atomic uint64_t heartbeat_ns;
    _Atomic uint32_t retired; /* 1: the writer moved to a new, larger object of this name */
    uint8_t pad0[4];
    /* CLOCK_MONOTONIC ns until which some reader sends this ring's frames on as they come: a
     * lease its readers renew (ring_reader_keep_watched), so that one that crashed lets it
     * lapse. Past it the writer may write in batches (ring_writer_watched). */
    _Atomic uint64_t watched_until_ns;
    _Atomic uint64_t head __attribute__((aligned(64))); /* next frame seq to be published */
    _Atomic uint64_t reserved; /* payload bytes reserved up to (absolute position) */
    _Atomic uint32_t doorbell __attribute__((aligned(64)));
    _Atomic uint32_t keyframe_requests __attribute__((aligned(64)));
    struct ring_track_state track_state[RING_MAX_TRACKS] __attribute__((aligned(64)));
    uint8_t pad1[4096 - 256 - RING_MAX_TRACKS * 64];
};

struct ring_track_desc {
    struct ring_track t;
    uint8_t pad[2048 - sizeof(struct ring_track)];
};

/* A frame slot. seq is 0 while the writer fills the slot and is stored last (release), so
 * a reader that finds the same seq before and after copying the fields has a consistent copy. */
struct ring_slot {
    _Atomic uint64_t seq;
    _Atomic uint64_t data_pos;
    _Atomic uint64_t first_pkt;
    _Atomic uint64_t arrival_ns;
    _Atomic uint32_t len;
    _Atomic uint32_t rtp_ts;
    _Atomic uint32_t pkt_count;
    _Atomic uint8_t track;
    _Atomic uint8_t flags;
    uint8_t pad[18];
};

_Static_assert(sizeof(struct ring_hdr) == 4096, "ring_hdr layout");
_Static_assert(sizeof(struct ring_track_state) == 64, "ring_track_state layout");
_Static_assert(sizeof(struct ring_track_desc) == 2048, "ring_track_desc layout");
_Static_assert(sizeof(struct ring_slot) == 64, "ring_slot layout");

/* ---- writer (the ingest) ---- */

struct ring_writer;

struct ring_writer_opts {
    uint32_t slot_count; /* power of two; 0 = RING_DEFAULT_SLOTS */
    uint64_t data_size;  /* power of two; 0 = RING_DEFAULT_DATA */
    uint32_t mtu;        /* RTP payload bytes per packet, recorded for readers */
    /* Nonzero: an existing ring of the same MTU and layout is continued at its own geometry
     * if it holds at most this many payload bytes (a restarted ingest keeps what it grew to). */
    uint64_t keep_up_to;
};

/* Creates /<name> (mode 0600) or re-opens an existing ring of the same geometry and MTU,
 * bumping its generation and continuing its frame sequence, packet sequences and timestamps.
 * A ring of another geometry, MTU or layout is replaced. name is "<prefix>.<path>".
 * Returns 0 and *out, or -errno with a reason in err. */
int ring_writer_open(struct ring_writer **out, const char *name,
                     const struct ring_writer_opts *opts, char *err, size_t errlen);
/* Unmaps; unlink also removes the object (orderly shutdown). Tolerates NULL. */
void ring_writer_close(struct ring_writer *w, bool unlink);

/* Declares or updates track idx (< RING_MAX_TRACKS). Params may change later through
 * ring_writer_set_params; readers see a consistent copy either way. */
int ring_writer_set_track(struct ring_writer *w, unsigned idx, const struct ring_track *t);
int ring_writer_set_params(struct ring_writer *w, unsigned idx, const uint8_t *params, size_t len);

/* The next frame of track idx starts a new source timestamp base (reconnect, file loop):
 * the ring keeps its timestamps continuous, advancing by the wall-clock gap. Done for every
 * track automatically when a ring is re-opened. */
void ring_writer_rebase(struct ring_writer *w, unsigned idx);

/* Appends one access unit. src_ts is the source's RTP timestamp (mapped to ring time);
 * pkt_count is what codec/ says the frame packetizes into at the ring's MTU. Payload is
 * copied into the ring. Returns the frame sequence number (> 0) or -errno (-EMSGSIZE when
 * len exceeds the frame limit, -EINVAL on a bad track). Bumps the doorbells. */
int64_t ring_writer_write(struct ring_writer *w, unsigned track, uint32_t flags, uint32_t src_ts,
                          uint32_t pkt_count, const uint8_t *data, size_t len);

/* Moves the ring to a new object of the same name with at least the given geometry (neither
 * may shrink): the frames still in the ring are copied, frame and packet numbering, timestamps
 * and tracks continue, the generation is bumped, and the old object is marked retired so that
 * readers re-attach at once (ring_reader_retired) and find every frame they expect. On error
 * the writer keeps the old object. 0 or -errno with a reason in err. */
int ring_writer_resize(struct ring_writer *w, uint32_t slot_count, uint64_t data_size, char *err,
                       size_t errlen);
/* The ring's geometry: frame slots and payload bytes. */
uint32_t ring_writer_slot_count(const struct ring_writer *w);
uint64_t ring_writer_data_size(const struct ring_writer *w);

/* What holding every frame from the oldest one needed takes: the frames and payload bytes
 * (tail skips included) from that frame to the live edge. The oldest needed is the older of
 * frame keep_seq (0: none) and the first frame that arrived at or after from_ns (CLOCK_MONOTONIC).
 * When it is already gone (the ring is too small), the oldest frame left stands in for it
 * and *lost is set. */
struct ring_usage {
    uint64_t bytes;
    uint64_t frames;
    bool lost;
};
void ring_writer_usage(const struct ring_writer *w, uint64_t from_ns, uint64_t keep_seq,
                       struct ring_usage *u);

/* The sequence number the next ring_writer_write will return (logs, tests). */
uint64_t ring_writer_next_seq(const struct ring_writer *w);
/* This writer's generation: 1 for a new ring, +1 per re-open. */
uint32_t ring_writer_generation(const struct ring_writer *w);

/* Also bump this 32-bit futex word (e.g. the control segment's doorbell) on every write. */
void ring_writer_set_doorbell(struct ring_writer *w, _Atomic uint32_t *word);
/* Liveness: stores now into the header (call about once a second). */
void ring_writer_heartbeat(struct ring_writer *w);
/* Keyframe requests from viewers (PLI/FIR) since the last call. */
uint32_t ring_writer_take_keyframe_requests(struct ring_writer *w);
/* True while a reader's lease (ring_reader_keep_watched) runs at now_ns (CLOCK_MONOTONIC):
 * someone is waiting for each frame. Without one the writer may batch its writes. */
bool ring_writer_watched(const struct ring_writer *w, uint64_t now_ns);

/* ---- reader (an egress worker) ---- */

struct ring_reader;

/* Attaches read-only to /<name>. Refuses a missing, truncated or foreign object (wrong
 * magic, version or geometry) with -errno and a reason in err. Positions at the live edge.
 * While its writer grows the ring (ring_writer_resize) the name briefly holds a new object
 * being filled (-EPROTO, no magic yet) or none (-ENOENT): try again shortly. */
int ring_reader_open(struct ring_reader **out, const char *name, char *err, size_t errlen);
void ring_reader_close(struct ring_reader *r);
/* 1 if /<name> was removed (orderly ingest shutdown) or replaced by a ring of another
 * geometry since this reader attached: the mapping is dead, close and re-open. 0 if it is
 * still the same object, -errno on error. A system call: call it from a slow timer. */
int ring_reader_replaced(const struct ring_reader *r);

/* Next frame in order. Returns 1 with *f filled, 0 when caught up, or -ESTALE when the
 * writer lapped the reader: it has then been moved to the latest keyframe of the first
 * video track (or the live edge) and the caller counts a lap and calls again. -EBADMSG:
 * the slot pointed outside the ring (a broken writer); it was skipped, call again. */
int ring_reader_next(struct ring_reader *r, struct ring_frame *f);
/* After using f's data: true if the writer has not overwritten it meanwhile. */
bool ring_frame_still_valid(const struct ring_reader *r, const struct ring_frame *f);

/* Reads frame seq if still in the ring: 1 and *f, or 0 if gone or not yet written. */
int ring_reader_get(const struct ring_reader *r, uint64_t seq, struct ring_frame *f);
/* Positions the reader so that the next frame returned is the latest keyframe of track
 * (video), or the live edge if none. Returns that frame's sequence number (0 = live edge). */
uint64_t ring_reader_seek_keyframe(struct ring_reader *r, unsigned track);
/* Positions the reader so that the next frame returned is seq, if that frame is still in the
 * ring or is the live edge (a restarted worker resuming where its predecessor stopped). */
bool ring_reader_seek(struct ring_reader *r, uint64_t seq);
/* Sequence number of the latest keyframe of track, 0 if none in the ring. */
uint64_t ring_reader_latest_keyframe(const struct ring_reader *r, unsigned track);
/* Next sequence number the writer will publish (the live edge). */
uint64_t ring_reader_head(const struct ring_reader *r);

/* The global packet number track's next frame will start at (what no packet sent has reached). */
uint64_t ring_reader_next_pkt(const struct ring_reader *r, unsigned track);
/* Identifies the object mapped (its inode): a ring replaced under the same name differs. */
uint64_t ring_reader_ident(const struct ring_reader *r);
/* The frame of track holding global packet number pkt16 (a 16-bit RTP sequence number in
 * the ring's numbering, extended against the track's latest packet). Returns 1 with *f and
 * *index (the packet's index within the frame), or 0 if no longer (or not yet) in the ring.
 * This is how a NACK is served. */
int ring_reader_find_packet(const struct ring_reader *r, unsigned track, uint16_t pkt16,
                            struct ring_frame *f, uint32_t *index);

/* Copies track idx (consistent snapshot). 0, -ENOENT if undeclared, -EAGAIN if the writer
 * kept changing it. version (optional) changes whenever the track is updated. */
int ring_reader_track(const struct ring_reader *r, unsigned idx, struct ring_track *t,
                      uint32_t *version);
/* What ring_reader_track's version would say of track idx now, without copying it (odd while
 * the writer is updating it): one load, cheap enough to watch per frame. */
uint32_t ring_reader_track_version(const struct ring_reader *r, unsigned idx);
uint32_t ring_reader_generation(const struct ring_reader *r);
/* True when the writer moved to a larger object under the same name (ring_writer_resize): the
 * new one continues this one's numbering; re-open it. One load, cheap enough for a timer. */
bool ring_reader_retired(const struct ring_reader *r);
uint32_t ring_reader_mtu(const struct ring_reader *r);
/* Writer's last heartbeat (CLOCK_MONOTONIC ns) and pid. */
uint64_t ring_reader_heartbeat(const struct ring_reader *r);
int32_t ring_reader_writer_pid(const struct ring_reader *r); /* 0 after an orderly close */
/* Tells the writer that a reader sends this ring's frames on as they come, until until_ns
 * (CLOCK_MONOTONIC): renew it well before then. Several readers may: the lease that ends last
 * holds. */
void ring_reader_keep_watched(struct ring_reader *r, uint64_t until_ns);
/* Asks the writer for a keyframe (a viewer's PLI/FIR). */
void ring_reader_request_keyframe(struct ring_reader *r);
/* The ring's own doorbell word, for a doorbell_waiter. */
_Atomic uint32_t *ring_reader_doorbell(struct ring_reader *r);

#endif
