/* SPDX-License-Identifier: MIT */
/* rtsp_int.h: state shared by the RTSP pull client's files: the source and its handles
 * (rtsp.c), the control connection (rtsp_conn.c), the request/response exchange
 * (rtsp_request.c), the session's steps (rtsp_session.c) and the media half (rtsp_media.c:
 * RTP/RTCP over interleaved TCP or UDP). Not a public interface: sources are driven through
 * ingest/source.h. */
#ifndef RINGCAST_RTSP_INT_H
#define RINGCAST_RTSP_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "common/config.h"
#include "ingest/ingest.h"
#include "ingest/rtsp.h"
#include "ingest/rtsp_lower.h"
#include "rtsp/auth.h"
#include "rtsp/msg.h"
#include "ingest/rtsp_reorder.h"
#include "ingest/rtsp_rtcp.h"
#include "ingest/rtsp_sdp.h"
#include "ingest/source.h"
#include "shm/ring.h"

#define RTSP_RBUF_SIZE (RTSP_HEAD_MAX + RTSP_BODY_MAX + 4 + 65535)
#define RTSP_UDP_BUF   65536
/* Interleaved media nobody watches (ingest_watched) is read every INGEST_UNWATCHED_MS, all that
 * came at once, rather than a wake-up per segment: meanwhile the socket is readable only past
 * this many bytes (SO_RCVLOWAT; Linux then also clamps the window to it: 1 MiB is 80 Mbit/s at
 * 100 ms RTT). */
#define RTSP_UNWATCHED_LOWAT (1 << 20)

enum rtsp_state {
    RTSP_IDLE = 0, /* between attempts (backoff) */
    RTSP_RESOLVING,
    RTSP_CONNECTING,
    RTSP_OPTIONS,
    RTSP_DESCRIBE,
    RTSP_SETUP,
    RTSP_PLAY,
    RTSP_PLAYING,
    RTSP_TEARDOWN, /* closing: TEARDOWN written, waiting for it to leave */
};

struct rtsp_source;

/* A UDP socket of a track, heap-allocated per session and freed in its close callback. */
struct rtsp_udp {
    uv_udp_t h;
    struct rtsp_source *src;
    unsigned track;
    bool rtcp;
};

struct rtsp_track {
    struct rtsp_source *src;
    struct rtsp_sdp_track sdp;
    int ingest_idx;                      /* ring track, -1 until PLAY succeeded */
    int ch[2];                           /* interleaved channels (RTP, RTCP) */
    struct rtsp_udp *udp[2];             /* UDP mode: RTP and RTCP sockets */
    uint16_t client_port;                /* UDP: our RTP port */
    struct sockaddr_storage server_rtcp; /* UDP: where receiver reports go */
    bool has_server_rtcp;
    struct rtsp_reorder *reorder; /* UDP only, allocated once at create */
    struct rtsp_rx_stats rx;
};

struct rtsp_conn {
    uv_tcp_t tcp; /* first: the close callback gets this pointer */
    uv_connect_t connect;
    struct rtsp_source *src;
};

struct rtsp_source {
    struct source base;
    uv_loop_t *loop;
    struct ingest *ing;
    char path[CONFIG_NAME_MAX];
    struct rtsp_lower lower;  /* TCP or UDP, and under auto what to try next */
    char user[RTSP_CRED_MAX]; /* the credentials of the current attempt */
    char pass[RTSP_CRED_MAX];
    char cfg_user[RTSP_CRED_MAX]; /* path's username/password, for the configured host */
    char cfg_pass[RTSP_CRED_MAX];
    struct rtsp_url origin;     /* the configured URL */
    struct rtsp_url url;        /* the current one (after redirects) */
    char url_str[RTSP_URL_MAX]; /* url without userinfo: request line and logs */

    enum rtsp_state state;
    uv_getaddrinfo_t gai;
    bool gai_busy;
    struct rtsp_conn *conn;
    struct sockaddr_storage peer;
    uv_timer_t timer;         /* connect/reply deadline, or the backoff wait */
    uv_timer_t tick;          /* 1 s while playing: stall, keep-alive, reports, health */
    uv_timer_t reorder_timer; /* UDP: releases held packets */
    uv_timer_t resume;        /* TCP, nobody watching: the end of a pause in reading */
    unsigned open_handles;    /* handles not yet through their close callback */
    void (*done)(void *arg);
    void *done_arg;
    bool closing;

    uint8_t *rbuf;
    size_t rlen;
    struct rtsp_item item; /* the item being dispatched (too big for the stack) */
    uint8_t *udp_buf;      /* one receive buffer, reused for every datagram */

