/* SPDX-License-Identifier: MIT */
/* worker.c: the egress worker process around its parts (demux.c: the media socket, ICE,
 * DTLS; forward.c: DELETEs between workers; media.h: the data plane; whep.c: HTTP): set-up
 * and shutdown, session teardown (DELETE, set-up or consent expiry, DTLS failure), the
 * heartbeat, signals and reload, and the ICE candidates it offers (UDP, and passive TCP on
 * icetcp.c's listener). */
#include "egress/worker.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "egress/adopt.h"
#include "egress/demux.h"
#include "egress/forward.h"
#include "egress/whep.h"

#define WORKER_TICK_MS        500
#define WORKER_DTLS_SETTLE_MS 10000 /* free DTLS state this long after media started */
/* What a worker opens at start: stdio, the loop's epoll, its signal pipes and eventfd, the
 * media, RTSP UDP, forwarding and listening sockets, each listener's reserve for EMFILE (17
 * in all, measured), with room for a handover's and an adoption's passing ones. */
#define WORKER_FDS_FIXED 64

/* ---- session lifecycle ---- */

bool worker_trusted_proxy(const struct worker *w, int family, const void *addr)
{
    struct in6_addr b;
    for (size_t i = 0; i < w->cfg.n_trusted_proxies; i++)
        if (inet_pton(family, w->cfg.trusted_proxies[i], &b) == 1 &&
            memcmp(addr, &b, family == AF_INET ? 4 : 16) == 0)
            return true;
    return false;
}

void worker_end_session(struct worker *w, struct viewer *v, const char *reason)
{
    dtlsrv_conn_free(v->dtls);
    v->dtls = NULL;
    media_viewer_stop(w->media, &v->media);
    for (int i = 0; i < VIEWER_MAX_PAIRS; i++)
        if (v->pairs[i].addr.sa.sa_family && v->pairs[i].tcp)
            icetcp_release(w, v->pairs[i].conn);
    char path[CONFIG_NAME_MAX], session[VIEWER_SESSION_LEN + 1], peer[64];
    snprintf(path, sizeof(path), "%s", v->path);
    snprintf(session, sizeof(session), "%s", v->session);
    snprintf(peer, sizeof(peer), "%s", v->peer);
    uint64_t nacks = v->media.rec.nacks, retransmits = v->media.rec.retransmits;
    adopt_wipe(w, v);
    viewer_release(&w->viewers, v);
    ondemand_left(w, path);
    log_info("whep %s: session %s of %s ended: %s (NACKed %" PRIu64 ", retransmitted %" PRIu64
             "; sessions %u, viewers %u)",
             path, session, peer, reason, nacks, retransmits, w->viewers.count,
             media_worker_viewers(w->media));
}

/* ---- periodic work ---- */

static void worker_tick(uv_timer_t *t)
{
    struct worker *w = t->data;
    uint64_t now = ctl_now_ns();
    uint64_t consent_ns = (uint64_t)w->cfg.consent_timeout * 1000000000; /* RFC 7675 5.1 */
    atomic_store_explicit(&w->slot->heartbeat_ns, now, memory_order_relaxed);
    adopt_tick(w, now);
    dtlsrv_heap_settle();
    icetcp_tick(w, now);
    rtspd_tick(w, now);
    ondemand_publish(w, now);
    for (uint32_t i = 0; i < w->viewers.cap && !w->stopping; i++) {
        struct viewer *v = &w->viewers.v[i];
        if (v->state == VIEWER_FREE)
            continue;
        if (v->state != VIEWER_MEDIA &&
            now - v->consent_ns > (uint64_t)WORKER_SETUP_TIMEOUT_MS * 1000000) {
            worker_end_session(w, v, "no ICE check for 10 s during set-up");
            continue;
        }
        /* Consent guards sending: a set-up keeps its own timeout, whichever is shorter. */
        if (v->state == VIEWER_MEDIA && now - v->consent_ns > consent_ns) {
            char why[48];
            snprintf(why, sizeof(why), "no ICE consent for %u s", w->cfg.consent_timeout);
            worker_end_session(w, v, why);
            continue;
        }
        /* RFC 7675 5.1: consent is the sender's to obtain. Browsers check us every few
         * seconds anyway; an agent that pings only when it has sent nothing else for a while
         * (pion's: its RTCP every second counts) would lose its session: a third of the
         * timeout without a check, and we ask it ourselves. */
        if (v->state == VIEWER_MEDIA && now - v->consent_ns > consent_ns / 3)
            demux_consent_probe(w, v, now);
        /* A peer that never sends RTCP still gets its DTLS state freed. */
        if (v->state == VIEWER_MEDIA && v->dtls &&
            now - v->media_ns > (uint64_t)WORKER_DTLS_SETTLE_MS * 1000000) {
            dtlsrv_conn_free(v->dtls);
            v->dtls = NULL;
        }
    }
}

