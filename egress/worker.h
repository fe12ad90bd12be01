/* worker.h: one egress worker process: its libuv loop, config, control-segment slot and
 * heartbeat, signals, the UDP media socket and its demultiplexing by first byte (RFC 7983),
 * the session lifecycle (ICE -> DTLS -> media -> end), and the per-worker unix datagram
 * socket through which other workers forward DELETEs for sessions this worker owns. */
#ifndef RINGCAST_EGRESS_WORKER_H
#define RINGCAST_EGRESS_WORKER_H

#include <stdint.h>
#include <uv.h>

#include "common/config.h"
#include "egress/dtls.h"
#include "egress/http.h"
#include "egress/media.h"
#include "egress/sdp_answer.h"
#include "egress/viewer.h"
#include "shm/ctl.h"

#define WORKER_CONSENT_TIMEOUT_MS 30000 /* RFC 7675 5.1: consent expires after 30 s */

struct worker {
    uv_loop_t *loop;
    struct config cfg;
    unsigned index;
    uint16_t udp_port;
    struct ctl ctl;
    struct ctl_child *slot;
    struct ctl_counters *counters;
    uv_timer_t tick; /* heartbeat and consent sweep */
    uv_signal_t sigint, sigterm, sighup;
    uv_poll_t udp_poll; /* the media socket: recvmmsg with IP_PKTINFO */
    int udp_fd;
    int udp_v6;         /* the media socket is dual-stack IPv6 (else IPv4 only) */
    uv_poll_t fwd_poll; /* DELETE forwarding socket */
    int fwd_fd;
    struct httpd_server http;
    struct dtlsrv_ctx *dtls;
    struct media_worker *media;
    struct viewer_table viewers;
    char candidates[ANSWER_MAX_CANDIDATES][64];
    size_t n_candidates;
    uint64_t drops_unknown; /* datagrams from unvalidated addresses or of no known kind */
    int stopping;
    int open_handles;
};

/* Sets up everything and starts serving on loop. slot < 0 runs standalone (a private
 * control segment, the viewer count then shows in GET /v1/status and the log). Returns 0
 * or -errno with a reason in err (port in use, bad address, ...). */
int worker_init(struct worker *w, uv_loop_t *loop, const struct config *cfg, unsigned index,
                int slot, char *err, size_t errlen);

/* Ends every session and closes all handles; run the loop afterwards to let them close. */
void worker_shutdown(struct worker *w);
/* Releases what worker_init allocated outside the loop (after the loop has drained). */
void worker_free(struct worker *w);

/* Ends a session: stops media, frees DTLS, releases the slot; logs reason with the peer. */
void worker_end_session(struct worker *w, struct viewer *v, const char *reason);

/* Asks worker index to end session (it owns it); its answer (200 or 404) completes the
 * deferred HTTP request token. 0 or -errno (the owner is unreachable). */
int worker_forward_delete(struct worker *w, unsigned index, const char *session, uint64_t token);

#endif
