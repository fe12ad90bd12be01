/* SPDX-License-Identifier: MIT */
/* media.h: the egress data plane, the contract between the control plane (whep: HTTP, ICE,
 * DTLS, session table) and the media side (rings, packetization, SRTP, RTCP, NACK, sending).
 * whep owns sockets and session memory; media owns the rings, the send path and RTCP. */
#ifndef RINGCAST_MEDIA_H
#define RINGCAST_MEDIA_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <uv.h>

#include "common/config.h"
#include "rtc/esrtp.h"
#include "shm/ctl.h"
#include "shm/ring.h"

#define MEDIA_MAX_TRACKS RING_MAX_TRACKS
#define MEDIA_MID_MAX    16
/* Packets whose last retransmission a viewer remembers (per epoch, indexed by SRTP index
 * modulo this): far more than are resent within two RTTs. */
#define MEDIA_RTX_WINDOW 1024

/* Send-path behaviour a viewer observes (the tests check these figures). */
#define MEDIA_CATCHUP_COMPRESS 8 /* catch-up frames play this many times faster */
/* Retransmission budget: a viewer's resent payload bytes refill at the path's bitrate up to
 * its largest recent keyframe (what one loss burst may need), each at least the floor, so
 * that a tiny stream still recovers; the path's figures are measured once a second. */
#define MEDIA_RTX_RATE_MIN  (256000 / 8) /* bytes per second */
#define MEDIA_RTX_BURST_MIN (64 << 10)

/* ---- per path: what the SDP answer needs ---- */

struct media_track_info {
    uint8_t index;  /* ring track index: the key for media_track_params below */
    uint32_t codec; /* enum ring_codec */
    uint32_t clock_rate;
    uint32_t channels;
    char profile_level_id[7]; /* H.264: from the current SPS ("42e01f"), else "" */
    char fmtp[RING_FMTP_MAX]; /* the source's fmtp, informational */
    uint32_t params_len;      /* current parameter sets, Annex-B (an RTSP DESCRIBE's sprop-*) */
    uint8_t params[RING_PARAMS_MAX];
};

struct media_worker;

/* Fills out[] with the declared tracks of path's ring (opening the ring if needed).
 * Returns the number of tracks (>= 1), -ENOENT when the path has no ring yet (no ingest
 * running, or it has not declared a track), or another -errno. */
int media_path_tracks(struct media_worker *w, const char *path,
                      struct media_track_info out[MEDIA_MAX_TRACKS]);

/* When the latest keyframe of path's first video track (of an audio-only path: its latest
 * frame) reached the ring, CLOCK_MONOTONIC, into *arrival_ns. 0, or -ENOENT when the path has
 * no ring or no such frame yet, or another -errno. An offer waits for that keyframe: the ring's
 * writer is asked to write each frame as it comes from now (the lease a viewer holds). */
int media_path_key_arrival(struct media_worker *w, const char *path, uint64_t *arrival_ns);

/* ---- per viewer ---- */

enum media_track_flags {
    MEDIA_TRACK_SEND = 1u << 0, /* negotiated: send this ring track */
    MEDIA_TRACK_NACK = 1u << 1, /* a=rtcp-fb:PT nack */
    MEDIA_TRACK_PLI = 1u << 2,  /* a=rtcp-fb:PT nack pli */
};

/* What the SDP negotiation settled for one ring track (indexed by ring track index). */
struct media_track_params {
    uint8_t flags;            /* enum media_track_flags; 0 = not sent */
    uint8_t pt;               /* the offer's payload type for this codec */
    uint8_t playout_delay_id; /* RFC 8285 one-byte id of http://www.webrtc.org/experiments/
                                 rtp-hdrext/playout-delay, 0 = not offered */
    uint8_t mid_id;           /* id of urn:ietf:params:rtp-hdrext:sdes:mid, 0 = not offered */
    char mid[MEDIA_MID_MAX];  /* the m-section's mid (sent in the extension when mid_id) */
    uint8_t channel;          /* RTSP over TCP: RTP's interleaved channel, RTCP's is the next */
};