int worker_poll_readable(struct worker *w, uv_poll_t *poll, int fd, int bit, uv_poll_cb cb)
{
    int err = uv_poll_init(w->loop, poll, fd);
    if (err < 0)
        return err;
    poll->data = w;
    w->open_handles |= bit;
    return uv_poll_start(poll, UV_READABLE, cb);
}

/* ---- setup ---- */

static void worker_signal(uv_signal_t *s, int signum)
{
    struct worker *w = s->data;
    log_info("signal %d: shutting down", signum);
    worker_shutdown(w);
}

static void worker_handover_signal(uv_signal_t *s, int signum)
{
    (void)signum;
    worker_handover(s->data);
}

/* SIGHUP (the supervisor's reload): re-reads the paths and the keys config.h's table marks
 * CONFIG_CHANGE_HUP_WORKERS (tokens, the log level, the set-up limits, consent_timeout).
 * Listening addresses and ports need a restart. Sessions of a removed path end. */
static void worker_reload(uv_signal_t *s, int signum)
{
    (void)signum;
    struct worker *w = s->data;
    static struct config fresh; /* large; one reload at a time on the loop's thread */
    char err[512];
    if (!w->cfg.file[0]) {
        log_info("SIGHUP: no config file to re-read");
        return;
    }
    if (config_load(&fresh, w->cfg.file, err, sizeof(err)) < 0) {
        log_warn("SIGHUP: keeping the running config: %s", err);
        return;
    }
    if (config_apply_reloadable(&w->cfg, &fresh) < 0) {
        log_warn("SIGHUP: keeping the running config: out of memory for %zu paths", fresh.n_paths);
        return;
    }
    log_set_level(w->cfg.log_level);
    for (uint32_t i = 0; i < w->viewers.cap; i++) {
        struct viewer *v = &w->viewers.v[i];
        if (v->state != VIEWER_FREE && !config_find_path(&w->cfg, v->path))
            worker_end_session(w, v, "path removed from the config");
    }
    log_info("SIGHUP: config re-read, %zu path(s)", w->cfg.n_paths);
}

static int worker_ctl_open(struct worker *w, int slot)
{
    int err;
    unsigned s = slot < 0 ? w->index : (unsigned)slot;
    if (slot < 0) {
        err = ctl_init_private(&w->ctl);
    } else {
        err = ctl_attach(&w->ctl, w->cfg.shm_prefix);
    }
    if (err < 0)
        return err;
    w->slot = ctl_slot(&w->ctl, s);
    if (!w->slot)
        return -ERANGE;
    if (slot < 0) {
        /* Standalone: describe ourselves the way the supervisor would, for /v1/status. */
        w->slot->role = CTL_ROLE_EGRESS;
        w->slot->index = w->index;
        snprintf(w->slot->name, sizeof(w->slot->name), "worker %u", w->index);
        atomic_store(&w->slot->start_ns, ctl_now_ns());
        atomic_store(&w->slot->state, CTL_STATE_RUNNING);
    }
    atomic_store(&w->slot->pid, (int32_t)getpid());
    atomic_store(&w->slot->heartbeat_ns, ctl_now_ns());
    w->counters = &w->slot->counters;
    return 0;
}

/* Viewers hold none of their own: WHEP media shares the worker's UDP socket, RTSP readers
 * over UDP its pair; over TCP each holds one of the connections counted here. */
unsigned long worker_fd_need(const struct config *cfg)
{
    return WORKER_FDS_FIXED + HTTPD_MAX_CONNS + (config_tcp_port_base(cfg) ? ICETCP_CONNS : 0) +
           (cfg->rtsp_port ? RTSPD_CONNS : 0);
}

