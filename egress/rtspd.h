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

#include "egress/conntab.h"
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

/* A session's lower transport, the same for all its tracks (set by its first SETUP). */
enum rtspd_lower { RTSPD_LOWER_NONE = 0, RTSPD_LOWER_TCP, RTSPD_LOWER_UDP };

/* One connection: the table's part (conntab.h, with the send queue), then the RTSP
 * session's. */
struct rtspd_conn {
    struct conntab_conn base;
    uint8_t bad;     /* malformed requests so far */
    uint8_t playing; /* the session's viewer is started */
    uint8_t lower;   /* enum rtspd_lower */
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
    struct conntab tab; /* the listener (fd -1 when the server is off) and connections */
    /* Readers over UDP (rtspd_udp.h): the RTP and RTCP sockets (-1: none), the RTP one's port
     * (RTCP's is the next), whether they are IPv6, which polls are open (bits). */
    int udp_fd[2];
    uint16_t udp_port;
    uint8_t udp_v6;
    uint8_t udp_polling;
    uv_poll_t udp_poll[2];
};

static inline struct rtspd_conn *rtspd_at(const struct rtspd *r, int32_t i)
{
    return (struct rtspd_conn *)conntab_at(&r->tab, i);
}

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