/* An RTSP reader over UDP (RFC 2326 12.39 client_port): the datagram of interleaving channel c
 * (2N: track N's RTP, 2N+1: its RTCP; media_track_params.channel) goes to dst[c] from fd[c & 1],
 * the worker's RTSP RTP and RTCP sockets. Nothing is queued: a datagram the socket does not
 * take is lost, as on the network. */
struct media_udp {
    int fd[2];
    socklen_t len; /* of each dst */
    union {
        struct sockaddr sa;
        struct sockaddr_in in;
        struct sockaddr_in6 in6;
    } dst[2 * MEDIA_MAX_TRACKS];
};

/* Everything whep knows once DTLS has completed. Copied by media_viewer_start. */
struct media_viewer_params {
    const char *path;              /* path name (the URL segment) */
    const struct sockaddr *remote; /* validated ICE address; sendto target */
    struct tcpq *tcp; /* an ICE-TCP pair: its connection's send queue (RFC 4571 frames); an RTSP
                         reader's connection (plain RTP: interleaved frames); else NULL */
    const struct media_udp *udp; /* an RTSP reader over UDP: per-channel destinations (borrowed:
                                    its owner keeps it alive until media_viewer_stop), else NULL */
    socklen_t remote_len;
    uint32_t local_addr;   /* our IPv4 address its checks arrived at (network order): media
                              leaves from it (IP_PKTINFO), as ICE requires; 0 = kernel's choice */
    uint16_t srtp_profile; /* enum esrtp_profile; 0: plain RTP (an RTSP reader) */
    const uint8_t *keying; /* exported keying material, RFC 5764 4.2 layout */
    size_t keying_len;     /* esrtp_keying_len(srtp_profile) */
    struct media_track_params tracks[MEDIA_MAX_TRACKS];
};

/* Per viewer and per track, settled state: plain fixed-size fields, no pointers, so the
 * record could later live in a per-worker shm session table and be adopted by a restarted
 * worker (DESIGN.md "Per viewer: no copies"). */
struct media_viewer_track {
    struct media_track_params p;
    uint32_t codec;           /* the ring codec when the viewer started (what its answer offered) */
    uint32_t ssrc;            /* random, chosen by media_viewer_init; put in the answer */
    uint32_t ts_offset;       /* live: viewer ts = ring ts + ts_offset (reset after catch-up) */
    uint32_t last_rtp_ts;     /* last RTP timestamp sent (viewer numbering), for SR */
    uint64_t last_ring_ts_ns; /* arrival time of the frame last sent, for SR extrapolation */
    uint64_t pkts_sent;       /* RTP packets and payload octets, for SR (RFC 3550 6.4.1) */
    uint64_t octets_sent;
    uint32_t last_sr_ntp_mid;  /* middle 32 bits of our last SR's NTP time (for RTT) */
    uint32_t rr_fraction_lost; /* from the last RR block about this SSRC (0..255) */
    int32_t rr_cum_lost;
    uint32_t rr_jitter;    /* in timestamp units */
    uint32_t rtt_us;       /* from the last RR's LSR/DLSR; 0 = unknown */
    uint32_t last_ring_ts; /* ring timestamp of the frame last sent */
    /* Catch-up (video): frames in [cu_start, cu_end) were sent with timestamps compressed
     * around the keyframe's (cu_ring_ts -> cu_out_ts); a NACK for them recomputes these. */
    uint64_t cu_start;
    uint64_t cu_end; /* 0 while catching up */
    uint32_t cu_ring_ts;
    uint32_t cu_out_ts;
    /* SRTP packet index (its SEQ is the RTP sequence number) of each global packet number,
     * and which may be sent again: rtc/esrtp.h. */
    struct esrtp_index idx;
    uint8_t rebase;  /* a replaced ring: continue the timestamps at the next frame */
    uint8_t ext_len; /* the RTP header extension block built from p (RFC 8285) */
    uint8_t ext[29];
};

enum media_viewer_state {
    MEDIA_VIEWER_IDLE = 0, /* initialised, not started */
    MEDIA_VIEWER_CATCHUP,  /* sending from the latest keyframe towards the live edge */
    MEDIA_VIEWER_LIVE,     /* following the path's live cursor */
};