    uint32_t cseq;
    char pending[16]; /* method awaiting its response, "" if none */
    char pending_uri[RTSP_URL_MAX];
    char pending_extra[256]; /* its extra header lines, to resend after a 401 */
    bool pending_had_auth;
    struct rtsp_auth auth;
    bool auth_sent;
    unsigned redirects;
    char session[128];
    unsigned session_timeout;
    bool use_get_parameter;
    struct rtsp_sdp sdp;
    unsigned n_tracks;
    unsigned setup_next;
    struct rtsp_track tracks[RING_MAX_TRACKS];
    uint32_t own_ssrc;

    uint64_t backoff_ms;
    uint64_t play_ns; /* when PLAY succeeded */
    uint64_t last_rtp_ns;
    uint64_t next_keepalive_ns;
    uint64_t next_rr_ns;
};

static inline bool rtsp_udp(const struct rtsp_source *s)
{
    return s->lower.cur == TRANSPORT_UDP;
}

static inline uint64_t rtsp_now_ns(const struct rtsp_source *s)
{
    return uv_now(s->loop) * 1000000ull;
}

/* rtsp.c */
/* Ends the attempt: logs "reason" once (naming path and URL), closes the connection and
 * media sockets, and schedules the next attempt after the backoff. */
void rtsp_fail(struct rtsp_source *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* (Re)starts the deadline of the connect or the pending request: when it passes, the attempt
 * fails (or a TEARDOWN is given up waiting for). */
void rtsp_arm_deadline(struct rtsp_source *s, uint64_t ms);
/* Closes a handle the source owns unless already closing. */
void rtsp_close_handle(uv_handle_t *h, uv_close_cb cb);
/* A close callback's last step: one handle fewer; frees the source when it was the last
 * one of a closing source. */
void rtsp_handle_gone(struct rtsp_source *s);
/* Frees a closing source once no handle and no resolution is left; else nothing. */
void rtsp_finish_if_done(struct rtsp_source *s);
/* The source is leaving: the session ends and every handle it owns is closed. */
void rtsp_shutdown(struct rtsp_source *s);

/* rtsp_conn.c */
/* Resolves the current URL's host and connects; the request sequence starts with OPTIONS. */
void rtsp_conn_start(struct rtsp_source *s);
/* Closes the control connection, if any, and drops what was read but not yet parsed. */
void rtsp_conn_close(struct rtsp_source *s);
/* Writes raw bytes on the connection (requests, answers, interleaved RTCP). 0 or -errno. */
int rtsp_conn_write(struct rtsp_source *s, const uint8_t *p, size_t len);

/* rtsp_request.c */
/* Sends method on uri with the extra header lines and keeps it pending (see the definition).
 * 0 or -errno. */
int rtsp_request_send(struct rtsp_source *s, const char *method, const char *uri,
                      const char *extra);
/* rtsp_request_send, failing the attempt when the request cannot be sent. */
void rtsp_request_or_fail(struct rtsp_source *s, const char *method, const char *uri,
                          const char *extra);
/* A response from the server: matched to the pending request, then acted on. */
void rtsp_request_response(struct rtsp_source *s, const struct rtsp_response *r);
/* A request from the server: answered. */
void rtsp_request_from_server(struct rtsp_source *s, const struct rtsp_request_in *q);

/* rtsp_session.c */
/* Forgets everything of the current session; the next attempt starts from the configured
 * URL again. */
void rtsp_session_reset(struct rtsp_source *s);
/* Sends TEARDOWN when there is a session; false when there is none or it cannot be sent. */
bool rtsp_session_teardown_start(struct rtsp_source *s);
/* The TEARDOWN is out: leave when closing, else connect again. */
void rtsp_session_teardown_done(struct rtsp_source *s);
/* SETUP refused the current lower transport: the other one, or the attempt fails. */
void rtsp_session_lower_refused(struct rtsp_source *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A 2xx answer to the pending request: the sequence's next step. */
void rtsp_session_step(struct rtsp_source *s, const struct rtsp_response *r);

/* rtsp_media.c */
/* The first UDP SETUP: the receive buffer and a reorder buffer per possible track, once
 * (later calls find them). 0 or -ENOMEM; rtsp.c frees them. */
int rtsp_media_udp_alloc(struct rtsp_source *s);
/* Opens the RTP/RTCP socket pair of track i for UDP transport. 0 or -errno. */
int rtsp_media_udp_open(struct rtsp_source *s, unsigned i);
/* Starts receiving after PLAY; the Transport answer gave the server's ports. */
int rtsp_media_udp_start(struct rtsp_source *s, unsigned i);
/* Closes the media sockets and forgets held packets. */
void rtsp_media_stop(struct rtsp_source *s);
/* One interleaved frame from the TCP stream. */
void rtsp_media_interleaved(struct rtsp_source *s, uint8_t channel, const uint8_t *p, size_t len);
/* Sends a receiver report for every track (UDP to the server's RTCP port, or interleaved). */
void rtsp_media_send_reports(struct rtsp_source *s, uint64_t now_ns);

#endif
