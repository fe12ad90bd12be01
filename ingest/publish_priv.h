/* SPDX-License-Identifier: MIT */
/* publish_priv.h: the publish source's state, shared by publish.c (the handover socket, the
 * RTSP session and its requests) and publish_media.c (its RTP and RTCP, over the connection or
 * UDP). Not for other modules: they use publish.h. */
#ifndef RINGCAST_INGEST_PUBLISH_PRIV_H
#define RINGCAST_INGEST_PUBLISH_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "common/handover.h"
#include "common/log.h"
#include "ingest/publish.h"
#include "ingest/rtsp_reorder.h"
#include "ingest/rtsp_rtcp.h"
#include "ingest/rtsp_sdp.h"
#include "rtsp/msg.h"
#include "shm/ring.h"

#define PUB_RX         (4 + 65535 + RTSP_REQ_HEAD_MAX + RTSP_REQ_BODY_MAX) /* a frame or a request */
#define PUB_TX         4096      /* answers not yet taken by the socket */
#define PUB_READS      16        /* reads per wakeup, then yield */
#define PUB_UDP_READS  64        /* datagrams per socket per wakeup, then yield */
#define PUB_UDP_BUF    65536     /* one datagram (loopback's MTU is 64 KiB) */
#define PUB_UDP_RCVBUF (4 << 20) /* a keyframe's burst while the loop is busy */
#define PUB_PUBLIC     "Public: OPTIONS, ANNOUNCE, SETUP, RECORD, GET_PARAMETER, TEARDOWN\r\n"

struct publish;
struct pub_conn;

enum pub_lower { PUB_LOWER_NONE = 0, PUB_LOWER_TCP, PUB_LOWER_UDP };

/* One UDP socket of a track recorded over UDP; freed in its close callback. */
struct pub_udp {
    uv_poll_t poll; /* first: the close callback gets this pointer */
    struct pub_conn *c;
    int fd;
    unsigned track;
    bool rtcp;
};

struct pub_track {
    struct pub_conn *c;
    int sdp;                      /* index in the connection's SDP */
    int ch;                       /* interleaved RTP channel (RTCP on ch + 1), -1 until SETUP */
    int ingest_idx;               /* ring track once recording, else -1 */
    struct pub_udp *udp[2];       /* UDP: our RTP and RTCP sockets */
    struct sockaddr_storage rtcp; /* UDP: where receiver reports go (its client_port + 1) */
    uint16_t port;                /* UDP: our RTP port */
    struct rtsp_reorder *reorder; /* UDP: allocated at SETUP, freed with the connection */
    struct rtsp_rx_stats rx;      /* for receiver reports and the lost count */
};

/* One publisher's connection. Heap-allocated per connection (a handful per path's life),
 * freed when the last of its handles (the connection's poll, the UDP sockets') is closed. */
struct pub_conn {
    uv_poll_t poll;
    struct publish *pub;
    int fd;
    unsigned handles; /* open libuv handles */
    char peer[64];
    char session[17];
    bool recording, closing, writing;
    enum pub_lower lower;
    struct sockaddr_storage peer_sa, local_sa;
    uint32_t own_ssrc;
    uint64_t since_ns, rx_ns, media_ns, bytes;
    uint64_t foreign; /* UDP datagrams from another host, dropped */
    unsigned n_tracks;
    struct pub_track tracks[RING_MAX_TRACKS];
    struct rtsp_sdp sdp;
    size_t tx_len, rx_len;
    uint8_t tx[PUB_TX];
    uint8_t rx[PUB_RX];
};

struct publish {
    struct source base;
    uv_loop_t *loop;
    const struct config *cfg;
    struct ingest *ing;
    char path[CONFIG_NAME_MAX];
    bool override;
    char prefix[64];
    const struct ctl_hdr *ctl;
    int lfd;
    uv_poll_t lpoll;
    uv_timer_t tick;
    uv_timer_t reorder_timer; /* UDP: releases held packets of the live publisher */
    struct pub_conn *live;    /* the connection that owns the path (announced), or NULL */
    struct whip *whip;        /* WHIP publishers (their session owns the path while it exists) */
    unsigned open_handles;
    bool closing;
    void (*done)(void *arg);
    void *done_arg;
    uint64_t refused;
    struct log_limit refused_log;
    uint8_t hbuf[HANDOVER_BYTES_MAX];
    _Alignas(8) uint8_t ubuf[PUB_UDP_BUF]; /* one datagram at a time */
};

/* publish.c */
uint64_t pub_now_ns(void);
/* Answers q (NULL: none to answer) with status and headers, then closes c. */
void pub_conn_refuse(struct pub_conn *c, int status, const struct rtsp_request *q,
                     const char *headers, const char *why);
void pub_conn_close(struct pub_conn *c, const char *why);
/* Sends what c->tx holds as far as the socket takes it: 0 or -errno. */
int pub_conn_flush(struct pub_conn *c);
void pub_conn_watch(struct pub_conn *c, bool writing);

/* publish_media.c */
/* One interleaved frame of channel ch. False when c was closed. */
bool pub_frame(struct pub_conn *c, uint8_t ch, const uint8_t *d, size_t len);
/* Opens track k's UDP socket pair and starts reading it. 0 or -errno. */
int pub_udp_open(struct pub_conn *c, unsigned k);
/* Receiver reports of t go to the publisher's host at rtcp_port. */
void pub_udp_dest(struct pub_conn *c, struct pub_track *t, uint16_t rtcp_port);
/* Receiver reports to the publisher, and its figures to the control slot (every second). */
void pub_send_reports(struct pub_conn *c);
/* The path's reorder timer: releases held packets of the live publisher. */
void pub_reorder_timer_cb(uv_timer_t *h);

#endif
