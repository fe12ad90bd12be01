/* SPDX-License-Identifier: MIT */
/* rtspd.h: the worker's RTSP server (DESIGN.md "RTSP server"): rtsp_listen bound with
 * SO_REUSEPORT by every worker, a fixed table of connections, each at most one session
 * (DESCRIBE, SETUP, PLAY, keep-alives, TEARDOWN) whose reader is a plain-RTP media viewer
 * sending interleaved frames into the connection's bounded queue (tcpq.h), or datagrams to the
 * client's ports from the worker's RTSP UDP sockets (rtspd_udp.h). A publisher's
 * ANNOUNCE to a `source = publish` path is authorized here and its connection handed to the
 * path's ingest (common/handover.h). Limits: connections in total and per address, a PLAY
 * within RTSPD_PLAY_MS, the session timeout, malformed requests. */
#ifndef RINGCAST_EGRESS_RTSPD_H
#define RINGCAST_EGRESS_RTSPD_H

#include <stdint.h>
#include <uv.h>

#include "egress/media.h"
#include "egress/tcpq.h"
#include "egress/viewer.h"
#include "rtsp/msg.h"

#define RTSPD_CONNS       1000  /* connections per worker */
#define RTSPD_PER_ADDRESS 64    /* from one IP address */
#define RTSPD_PLAY_MS     10000 /* a connection that has not played by then is closed */
#define RTSPD_TIMEOUT_S   60    /* session timeout: no request or RTCP for this long */
#define RTSPD_BAD_MAX     3     /* malformed requests (each answered 400), then closed */
/* Bytes read and not yet parsed: a whole request, or an interleaved frame from the client. */
#define RTSPD_RX (RTSP_REQ_HEAD_MAX + RTSP_REQ_BODY_MAX)

enum rtspd_state { RTSPD_FREE = 0, RTSPD_OPEN, RTSPD_CLOSING };
/* A session's lower transport, the same for all its tracks (set by its first SETUP). */
enum rtspd_lower { RTSPD_LOWER_NONE = 0, RTSPD_LOWER_TCP, RTSPD_LOWER_UDP };

struct rtspd_conn {
    uv_poll_t poll;
    int fd;
    uint8_t state;   /* enum rtspd_state */
    uint8_t writing; /* the poll also waits for writability (the queue is not empty) */
    uint8_t bad;     /* malformed requests so far */
    uint8_t playing; /* the session's viewer is started */
    uint8_t lower;   /* enum rtspd_lower */
    int32_t next_free;
    union viewer_addr peer;
    uint64_t open_ns, rx_ns;
    struct worker *w;
    struct tcpq q;
    /* The session (session[0] == 0: none yet): its path, the tracks set up, the reader. */
    char session[17];
    char path[64];
    char authorized[64]; /* the path whose read_token this connection presented */
    char nonce[33];      /* Digest nonce of this connection's 401s to a publisher, "" until then */
    struct media_track_params tracks[MEDIA_MAX_TRACKS];
    struct media_udp udp; /* RTSPD_LOWER_UDP: where each track's RTP and RTCP go */
    struct media_viewer v;
    size_t rx_len;
    uint8_t rx[RTSPD_RX];
};

struct rtspd {
    int fd; /* the listening socket, -1 when the RTSP server is off */
    uv_poll_t poll;
    struct rtspd_conn *c; /* RTSPD_CONNS */
    int32_t free_head;
    int32_t fresh; /* connections [fresh, RTSPD_CONNS) were never used: free, unlinked (their
                      pages are touched only when used) */
    unsigned n_open;
    /* Readers over UDP (rtspd_udp.h): the RTP and RTCP sockets (-1: none), the RTP one's port
     * (RTCP's is the next), whether they are IPv6, which polls are open (bits). */
    int udp_fd[2];
    uint16_t udp_port;
    uint8_t udp_v6;
    uint8_t udp_polling;
    uv_poll_t udp_poll[2];
};

struct worker;

/* Listens on the config's rtsp_listen (nothing when it is off) on w's loop. 0 or -errno. */
int rtspd_open(struct worker *w);
/* Ends every session and closes every connection and the listener's poll (the worker stops). */
void rtspd_shutdown(struct worker *w);
/* Frees the table and closes the listening socket, after the loop drained. */
void rtspd_free(struct worker *w);
/* Closes connections past their PLAY deadline or session timeout. */
void rtspd_tick(struct worker *w, uint64_t now_ns);

#endif
