/* SPDX-License-Identifier: MIT */
/* lg.h: the load generator's shared state: options, the viewers (one UDP socket each, or
 * one ICE-TCP connection with --tcp), the bounded pool of set-ups in flight (HTTP + ICE +
 * DTLS), and the receive batch. */
#ifndef LG_H
#define LG_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "rtc/tcpframe.h"
#include "tools/loadgen/lg_dtls.h"
#include "tools/loadgen/lg_http.h"
#include "tools/loadgen/lg_proc.h"
#include "tools/loadgen/lg_rtp.h"
#include "tools/loadgen/lg_sdp.h"
#include "tools/loadgen/lg_stun.h"

#define LG_MAX_CONC  64
#define LG_BATCH     32    /* datagrams per recvmmsg */
#define LG_READY_MAX 128   /* ready sockets served per loop iteration */
#define LG_PKT_MAX   65536 /* receive buffer per datagram: a coalesced one (--gro) too */
#define LG_HDR_PEEK  256   /* bytes read when only the RTP header is wanted */
#define LG_TCP_READS 16    /* reads per ICE-TCP connection per wakeup (about 50 packets) */
/* A catch-up burst (the latest keyframe and the frames since, at once) on a lossy path
 * leaves tens of packets to NACK at once; libwebrtc keeps up to 1,000 and tries each 10
 * times. With 32 the oldest, the keyframe's, were given up and the viewer waited a GOP. */
#define LG_NACK_MAX      128 /* outstanding NACKed sequence numbers per viewer */
#define LG_NACK_TRIES    10
#define LG_NACK_RETRY_MS 100

struct lg_opts {
    const char *url;
    unsigned n;
    unsigned conc;
    const char *local_ip;
    enum lg_srtp_choice srtp;
    double warmup_s, duration_s, setup_timeout_s, max_run_s;
    double drop_pct;
    double nack_flood; /* hostile NACKs per second per viewer, 0 = none */
    unsigned decrypt_every;
    int rcvbuf;
    int server_pid;
    const char *label;
    const char *token;
    int no_delete;
    int per_viewer; /* the report lists each viewer's first-frame time */
    double saturated_pct;
    double max_loss_pct;
    int gro;
    unsigned paths;  /* 0: every viewer posts to the URL; P: viewer i to /NAME<i % P>/... */
    int tcp;         /* ICE-TCP: connect to the answer's passive TCP candidate (RFC 6544) */
    unsigned ips;    /* viewer i's socket on --local-ip + i % ips (a server limits per address) */
    int no_consent;  /* no consent checks of ours after set-up (RRs go on), as pion's agent */
    int regular_nom; /* nominate by a second check, as pion's agent (see lg_setup.nom) */
};

enum lg_vstate { LG_V_IDLE = 0, LG_V_HTTP, LG_V_ICE, LG_V_DTLS, LG_V_MEDIA, LG_V_FAILED };

/* Per-viewer monotonic counters; a copy is taken at the start of the window. */
struct lg_vcount {
    uint64_t pkts, bytes;
    uint64_t expected, unique, dups, late;
    uint64_t dropped, nack_pkts, nack_seqs, recovered, gave_up;
    uint64_t lost_nacked; /* sequence numbers missing on arrival, NACKed */
    uint64_t srtp_errors, rtcp_in;
    uint64_t recover_ms_sum, recover_ms_max; /* drop -> retransmission arrival */
    uint64_t ts_advance; /* RTP timestamp units advanced by new packets: media time received */
    uint64_t flood_bytes, dup_bytes; /* SRTCP bytes of --nack-flood NACKs; wire bytes of dups */
};

struct lg_nack_ent {
    uint16_t seq;
    uint8_t tries;
    uint8_t lost; /* missing on arrival, not dropped on purpose */
    uint64_t dropped_ms;
    uint64_t sent_ms;
};

