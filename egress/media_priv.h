/* SPDX-License-Identifier: MIT */
/* media_priv.h: the egress data plane's internal state, shared by media.c (lifecycle, RTCP
 * input, timers), send.c (the hot path) and media_test.c. Not for the control plane (see
 * media.h), nor for tests and benchmarks (see media_test.h). */
#ifndef RINGCAST_MEDIA_PRIV_H
#define RINGCAST_MEDIA_PRIV_H

#include <netinet/in.h>
#include <sys/socket.h>

#include "codec/pack.h"
#include "common/log.h"
#include "egress/media.h"
#include "egress/tcpq.h"
#include "shm/doorbell.h"

#define MEDIA_BATCH             256   /* datagrams per sendmmsg */
#define MEDIA_TCP_CHUNKS        32    /* TCP queue chunks taken (512 KiB), then written */
#define MEDIA_GSO_SEGS          48    /* below the kernel's UDP_MAX_SEGMENTS (64) */
#define MEDIA_GSO_BYTES         60000 /* below the 64 KiB of one UDP GSO send */
#define MEDIA_FRAMES_PER_WAKEUP 32    /* live frames per path per wakeup, then yield */
#define MEDIA_PKTS_PER_WAKEUP   8192  /* packets per wakeup (about 20 ms of work), then yield */
#define MEDIA_CATCHUP_FRAMES    4     /* catch-up video frames per viewer per wakeup */
#define MEDIA_NACKS_PER_INPUT   256   /* NACKed packets served per RTCP datagram */
#define MEDIA_DESC_FRAMES       16    /* frames whose packet descriptors are kept (~0.5 s) */
#define MEDIA_NACK_MAX_AGE      4096  /* packets: older NACKs (~18 s at 2 Mbit/s) are misses */
#define MEDIA_EXT_MAX           28    /* RTP header extension block we may add */
#define MEDIA_SR_INTERVAL_NS    1000000000ull
#define MEDIA_TICK_MS           200 /* the worker's one RTCP/housekeeping timer */
#define MEDIA_SNDBUF            (8 << 20)
#define MEDIA_RING_STALE_NS     3000000000ull /* a writer silent this long: look for a new ring */
#define MEDIA_RING_CHECK_NS     1000000000ull
/* A watched path renews its ring's lease (ring_reader_keep_watched) every tick for this long:
 * a worker that crashed stops paying its writers' per-frame wake-ups within it. */
#define MEDIA_WATCH_LEASE_NS 2000000000ull
/* With many watched paths the worker is called at most once this long, for all the rings rung
 * meanwhile (shm/doorbell.h): 70 cameras x 1 viewer (bench-cameras.sh, same run) 10.6 us of CPU
 * per delivered packet with every call 1 ms late, 9.5-10.4 at most one a 1 ms window, 8.6-8.7
 * at most one a 4 ms window; a frame waits at most this long. */
#define MEDIA_DOORBELL_WINDOW_NS 4000000ull
#define MEDIA_MISMATCH_LOG_NS    10000000000ull /* a packet-count mismatch is logged this rarely */
#define MEDIA_RESUME_SCAN        1024 /* frames a resumed viewer's position may lie behind live */

/* Retransmission budget (its floors are in media.h). */
#define MEDIA_RTX_MEASURE_NS  1000000000ull
#define MEDIA_RTX_MEASURE_MAX 1024 /* frames walked back per measurement */
/* A packet is resent at most once per RTT: the receiver cannot have seen it lost again
 * sooner. Unknown RTT: 100 ms. Floor: 20 ms, the pace of a browser's NACK module. */
#define MEDIA_RTX_RTT_DEFAULT_NS 100000000ull
#define MEDIA_RTX_RTT_MIN_NS     20000000ull