struct media_viewer_rec {
    uint8_t remote[sizeof(struct sockaddr_storage)]; /* struct sockaddr of remote_len bytes */
    uint32_t remote_len;
    uint32_t local_addr; /* source address (network order), 0 = any */
    uint16_t srtp_profile;
    uint8_t state;    /* enum media_viewer_state */
    uint8_t wait_key; /* send no video until the next keyframe */
    uint8_t keying_len;
    uint8_t pad0[3];
    uint8_t keying[ESRTP_KEYING_MAX];
    char path[CONFIG_NAME_MAX];
    uint64_t next_frame; /* ring position: sequence number of the next frame to send */
    uint64_t start_ns;   /* media_viewer_start time */
    uint64_t next_sr_ns; /* when the next sender report is due */
    uint64_t nacks;      /* NACKed packets, retransmitted, missed, PLI+FIR */
    uint64_t retransmits;
    uint64_t nack_misses;
    uint64_t plis;
    uint64_t send_drops;
    uint64_t nack_refused; /* resent within the RTT already, or over the budget */
    /* Retransmission budget (payload bytes; one packet of debt is allowed) and when it was
     * last refilled (0: never). */
    int64_t rtx_tokens;
    uint64_t rtx_refill_ns;
    /* Packets resent in this epoch ([0]) and the one before ([1]), by SRTP index (xor the
     * track) mod MEDIA_RTX_WINDOW. An epoch lasts an RTT and a marked packet is refused: one
     * resent less than an RTT ago is always marked, one resent two RTTs ago never is. */
    uint64_t rtx_epoch_ns;
    uint8_t rtx_sent[2][MEDIA_RTX_WINDOW / 8];
    struct media_viewer_track tracks[MEDIA_MAX_TRACKS];
};

struct media_path;
struct esrtp;
struct tcpq;

/* The record plus runtime handles rebuilt from it. whep embeds or allocates this and keeps
 * it in place from media_viewer_init to media_viewer_stop. */
struct media_viewer {
    struct media_viewer_rec rec;
    /* runtime, owned by media: */
    struct esrtp *srtp;          /* SRTP/SRTCP state (rtc/esrtp.h), NULL until started */
    struct tcpq *tcp;            /* ICE-TCP: packets go to this connection's queue (whep's) */
    const struct media_udp *udp; /* an RTSP reader over UDP: its destinations (rtspd's) */
    struct media_path *path;
    struct media_viewer *prev, *next; /* the path's viewer list */
    void *user;                       /* whep's session, untouched by media */
    /* The session table's progress word for this viewer (shm/sessions.h), or NULL: media
     * stores rec.next_frame there before it numbers a frame's packets. */
    _Atomic uint64_t *progress;
    bool dirty; /* the record changed: media_worker's hook is due */
};

/* Zeroes v and draws random SSRCs, sequence and timestamp offsets per track. Call when the
 * offer arrives: the answer lists rec.tracks[i].ssrc. */
void media_viewer_init(struct media_viewer *v);

/* Starts sending path's media to the viewer (after DTLS): copies params into the record,
 * creates the SRTP contexts (none for srtp_profile 0: an RTSP reader), attaches to the path's ring
 * (opened lazily), and positions at the latest keyframe. Returns 0, -ENOENT (no ring for the path),
 * -EPROTONOSUPPORT (SRTP profile), -EINVAL (bad keying length or address) or -ENOMEM. Logs nothing:
 * the caller logs with the peer's address. */
int media_viewer_start(struct media_worker *w, struct media_viewer *v,
                       const struct media_viewer_params *p);

/* The viewer could not decrypt what it was sent so far (it had not got our last DTLS flight):
 * starts it again at the latest keyframe, its sequence numbers and timestamps continuing after
 * the last ones sent (nothing sent before is retransmitted under its old number). */
void media_viewer_restart(struct media_worker *w, struct media_viewer *v);

/* Sends the viewer's media, retransmissions and reports to remote from now on (the session
 * moved to another candidate pair): local is the source address to use and tcp the pair's
 * connection queue (NULL for UDP), as in the params. */