struct lg_viewer {
    unsigned idx;
    enum lg_vstate state;
    int fd; /* in lg->media_ep once the answer is in */
    struct sockaddr_in laddr, raddr;
    struct tcpframe_rx *rx; /* --tcp: the connection's RFC 4571 reassembly */
    int tcp_connecting;     /* --tcp: connect() in progress, the first check waits for it */
    char ufrag[9], pwd[25];
    char rufrag[LG_ICE_STR_MAX], rpwd[LG_ICE_STR_MAX];
    uint8_t rfp[LG_FP_LEN];
    char location[LG_HTTP_LOCATION_MAX]; /* the session's path, "" for none: no DELETE */
    struct sockaddr_in loc_addr;         /* and its server: public_url behind a balancer */
    char loc_host[80];                   /* Host header of the DELETE */
    struct lg_setup *setup;              /* while setting up */

    srtp_t srtp;
    int tag_len;
    int gcm;
    uint32_t ssrc;       /* ours, for RTCP */
    uint32_t media_ssrc; /* the sender's, from the first packet */
    uint64_t t_answer_ms;
    int64_t first_frame_ms; /* answer -> first complete keyframe; -1 until then */
    /* The newest media packet's arrival, and the longest time within the window without one
     * (a server restart or stall shows here, loss of single packets does not). */
    uint64_t last_rx_ms, gap_ms_max;
    struct lg_seq seq;
    struct lg_keyframe kf;
    unsigned k_ctr;

    /* RFC 3550 A.8 interarrival jitter, and what the next RR reports against. */
    uint32_t jitter_q4; /* jitter in timestamp units * 16 */
    uint32_t last_ts;   /* of the newest packet, for ts_advance */
    int64_t last_transit;
    int has_transit;
    uint64_t rr_expected_prior, rr_unique_prior;
    uint32_t sr_ntp_mid;
    uint64_t sr_at_ms;

    struct lg_nack_ent nack[LG_NACK_MAX];
    unsigned n_nack;
    unsigned nack_unsent;             /* entries not yet NACKed (tries == 0) */
    uint64_t flood_t0_ms, flood_sent; /* --nack-flood: since when, and how many so far */

    struct lg_vcount c, c0;
};

enum lg_req_kind { LG_REQ_POST = 0, LG_REQ_DELETE };

struct lg_setup {
    struct lg *lg;
    struct lg_viewer *v;
    int busy;
    int tcp_open; /* the handle is initialized and its close callback has not run */
    enum lg_req_kind kind;
    uv_tcp_t tcp;
    uv_connect_t conn;
    uv_write_t wr;
    char req[8192];
    size_t req_len;
    uint8_t resp[LG_HTTP_MAX_BODY + 16384];
    size_t resp_len;
    struct lg_dtls dtls;
    uint8_t tid[LG_STUN_TID_LEN];
    uint64_t next_stun_ms;
    /* --regular-nomination, as pion's agent against an ICE-lite server: a first check without
     * USE-CANDIDATE, and once it succeeded the nominating one at the next check tick (200 ms)
     * or at once when the server checks us. Otherwise every check nominates. */
    enum { LG_NOM_ALWAYS = 0, LG_NOM_CHECKING, LG_NOM_VALID, LG_NOM_SENT } nom;
    uint64_t deadline_ms;
};

enum lg_phase {
    LG_P_SETUP = 0,
    LG_P_WAIT_MEDIA,
    LG_P_WARMUP,
    LG_P_WINDOW,
    LG_P_TEARDOWN,
    LG_P_DONE
};

struct lg {
    uv_loop_t *loop;
    struct lg_opts opt;
    struct sockaddr_in http_addr;
    char http_host[80];
    char path[256];
    struct lg_dtls_ctx dtls;
    uint64_t tiebreaker;
    uint64_t rng;

    struct lg_viewer *v;
    unsigned next_setup, next_delete;
    unsigned in_flight, connected, failed, deleted;
    struct lg_setup *slots;
    unsigned n_slots;