int worker_init(struct worker *w, uv_loop_t *loop, const struct config *cfg, unsigned index,
                int slot, int32_t predecessor, char *err, size_t errlen)
{
    memset(w, 0, sizeof(*w));
    w->loop = loop;
    if (config_copy(&w->cfg, cfg) < 0) {
        snprintf(err, errlen, "out of memory for %zu paths", cfg->n_paths);
        return -ENOMEM;
    }
    w->index = index;
    w->predecessor = predecessor;
    w->udp_port = (uint16_t)(cfg->udp_port_base + index);
    unsigned tcp_base = config_tcp_port_base(cfg);
    w->tcp_port = tcp_base ? (uint16_t)(tcp_base + index) : 0;
    w->fwd.fd = -1;
    w->udp_fd = -1;
    w->tcp.fd = -1;
    w->rtsp.tab.fd = -1;
    int rc = worker_ctl_open(w, slot);
    if (rc < 0) {
        snprintf(err, errlen, "control segment /%s.ctl slot %d: %s", cfg->shm_prefix, slot,
                 strerror(-rc));
        return rc;
    }
    rc = dtlsrv_ctx_new(&w->dtls, err, errlen);
    if (rc < 0)
        return rc;
    rc = viewer_table_init(&w->viewers, cfg->max_viewers_per_worker);
    if (rc < 0) {
        snprintf(err, errlen, "session table for %u viewers: out of memory",
                 cfg->max_viewers_per_worker);
        return rc;
    }
    (void)uv_timer_init(loop, &w->tick);
    ondemand_init(w);
    if ((rc = uv_signal_init(loop, &w->sigint)) < 0 ||
        (rc = uv_signal_init(loop, &w->sigterm)) < 0 ||
        (rc = uv_signal_init(loop, &w->sighup)) < 0 ||
        (rc = uv_signal_init(loop, &w->sigusr2)) < 0) {
        snprintf(err, errlen, "signal handlers: %s", uv_strerror(rc));
        return rc;
    }
    w->tick.data = w->sigint.data = w->sigterm.data = w->sighup.data = w->sigusr2.data = w;
    w->open_handles |= WORKER_OPEN_BASE;
    (void)uv_timer_start(&w->tick, worker_tick, WORKER_TICK_MS, WORKER_TICK_MS);
    /* With a valid handle and callback these cannot fail. */
    (void)uv_signal_start(&w->sigint, worker_signal, SIGINT);
    (void)uv_signal_start(&w->sigterm, worker_signal, SIGTERM);
    (void)uv_signal_start(&w->sighup, worker_reload, SIGHUP);
    (void)uv_signal_start(&w->sigusr2, worker_handover_signal, SIGUSR2);
    rc = demux_open(w);
    if (rc < 0) {
        snprintf(err, errlen, "UDP media port %u: %s", w->udp_port, strerror(-rc));
        return rc;
    }
    rc = icetcp_open(w);
    if (rc < 0) {
        snprintf(err, errlen, "TCP media port %u (ICE-TCP): %s", w->tcp_port, strerror(-rc));
        return rc;
    }
    w->n_candidates = hostcand_gather(&w->cfg, w->udp_v6, w->candidates, ANSWER_MAX_CANDIDATES);
    rc = media_worker_init(&w->media, loop, &w->cfg, &w->ctl, w->counters, w->udp_fd);
    if (rc < 0) {
        snprintf(err, errlen, "media: %s", strerror(-rc));
        return rc;
    }
    rc = rtspd_open(w);
    if (rc < 0) {
        snprintf(err, errlen, "RTSP %s:%u: %s", cfg->rtsp_host, cfg->rtsp_port, strerror(-rc));
        return rc;
    }
    rc = httpd_server_start(&w->http, loop, cfg->http_host, cfg->http_port, whep_handle, w);
    if (rc < 0) {
        snprintf(err, errlen, "HTTP %s:%u: %s", cfg->http_host, cfg->http_port, uv_strerror(rc));
        return rc;
    }
    /* Every listener is bound (a predecessor's keep serving in the same SO_REUSEPORT groups
     * until it hands over), and the loop has not run: the first offer comes after adoption,
     * and adopted sessions keep their slots. Without a table, sessions still run; they just
     * would not outlive this process. */
    rc = adopt_start(w);
    if (rc < 0 && rc != -EBUSY)
        log_warn("session table /%s.sessions.%u: %s: sessions will not be adopted after a restart",
                 cfg->shm_prefix, index, strerror(-rc));
    /* After the handover: the predecessor held this abstract name until then. */
    rc = forward_open(w);
    if (rc < 0) {
        snprintf(err, errlen, "DELETE forwarding socket: %s", strerror(-rc));
        return rc;
    }
    char tcp[32] = "", rtsp[96] = "";
    if (w->tcp_port)
        snprintf(tcp, sizeof(tcp), " and TCP %u", w->tcp_port);
    if (cfg->rtsp_port)
        snprintf(rtsp, sizeof(rtsp), ", RTSP on %s:%u", cfg->rtsp_host, cfg->rtsp_port);
    log_info("serving WHEP on %s:%u, media on UDP %u%s, %zu candidate address(es)%s",
             cfg->http_host, cfg->http_port, w->udp_port, tcp, w->n_candidates, rtsp);
    /* The supervisor takes a heartbeat after its predecessor's exit as the handover done. */
    ctl_heartbeat(w->slot);
    return 0;
}