/* One path's ring as this worker reads it, and the viewers watching it. */
struct media_path {
    char name[CONFIG_NAME_MAX];
    struct media_worker *w;
    struct ring_reader *r;
    bool watched; /* its ring's doorbell is in the worker's set: the path has viewers */
    uint32_t mtu; /* the ring's: packet numbering depends on it */
    uint32_t codec[MEDIA_MAX_TRACKS];
    uint32_t track_version[MEDIA_MAX_TRACKS]; /* of the track table read into codec[] */
    uint32_t clock[MEDIA_MAX_TRACKS];
    int video;                     /* first video track, -1 if none */
    uint64_t next_frame;           /* live cursor: next frame the reader returns */
    uint64_t next_check_ns;        /* when to look at the writer's liveness again */
    struct log_limit mismatch_log; /* packet-count mismatches */
    struct media_viewer *viewers;
    unsigned n_viewers;
    bool backlog;     /* frames left after the wakeup's budget */
    bool has_pending; /* pending: a live frame not yet sent to every viewer */
    bool sent;        /* a live frame was read: adopted viewers can no longer move the cursor */
    struct ring_frame pending;
    uint64_t rtx_next_ns; /* when to measure rtx_rate and rtx_burst again */
    uint32_t rtx_rate;    /* payload bytes per second over the last second, floored */
    uint32_t rtx_burst;   /* largest recent keyframe, floored */
};

/* Which frame a descriptor cache entry holds (n == 0: none). */
struct media_desc {
    const struct media_path *p;
    uint64_t seq;
    const uint8_t *data;
    uint32_t len;
    int n;
};

struct media_worker {
    uv_loop_t *loop;
    const struct config *cfg;
    struct ctl *ctl;
    struct ctl_counters *cnt;
    int fd;
    uv_timer_t tick;
    uv_idle_t idle;             /* runs while a path has backlog */
    uv_check_t flush;           /* sends what RTCP input queued, after the loop's I/O phase */
    struct doorbell_set *bells; /* the doorbells of the rings of watched paths */
    int open_handles;
    bool freeing;
    struct media_path **paths; /* every path attached to, grown as offers name new ones */
    unsigned n_paths, cap_paths;
    unsigned n_viewers;
    char cname[24];
    unsigned budget; /* packets this wakeup may still queue */
    /* MEDIA_RING_STALE_NS and MEDIA_PKTS_PER_WAKEUP from media_worker_init; only a test
     * changes them (media_test_knobs_set). */
    uint64_t ring_stale_ns;
    unsigned wakeup_pkts;

    /* Packet descriptors of the frames sent last, described once for all viewers and kept
     * for the catch-ups and NACKs that come back to the same frames (a frame's NACKs arrive
     * from many viewers: rebuilding each packet walked the frame's NAL units again): entry
     * i's packets are pk[i * pk_cap ...], for the frame desc[i] names. */
    struct pack_pkt *pk;
    size_t pk_cap;
    struct media_desc desc[MEDIA_DESC_FRAMES];

    /* The send batch: nb datagrams built in buf slots (iov[i] is slot i), grouped into nm
     * messages flushed by one sendmmsg. With gso, consecutive datagrams to one viewer of one
     * size (a frame's full fragments) share a message with a UDP_SEGMENT size: the kernel
     * then routes and allocates once per viewer and frame rather than once per packet. */
    unsigned nb, nm;
    bool gso;      /* off once the kernel refused a segmented send */
    bool run_open; /* the last message may take more segments of its size */
    size_t slot;   /* bytes per buf slot */
    uint8_t *buf;
    struct iovec iov[MEDIA_BATCH];
    struct mmsghdr msg[MEDIA_BATCH];
    struct media_viewer *msg_viewer[MEDIA_BATCH];
    int msg_fd[MEDIA_BATCH];       /* the socket each message leaves from: the media socket, or an
                                      RTSP one (struct media_udp); a batch is one sendmmsg per run */
    uint16_t msg_seg[MEDIA_BATCH]; /* segment size: the message's first datagram's length */
    uint32_t msg_bytes[MEDIA_BATCH];
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(sizeof(uint16_t)) + CMSG_SPACE(sizeof(struct in_pktinfo))];
    } msg_ctrl[MEDIA_BATCH];
    uint64_t batches; /* sendmmsg calls, for measurements (mediabench) */
    /* ICE-TCP viewers: a committed packet is framed into its connection's queue (the batch
     * slot is reused); the queues touched since the last flush, each written once then. */
    struct tcpq *tcp_dirty;
    unsigned tcp_chunks;   /* chunks the dirty queues took since the last flush */
    bool last_tcp;         /* the last commit was a TCP viewer's (pushed or dropped) */
    struct tcpq *tcp_last; /* and was pushed to this queue (uncommit), else NULL */
    uint32_t tcp_last_len;
    /* The control plane's record keeping (media_worker_on_change) and how many viewers wait
     * for it. */
    void (*changed)(void *arg, struct media_viewer *v);
    void *changed_arg;
    unsigned n_dirty;
};