    enum lg_phase phase;
    uint64_t t0_ms, setup_done_ms;
    uint64_t slow_slot; /* 100 ms slots of the run handled by the slow timer so far */
    uv_timer_t tick;    /* 20 ms: set-up retransmissions and deadlines */
    uv_timer_t slow;    /* 100 ms: NACK retries, RRs and consent spread over viewers */
    uv_timer_t phase_timer;
    uv_timer_t max_run;
    uv_signal_t sigint, sigterm;

    /* window measurements */
    uint64_t win_start_ms, win_end_ms;
    double self_cpu0, self_cpu1;
    long long rcvbuf_err0, rcvbuf_err1;
    int have_server0, have_server1;
    struct lg_proc_tree srv0, srv1;
    int reported;
    const char *why_stop;

    /* The viewers' sockets, in an epoll set of our own that the loop polls as one handle:
     * each loop iteration then serves at most LG_READY_MAX of them and runs the timers, where
     * one uv_poll per socket let libuv serve up to 48 x 1,024 of them per iteration, and a
     * saturated client froze its RRs, consent checks and set-up timers for seconds. */
    int media_ep;
    uv_poll_t media_poll;

    /* one receive batch shared by all sockets (single-threaded loop) */
    struct mmsghdr msgs[LG_BATCH];
    struct iovec iov[LG_BATCH];
    uint8_t bufs[LG_BATCH][LG_PKT_MAX];
    uint8_t ctrl[LG_BATCH][CMSG_SPACE(sizeof(int))]; /* UDP_GRO: the segment size */
};

uint64_t lg_rand(struct lg *lg);
void lg_rand_str(struct lg *lg, char *out, size_t n);

/* lg_viewer.c */
int lg_viewers_start(struct lg *lg);
int lg_viewer_open(struct lg *lg, struct lg_viewer *v);
void lg_viewer_close(struct lg_viewer *v);
/* A media packet reached v at now_ms: updates its longest gap within the window. */
void lg_viewer_gap(const struct lg *lg, struct lg_viewer *v, uint64_t now_ms);
int lg_viewer_answer(struct lg *lg, struct lg_viewer *v, const uint8_t *sdp, size_t len);
void lg_viewer_setup_tick(struct lg *lg, struct lg_viewer *v, uint64_t now_ms);
void lg_viewer_slow_tick(struct lg *lg, struct lg_viewer *v, uint64_t now_ms, int rr, int consent);
/* --nack-flood: sends the NACKs due by now_ms, each 16 entries naming the viewer's newest
 * packet minus 16 with every BLP bit set (272 requests of 17 packets, about 100 bytes). */
void lg_viewer_flood_tick(struct lg *lg, struct lg_viewer *v, uint64_t now_ms);

/* True if viewer i's turn in a round of period 100 ms slots falls in slots [from, to): the
 * slow timer serves every slot that elapsed since its last run, so that a loop delayed by
 * a flood of media still sends each viewer's RRs and consent checks on time. */
static inline int lg_slot_due(unsigned i, uint64_t from, uint64_t to, unsigned period)
{
    if (to - from >= period)
        return 1;
    return (i % period + period - from % period) % period < to - from;
}

/* lg_whep.c */
int lg_whep_post(struct lg *lg, struct lg_setup *s, struct lg_viewer *v);
int lg_whep_delete(struct lg *lg, struct lg_setup *s, struct lg_viewer *v);
void lg_setup_release(struct lg_setup *s);

/* main.c: host:port into addr (an IPv4 literal or localhost) and host (the Host header).
 * 0 or -EINVAL. */
int lg_resolve(const struct lg_http_url *u, struct sockaddr_in *addr, char *host, size_t hostlen);
/* main.c: a viewer's set-up ended (connected or failed); starts the next one. */
void lg_setup_finished(struct lg *lg, struct lg_viewer *v, int err, const char *what);
void lg_delete_finished(struct lg *lg);

#endif