/* Closes every handle (the media worker's too); the loop then ends. */
static void worker_close(struct worker *w)
{
    icetcp_shutdown(w);
    rtspd_shutdown(w);
    httpd_server_stop(&w->http);
    media_worker_free(w->media);
    w->media = NULL;
    if (w->open_handles & WORKER_OPEN_BASE) {
        uv_close((uv_handle_t *)&w->tick, NULL);
        ondemand_shutdown(w);
        uv_close((uv_handle_t *)&w->sigint, NULL);
        uv_close((uv_handle_t *)&w->sigterm, NULL);
        uv_close((uv_handle_t *)&w->sighup, NULL);
        uv_close((uv_handle_t *)&w->sigusr2, NULL);
    }
    if (w->open_handles & WORKER_OPEN_UDP)
        uv_close((uv_handle_t *)&w->udp_poll, NULL);
    forward_close(&w->fwd);
    if (w->open_handles & WORKER_OPEN_TCP)
        uv_close((uv_handle_t *)&w->tcp.poll, NULL);
    if (w->open_handles & WORKER_OPEN_RTSP)
        uv_close((uv_handle_t *)&w->rtsp.tab.poll, NULL);
    w->open_handles = 0;
}

void worker_shutdown(struct worker *w)
{
    if (w->stopping)
        return;
    w->stopping = 1;
    log_info("stopping: %" PRIu64 " datagram(s) dropped as unknown or unvalidated",
             w->drops_unknown);
    for (uint32_t i = 0; i < w->viewers.cap; i++)
        if (w->viewers.v && w->viewers.v[i].state != VIEWER_FREE)
            worker_end_session(w, &w->viewers.v[i], "worker stopping");
    worker_close(w);
}

/* Closes a socket now rather than after the loop: the successor's socket in the same group
 * then gets every datagram, or may bind the name. */
static void worker_close_now(struct worker *w, uv_poll_t *poll, int bit, int *fd)
{
    if (w->open_handles & bit)
        uv_close((uv_handle_t *)poll, NULL); /* stops polling fd at once */
    w->open_handles &= ~bit;
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

void worker_handover(struct worker *w)
{
    if (w->stopping)
        return;
    w->stopping = 1;
    unsigned kept = 0, ended = 0;
    for (uint32_t i = 0; i < w->viewers.cap; i++) {
        struct viewer *v = &w->viewers.v[i];
        if (v->state == VIEWER_FREE)
            continue;
        if (adopt_save(w, v)) { /* the latest numbering and position, for the successor */
            kept++;
            continue;
        }
        worker_end_session(w, v, "worker handing over (only settled UDP sessions are adopted)");
        ended++;
    }
    /* Flushes what is queued and stops every viewer: our last packet has been sent. */
    media_worker_free(w->media);
    w->media = NULL;
    worker_close_now(w, &w->udp_poll, WORKER_OPEN_UDP, &w->udp_fd);
    forward_close(&w->fwd);
    adopt_release(w);
    w->handed_over = 1;
    log_info("handed over: %u session(s) left to the successor, %u ended", kept, ended);
    worker_close(w);
}

void worker_free(struct worker *w)
{
    forward_close(&w->fwd);
    if (w->udp_fd >= 0)
        close(w->udp_fd);
    w->udp_fd = -1;
    icetcp_free(w);
    rtspd_free(w);
    if (w->slot && !w->handed_over) /* else the slot is the successor's */
        atomic_store(&w->slot->pid, 0);
    dtlsrv_ctx_free(w->dtls);
    w->dtls = NULL;
    viewer_table_free(&w->viewers);
    config_free(&w->cfg);
    adopt_close(w, !w->handed_over);
    ctl_free(&w->ctl);
}
