/* SPDX-License-Identifier: MIT */
/* ingest.h: the ingest pipeline a source feeds. It owns the path's ring writer, one
 * depacketizer per declared track, the parameter sets in front of every keyframe, the packet
 * count of every frame (codec/pack.h at the configured MTU), the ring's size (grown to hold
 * what viewers may need: ingest/ringsize.h) and the ingest's counters in its control slot. Sources
 * (file, RTSP) call it from the loop thread; nothing here blocks. */
#ifndef RINGCAST_INGEST_H
#define RINGCAST_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shm/ctl.h"

struct ingest;

struct ingest_opts {
    const char *path;               /* path name, for log lines */
    const char *ring_name;          /* "<shm_prefix>.<path>" */
    unsigned mtu;                   /* RTP payload bytes; 0 = PACK_DEFAULT_MTU */
    uint64_t ring_bytes;            /* the most payload bytes the ring may grow to, power of
                                       two; 0 = ring default */
    unsigned ring_seconds;          /* media the ring holds; 0 = the latest GOP + NACK window */
    struct ctl_child *slot;         /* counters (frames_written, frames_dropped, ...) */
    _Atomic uint32_t *ctl_doorbell; /* rung on every frame too; NULL when standalone */
};

/* Opens (or re-opens, continuing sequences) the ring. Borrows slot and doorbell; the caller
 * keeps them alive until ingest_close. Returns 0 or -errno with a reason in err. */
int ingest_open(struct ingest **out, const struct ingest_opts *o, char *err, size_t errlen);
/* Closes the ring writer without unlinking it (readers keep it; the supervisor unlinks).
 * Tolerates NULL. */
void ingest_close(struct ingest *ing);
/* Closes after a failed start: also removes the ring if this process created it and wrote
 * nothing (no reader can depend on it), so a misconfigured run leaves no shm object. */
void ingest_discard(struct ingest *ing);

struct ingest_track_desc {
    uint32_t codec;        /* enum ring_codec */
    uint32_t clock_rate;   /* RTP clock: 90000 video, 48000 Opus, 8000 G.711 */
    uint32_t channels;     /* 1 for video */
    const char *fmtp;      /* SDP fmtp value or NULL; sprop-* parameter sets seed the track */
    const uint8_t *params; /* Annex-B parameter sets known out of band, or NULL */
    size_t params_len;
};

/* Declares the next track (index 0, 1, ... in call order, at most RING_MAX_TRACKS) after
 * ingest_open or ingest_restart. Returns the track index or -errno (-EINVAL unsupported
 * codec, -ENOSPC too many tracks, -EBADMSG bad sprop-*). */
int ingest_add_track(struct ingest *ing, const struct ingest_track_desc *d);

/* Feeds one RTP packet (header included, in sequence order) of track. Completed access
 * units go to the ring. Returns 0, -EBADMSG (counted; the damaged unit is dropped) or
 * -EINVAL for an undeclared track. Never logs per packet. */
int ingest_rtp(struct ingest *ing, unsigned track, const uint8_t *pkt, size_t len);

/* Writes one complete access unit directly (file source): Annex-B for video. The keyframe
 * flag is derived here; parameter sets are tracked and put in front of keyframes lacking
 * them. Returns the ring frame sequence number (> 0) or -errno. */
int64_t ingest_au(struct ingest *ing, unsigned track, uint32_t ts, const uint8_t *au, size_t len);

/* The source (re)started (reconnect, new session): forgets the declared tracks (declare
 * them again, same order keeps the same ring tracks), resets depacketizers, and makes the
 * ring rebase timestamps so viewers see a pause, not a jump. Counts a source reconnect
 * from the second start on. A file loop is NOT a restart: it continues its own timestamps. */
void ingest_restart(struct ingest *ing);

/* Liveness, about every 500 ms from the process's timer: the ring heartbeat and the
 * control slot's heartbeat_ns; drains keyframe requests (neither a file nor an RTSP pull
 * can act on them: they are counted at debug level). */
void ingest_tick(struct ingest *ing);

/* The publisher of a publish path, shown by status and paths (struct ctl_publisher in the
 * control slot; nothing without a slot): ingest_pub_begin when one starts sending (proto,
 * the address its media comes from), ingest_pub_update about every second with its totals,
 * ingest_pub_end when it leaves. */
void ingest_pub_begin(struct ingest *ing, enum ctl_pub_proto proto, const char *addr);
void ingest_pub_update(struct ingest *ing, uint64_t bytes, uint64_t packets_lost, uint64_t nacks);
void ingest_pub_end(struct ingest *ing);

/* True while some reader sends the path's frames on as they come (a viewer, an RTSP reader, a
 * relay: ring_writer_watched). A source that can wait may write in batches otherwise, what came
 * or fell due in INGEST_UNWATCHED_MS at once: frames nobody waits for need not cost a wake-up
 * each. */
#define INGEST_UNWATCHED_MS 100
bool ingest_watched(const struct ingest *ing);

/* Frames written / dropped since open (also in the control slot). */
uint64_t ingest_frames_written(const struct ingest *ing);
uint64_t ingest_frames_dropped(const struct ingest *ing);

#endif