/* v's ring position: stored to its progress word too, before any packet of frame seq and
 * later is numbered (a successor's SRTP index bound relies on it). */
static inline void media_viewer_at(struct media_viewer *v, uint64_t seq)
{
    v->rec.next_frame = seq;
    if (v->progress)
        atomic_store_explicit(v->progress, seq, memory_order_relaxed);
}

/* v's record changed in a way that does not touch its SRTP numbering: rewritten after the
 * wakeup (media_viewers_note). */
/* Only SRTP viewers (WHEP sessions) have a record to keep: plain-RTP readers (RTSP) reconnect
 * after a restart. */
static inline void media_viewer_dirty(struct media_worker *w, struct media_viewer *v)
{
    if (!v->dirty && w->changed && v->srtp) {
        v->dirty = true;
        w->n_dirty++;
    }
}

/* v's record changed its SRTP numbering (a renumber): rewritten now, before a packet is. */
static inline void media_viewer_note(struct media_worker *w, struct media_viewer *v)
{
    if (w->changed && v->srtp)
        w->changed(w->changed_arg, v);
}

/* Something is queued for the next media_batch_flush. */
static inline bool media_batch_pending(const struct media_worker *w)
{
    return w->nb || w->tcp_dirty;
}

/* send.c */
/* Called on a doorbell or from the idle handle: live frames, then catch-up, per path.
 * Returns true when frames are left over (the wakeup's budget ran out). */
bool media_send_run(struct media_worker *w);
/* Rebuilds packet k of frame f of track for v (a NACK) and queues it. Returns its payload
 * bytes (> 0), or 0 when the frame cannot be packetized or was overwritten while being
 * copied. Flush with media_batch_flush. */
int media_send_packet(struct media_worker *w, struct media_viewer *v, unsigned track,
                      const struct ring_frame *f, uint32_t k);
/* The next free batch slot (flushing a full batch first): the caller builds and protects a
 * datagram of at most w->slot bytes there, then commits it for v. */
uint8_t *media_batch_slot(struct media_worker *w);
/* channel: an RTSP reader's interleaved channel for the packet (ignored for the others). */
void media_batch_commit(struct media_worker *w, struct media_viewer *v, uint8_t channel,
                        size_t len);
/* Takes back the datagram committed last. */
void media_batch_uncommit(struct media_worker *w);
/* Sends what is queued; counts drops; never blocks. */
void media_batch_flush(struct media_worker *w);
/* Positions a starting viewer: the latest keyframe (catch-up) or the live edge. */
void media_viewer_position(struct media_path *p, struct media_viewer *v);
/* After a ring was replaced: every viewer of p continues at the new ring's live edge from
 * its next keyframe, with sequence numbers, timestamps and SRTP indexes carrying on. */
void media_path_viewers_rebase(struct media_path *p);
/* Drops the packet descriptors kept for p's frames (its ring is replaced or closed); p NULL:
 * all of them (the descriptor buffer was reallocated). */
void media_desc_forget(struct media_worker *w, const struct media_path *p);
/* media.c: calls the change hook for each viewer marked dirty. */
void media_viewers_note(struct media_worker *w);
/* Re-reads the codecs and clock rates of the path's tracks from its ring. */
void media_path_load_tracks(struct media_path *p);
/* media_rtcp.c: queues v's sender reports (one compound per SRTP session, or per track's
 * interleaved channel for a plain RTP reader). */
void media_send_sr(struct media_worker *w, struct media_viewer *v, uint64_t now);
/* media.c: attaches p to the object now under its ring's name when its writer retired the one
 * read (grown) or went silent and was replaced; true when it did. */
bool media_path_check(struct media_worker *w, struct media_path *p, uint64_t now);
/* The RTP timestamp viewer v gives frame f of track t (catch-up compressed or live). */
uint32_t media_viewer_ts(const struct media_viewer *v, unsigned t, const struct ring_frame *f);

#endif
