/* SPDX-License-Identifier: MIT */
/* worker.h: one egress worker process: its libuv loop, config, control-segment slot and
 * heartbeat, signals, the UDP media socket (demux.h), ICE-TCP (icetcp.h), the RTSP server
 * (rtspd.h), the WHEP session lifecycle
 * (ICE -> DTLS -> media -> end), and the per-worker unix datagram socket through which other
 * workers forward DELETEs for sessions this worker owns (forward.h). */
#ifndef RINGCAST_EGRESS_WORKER_H
#define RINGCAST_EGRESS_WORKER_H

#include <stdint.h>
#include <uv.h>

#include "common/config.h"
#include "rtc/dtlsrv.h"
#include "rtc/hostcand.h"
#include "egress/forward.h"
#include "egress/icetcp.h"
#include "egress/rtspd.h"
#include "common/httpd.h"
#include "egress/media.h"
#include "egress/ondemand.h"
#include "egress/sdp_answer.h"
#include "egress/viewer.h"
#include "shm/ctl.h"
#include "shm/sessions.h"

#define WORKER_SETUP_TIMEOUT_MS 10000 /* a set-up with no ICE check for this long is dropped */

/* Bits of worker.open_handles: which handles worker_shutdown must close. */
#define WORKER_OPEN_BASE 0x1 /* tick timers and the four signals, started together */
#define WORKER_OPEN_UDP  0x2 /* media socket poll */
#define WORKER_OPEN_TCP  0x4 /* ICE-TCP listener poll */
#define WORKER_OPEN_RTSP 0x8 /* RTSP listener poll */

struct worker {
    uv_loop_t *loop;
    struct config cfg;
    unsigned index;
    uint16_t udp_port;
    uint16_t tcp_port; /* ICE-TCP listener, 0 = off */
    struct ctl ctl;
    struct ctl_child *slot;
    struct ctl_counters *counters;
    uv_timer_t tick; /* heartbeat and consent sweep */
    uv_signal_t sigint, sigterm, sighup, sigusr2;
    uv_poll_t udp_poll; /* the media socket: recvmmsg with IP_PKTINFO */
    int udp_fd;
    int udp_v6;         /* the media socket is dual-stack IPv6 (else IPv4 only) */
    struct conntab tcp; /* ICE-TCP listener and connections (icetcp.h) */
    struct rtspd rtsp;  /* RTSP server: listener, connections, readers (rtspd.h) */
    struct forward fwd; /* DELETEs to and from the other workers (forward.h) */
    struct ondemand od; /* offers held for on-demand sources */
    struct httpd_server http;
    struct dtlsrv_ctx *dtls;
    struct media_worker *media;
    struct viewer_table viewers;
    struct sessions sessions; /* the settled sessions a successor adopts (egress/adopt.h) */
    char candidates[ANSWER_MAX_CANDIDATES][HOSTCAND_ADDR_MAX];
    size_t n_candidates;
    uint64_t drops_unknown; /* datagrams from no session's pair or of no known kind */
    int32_t predecessor;    /* a planned handover: the pid of the worker we replace, else 0 */
    int stopping;
    int handed_over; /* stopped for a successor: the session table stays (egress/adopt.h) */
    int open_handles;
};

/* The file descriptors one worker under cfg may hold at once: its connection caps (HTTP,
 * ICE-TCP, the RTSP server's) and what it opens at start. */
unsigned long worker_fd_need(const struct config *cfg);

/* Sets up everything and starts serving on loop. slot < 0 runs standalone (a private
 * control segment, the viewer count then shows in GET /v1/status and the log). predecessor > 0
 * is a planned handover from that running worker of our index: our sockets join its
 * SO_REUSEPORT groups, it is asked to stop (SIGUSR2) once they are bound, and its sessions are
 * adopted once it has let its table go. Returns 0 or -errno with a reason in err (port in
 * use, bad address, ...). */
int worker_init(struct worker *w, uv_loop_t *loop, const struct config *cfg, unsigned index,
                int slot, int32_t predecessor, char *err, size_t errlen);

/* Ends every session and closes all handles; run the loop afterwards to let them close. */
void worker_shutdown(struct worker *w);
/* SIGUSR2, from a successor: records every session that can be adopted, stops sending, closes
 * the media and forwarding sockets, marks the table released for the successor and closes all
 * handles like worker_shutdown, without ending those sessions. ICE-TCP sessions, RTSP readers
 * and set-ups end (their connections or handshakes are this process's). */
void worker_handover(struct worker *w);
/* Releases what worker_init allocated outside the loop (after the loop has drained). */
void worker_free(struct worker *w);

/* Whether the address (AF_INET: 4 bytes, AF_INET6: 16) is one of trusted_proxies: a TURN
 * server, a load balancer, a NAT pool or the edges pulling from this origin put many clients
 * behind one address, so the limits per address do not apply to it. */
bool worker_trusted_proxy(const struct worker *w, int family, const void *addr);

/* Ends a session: stops media, frees DTLS, releases the slot; logs reason with the peer. */
void worker_end_session(struct worker *w, struct viewer *v, const char *reason);

/* Watches fd for reading with poll (the handle's memory is in w); bit (WORKER_OPEN_*) records
 * it as open for worker_shutdown. 0 or a libuv error. */
int worker_poll_readable(struct worker *w, uv_poll_t *poll, int fd, int bit, uv_poll_cb cb);

#endif