void media_viewer_move(struct media_worker *w, struct media_viewer *v,
                       const struct sockaddr *remote, socklen_t remote_len, uint32_t local_addr,
                       struct tcpq *tcp);

/* Writes every queued datagram and ICE-TCP frame now (before a connection the batch may
 * point at closes). */
void media_flush(struct media_worker *w);

/* Stops sending and frees the runtime handles; v may then be freed. Idempotent; safe on
 * an initialised but never started viewer. */
void media_viewer_stop(struct media_worker *w, struct media_viewer *v);

/* One RTP/RTCP datagram (first byte 128..191, RFC 7983) from the viewer's validated address:
 * SRTCP unprotect (plain RTCP from an RTSP reader), then RR -> loss/jitter/RTT, generic NACK ->
 * packets rebuilt from the ring and resent (sent once the loop's I/O phase is over, together with
 * those of the other datagrams read meanwhile), PLI/FIR -> keyframe request to the ingest. Returns
 * 0 or -errno
 * (-EBADMSG for undecryptable or malformed input; counted, the caller need not log). pkt is not
 * kept. */
int media_input(struct media_worker *w, struct media_viewer *v, const uint8_t *pkt, size_t len);

/* What a restarted worker knows of a viewer its predecessor served, beyond the params: v->rec
 * holds the recorded per-track state (SSRCs, offsets, SRTP indexes, catch-up) and next_frame its
 * predecessor's last ring position (the progress word); pkt_floor[t] the lowest global packet
 * number of track t it could still number when the record was taken (rtc/esrtp.h). */
struct media_resume {
    uint64_t ring_ident; /* ring_reader_ident of the ring the record was taken on */
    uint64_t pkt_floor[MEDIA_MAX_TRACKS];
};

/* Adopts such a viewer: SRTP from the recorded keys (no DTLS), each sent track's indexes
 * continuing above all its predecessor may have used (esrtp_index_bound), media resuming
 * with the frame after the last one it was sent, or at the next keyframe when that has left the
 * ring. 0, -ESTALE (the ring was replaced), -ERANGE (the record does not match the ring), or
 * media_viewer_start's errors. */
int media_viewer_resume(struct media_worker *w, struct media_viewer *v,
                        const struct media_viewer_params *p, const struct media_resume *rs);

/* What a record of v needs that is the ring's: the ring's identity and each track's lowest
 * global packet number v may still number (0 if unknown). */
void media_viewer_resume_info(const struct media_viewer *v, struct media_resume *rs);

/* ---- per worker ---- */

/* fn(arg, v) is called whenever a started viewer's record changed in a way a successor must
 * know (a ring replaced, a restart, the catch-up ending, ...): at once when it changes the
 * SRTP numbering, else once the wakeup's sending is done. */
void media_worker_on_change(struct media_worker *w, void (*fn)(void *arg, struct media_viewer *v),
                            void *arg);

/* Creates the worker's media state on loop. cfg and ctl are borrowed and must outlive the
 * worker. counters is the worker's slot counters (ctl_slot(...)->counters). udp_fd is the
 * worker's media socket (owned by whep; media sends on it with MSG_DONTWAIT and raises its
 * SO_SNDBUF; ICE-TCP viewers' packets go to their queue instead, struct tcpq, whose owner
 * keeps it alive while a viewer sends to it). The doorbells of the rings of paths with viewers
 * wake it, all through one set (shm/doorbell.h). Returns 0 and *out, or -errno. */
int media_worker_init(struct media_worker **out, uv_loop_t *loop, const struct config *cfg,
                      struct ctl *ctl, struct ctl_counters *counters, int udp_fd);

/* Stops every viewer still attached (their records stay valid), closes rings, the doorbell set
 * and timers. Memory is released from the handles' close callbacks: run the loop afterwards
 * (uv_run(loop, UV_RUN_DEFAULT) returns once everything closed). Tolerates NULL. */
void media_worker_free(struct media_worker *w);

/* Viewers currently started on this worker (also kept in counters->viewers, which media
 * maintains; whep counts sessions_total). */
unsigned media_worker_viewers(const struct media_worker *w);

#endif
