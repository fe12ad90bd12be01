/* SPDX-License-Identifier: MIT */
/* adopt.c: the session record (pointer-free: identifiers, ICE credentials, the bound pair, SRTP
 * keys, per-track numbering and timestamp state, ring position), written to the worker's
 * shared-memory table when media starts and on each change that matters (never per packet:
 * the ring position is a progress word media stores per frame), wiped when the session ends;
 * and the adoption of a predecessor's records by a restarted worker, record by record. */
#include "egress/adopt.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "egress/worker.h"
#include "shm/sessions.h"

#define ADOPT_LAYOUT  1  /* bump with any change to the structs below */
#define ADOPT_STR_MAX 64 /* remote ICE credentials kept (browsers send 4..32 characters) */

struct adopt_track {
    struct media_track_params p;
    uint32_t codec, ssrc, ts_offset, last_rtp_ts, last_ring_ts, cu_ring_ts, cu_out_ts, rtt_us;
    uint64_t cu_start, cu_end, pkts_sent, octets_sent;
    uint64_t pkt_floor; /* lowest global packet number it could still number (rtc/esrtp.h) */
    struct esrtp_index idx;
    uint8_t rebase;
    uint8_t pad[7];
};

struct adopt_rec {
    char session[VIEWER_SESSION_LEN + 1];
    char ufrag[VIEWER_UFRAG_LEN + 1];
    char pwd[VIEWER_PWD_LEN + 1];
    char path[CONFIG_NAME_MAX];
    char remote_ufrag[ADOPT_STR_MAX];
    char remote_pwd[ADOPT_STR_MAX];
    uint8_t pad0[3];
    struct sockaddr_in6 addr; /* the bound pair's remote address (or a sockaddr_in) */
    uint32_t local;           /* and our address its checks arrived at */
    uint16_t srtp_profile;
    uint8_t keying_len;
    uint8_t state; /* enum media_viewer_state */
    uint8_t wait_key;
    uint8_t pad1[3];
    uint8_t keying[ESRTP_KEYING_MAX];
    uint32_t ring_generation; /* for the log */
    uint64_t ring_ident;
    uint64_t next_frame; /* when written: the progress word never goes below it */
    struct adopt_track tracks[MEDIA_MAX_TRACKS];
};

_Static_assert(sizeof(struct adopt_rec) <= SESSIONS_DATA_MAX, "a session record fits a slot");

uint64_t adopt_build_id(void)
{
    const uint64_t shape[] = {
        ADOPT_LAYOUT,
        sizeof(struct adopt_rec),
        sizeof(struct adopt_track),
        sizeof(struct esrtp_index),
        sizeof(struct media_track_params),
        offsetof(struct adopt_rec, addr),
        offsetof(struct adopt_rec, keying),
        offsetof(struct adopt_rec, tracks),
        offsetof(struct adopt_track, idx),
        offsetof(struct esrtp_index, seq0),
        offsetof(struct media_track_params, mid),
        MEDIA_MAX_TRACKS,
    };
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < sizeof(shape) / sizeof(shape[0]); i++)
        h = (h ^ shape[i]) * 1099511628211ull;
    return h;
}

static uint32_t adopt_slot(struct worker *w, struct viewer *v)
{
    return (uint32_t)viewer_index(&w->viewers, v);
}

void adopt_wipe(struct worker *w, struct viewer *v)
{
    if (!w->sessions.hdr)
        return;
    v->media.progress = NULL;
    sessions_wipe(&w->sessions, adopt_slot(w, v));
}

static void adopt_track_save(struct adopt_track *o, const struct media_viewer_track *vt,
                             uint64_t pkt_floor)
{
    o->p = vt->p;
    o->codec = vt->codec;
    o->ssrc = vt->ssrc;
    o->ts_offset = vt->ts_offset;
    o->last_rtp_ts = vt->last_rtp_ts;
    o->last_ring_ts = vt->last_ring_ts;
    o->cu_ring_ts = vt->cu_ring_ts;
    o->cu_out_ts = vt->cu_out_ts;
    o->rtt_us = vt->rtt_us;
    o->cu_start = vt->cu_start;
    o->cu_end = vt->cu_end;
    o->pkts_sent = vt->pkts_sent;
    o->octets_sent = vt->octets_sent;
    o->pkt_floor = pkt_floor;
    o->idx = vt->idx;
    o->rebase = vt->rebase;
}

bool adopt_save(struct worker *w, struct viewer *v)
{
    if (!w->sessions.hdr)
        return false;
    const struct viewer_pair *vp = v->bound >= 0 ? &v->pairs[v->bound] : NULL;
    const struct media_viewer_rec *r = &v->media.rec;
    if (v->state != VIEWER_MEDIA || !vp || vp->tcp || !v->media.path ||
        strlen(v->remote_ufrag) >= ADOPT_STR_MAX || strlen(v->remote_pwd) >= ADOPT_STR_MAX) {
        adopt_wipe(w, v);
        return false;
    }
    struct media_resume rs;
    media_viewer_resume_info(&v->media, &rs);
    struct adopt_rec o;
    memset(&o, 0, sizeof(o));
    memcpy(o.session, v->session, sizeof(o.session));
    memcpy(o.ufrag, v->ufrag, sizeof(o.ufrag));
    memcpy(o.pwd, v->pwd, sizeof(o.pwd));
    memcpy(o.path, v->path, sizeof(o.path));
    snprintf(o.remote_ufrag, sizeof(o.remote_ufrag), "%s", v->remote_ufrag);
    snprintf(o.remote_pwd, sizeof(o.remote_pwd), "%s", v->remote_pwd);
    memcpy(&o.addr, &vp->addr, viewer_addr_len(&vp->addr));
    o.local = vp->local;
    o.srtp_profile = r->srtp_profile;
    o.keying_len = r->keying_len;
    memcpy(o.keying, r->keying, sizeof(o.keying));
    o.state = r->state;
    o.wait_key = r->wait_key;
    o.ring_ident = rs.ring_ident;
    o.next_frame = r->next_frame;
    for (unsigned t = 0; t < MEDIA_MAX_TRACKS; t++)
        adopt_track_save(&o.tracks[t], &r->tracks[t], rs.pkt_floor[t]);
    uint32_t i = adopt_slot(w, v);
    sessions_write(&w->sessions, i, &o, sizeof(o), r->next_frame);
    v->media.progress = sessions_progress(&w->sessions, i);
    return true;
}

static void adopt_media_changed(void *arg, struct media_viewer *mv)
{
    (void)adopt_save(arg, mv->user);
}

void adopt_tick(struct worker *w, uint64_t now_ns)
{
    if (w->sessions.hdr)
        sessions_heartbeat(&w->sessions, now_ns);
}

void adopt_release(struct worker *w)
{
    if (w->sessions.hdr)
        sessions_release(&w->sessions);
}

void adopt_close(struct worker *w, bool unlink)
{
    sessions_close(&w->sessions, unlink);
}

/* ---- adoption ---- */

enum adopt_refusal {
    ADOPT_TORN,     /* left half-written, or changing */
    ADOPT_CORRUPT,  /* checksum, size, or fields out of range */
    ADOPT_BUILD,    /* another record layout */
    ADOPT_STALE,    /* the predecessor was silent longer than consent allows */
    ADOPT_PATH,     /* no longer configured */
    ADOPT_RING,     /* no ring, or another ring than the record's */
    ADOPT_POSITION, /* ring position or SRTP indexes do not match the ring */
    ADOPT_CONFLICT, /* its ufrag, session id or address is another adopted session's */
    ADOPT_OTHER,
    ADOPT_N
};

static const char *const adopt_refusal_name[ADOPT_N] = {
    "torn",          "corrupt",       "other build", "stale", "path gone",
    "ring replaced", "ring position", "conflict",    "media",
};

static bool adopt_str_ok(const char *s, size_t size, size_t min)
{
    size_t n = strnlen(s, size);
    return n < size && n >= min;
}

/* Field checks a checksum cannot make (a record of this build is still only data). */
static bool adopt_rec_sane(const struct worker *w, const struct adopt_rec *o)
{
    sa_family_t fam = o->addr.sin6_family;
    return adopt_str_ok(o->session, sizeof(o->session), VIEWER_SESSION_LEN) &&
           viewer_session_worker(o->session) == (int)w->index &&
           adopt_str_ok(o->ufrag, sizeof(o->ufrag), 1) && adopt_str_ok(o->pwd, sizeof(o->pwd), 1) &&
           adopt_str_ok(o->path, sizeof(o->path), 1) &&
           adopt_str_ok(o->remote_ufrag, sizeof(o->remote_ufrag), 1) &&
           adopt_str_ok(o->remote_pwd, sizeof(o->remote_pwd), 1) &&
           (fam == AF_INET || fam == AF_INET6) && o->keying_len <= ESRTP_KEYING_MAX &&
           o->keying_len == esrtp_keying_len(o->srtp_profile) &&
           (o->state == MEDIA_VIEWER_LIVE || o->state == MEDIA_VIEWER_CATCHUP);
}

static void adopt_track_load(struct media_viewer_track *vt, const struct adopt_track *o)
{
    vt->p = o->p;
    vt->p.mid[MEDIA_MID_MAX - 1] = 0;
    vt->codec = o->codec;
    vt->ssrc = o->ssrc;
    vt->ts_offset = o->ts_offset;
    vt->last_rtp_ts = o->last_rtp_ts;
    vt->last_ring_ts = o->last_ring_ts;
    vt->cu_ring_ts = o->cu_ring_ts;
    vt->cu_out_ts = o->cu_out_ts;
    vt->rtt_us = o->rtt_us;
    vt->cu_start = o->cu_start;
    vt->cu_end = o->cu_end;
    vt->pkts_sent = o->pkts_sent;
    vt->octets_sent = o->octets_sent;
    vt->idx = o->idx;
    vt->rebase = o->rebase;
}

/* Rebuilds the session of record o in slot i, media resumed at ring position at. */
static enum adopt_refusal adopt_one(struct worker *w, uint32_t i, const struct adopt_rec *o,
                                    uint64_t at)
{
    if (!config_find_path(&w->cfg, o->path))
        return ADOPT_PATH;
    if (at < o->next_frame)
        return ADOPT_CORRUPT;
    struct viewer *v = viewer_claim(&w->viewers, i, o->session, o->ufrag);
    if (!v)
        return ADOPT_CONFLICT;
    uint64_t now = ctl_now_ns();
    memcpy(v->path, o->path, sizeof(v->path));
    memcpy(v->pwd, o->pwd, sizeof(v->pwd));
    snprintf(v->remote_ufrag, sizeof(v->remote_ufrag), "%s", o->remote_ufrag);
    snprintf(v->remote_pwd, sizeof(v->remote_pwd), "%s", o->remote_pwd);
    v->owner = w;
    v->created_ns = v->consent_ns = v->media_ns = now;
    int pair =
        viewer_pair_checked(&w->viewers, v, (const struct sockaddr *)&o->addr, o->local, now);
    if (pair < 0) {
        viewer_release(&w->viewers, v);
        return ADOPT_CONFLICT;
    }
    v->bound = (int8_t)pair;
    const struct viewer_pair *vp = &v->pairs[pair];
    viewer_format_addr(&vp->addr.sa, v->peer, sizeof(v->peer));
    struct media_viewer_rec *r = &v->media.rec;
    struct media_viewer_params prm = {
        .path = v->path,
        .remote = &vp->addr.sa,
        .remote_len = viewer_addr_len(&vp->addr),
        .local_addr = vp->local,
        .srtp_profile = o->srtp_profile,
        .keying = o->keying,
        .keying_len = o->keying_len,
    };
    struct media_resume rs = {.ring_ident = o->ring_ident};
    for (unsigned t = 0; t < MEDIA_MAX_TRACKS; t++) {
        adopt_track_load(&r->tracks[t], &o->tracks[t]);
        v->tracks[t] = prm.tracks[t] = r->tracks[t].p;
        rs.pkt_floor[t] = o->tracks[t].pkt_floor;
    }
    r->state = o->state;
    r->wait_key = o->wait_key;
    r->next_frame = at;
    int rc = media_viewer_resume(w->media, &v->media, &prm, &rs);
    if (rc < 0) {
        viewer_release(&w->viewers, v);
        return rc == -ENOENT || rc == -ESTALE ? ADOPT_RING
               : rc == -ERANGE                ? ADOPT_POSITION
                                              : ADOPT_OTHER;
    }
    v->state = VIEWER_MEDIA;
    (void)adopt_save(w, v); /* the numbering continues from the bound: a successor's floor */
    return ADOPT_N;
}

static enum adopt_refusal adopt_read_refusal(int rc)
{
    return rc == -EBUSY || rc == -EAGAIN ? ADOPT_TORN : rc == -EPROTO ? ADOPT_BUILD : ADOPT_CORRUPT;
}

/* Adopts every valid record of the predecessor's table; the others are wiped. */
static void adopt_all(struct worker *w)
{
    struct sessions *s = &w->sessions;
    unsigned count[ADOPT_N] = {0}, adopted = 0, refused = 0;
    uint64_t now = ctl_now_ns();
    bool stale =
        s->prev_beat_ns && now - s->prev_beat_ns > (uint64_t)w->cfg.consent_timeout * 1000000000ull;
    for (uint32_t i = 0; i < s->n_prev; i++) {
        struct adopt_rec o;
        uint64_t at;
        int rc = sessions_read(s, i, &o, sizeof(o), &at);
        if (rc == -ENOENT)
            continue;
        enum adopt_refusal why = rc < 0                   ? adopt_read_refusal(rc)
                                 : rc != (int)sizeof(o)   ? ADOPT_CORRUPT
                                 : stale                  ? ADOPT_STALE
                                 : !adopt_rec_sane(w, &o) ? ADOPT_CORRUPT
                                                          : adopt_one(w, i, &o, at);
        memset(&o, 0, sizeof(o)); /* keys */
        if (why == ADOPT_N) {
            adopted++;
            continue;
        }
        sessions_wipe(s, i);
        count[why]++;
        refused++;
    }
    char reasons[256] = "";
    size_t len = 0;
    for (int k = 0; k < ADOPT_N; k++)
        if (count[k] && len < sizeof(reasons))
            len += (size_t)snprintf(reasons + len, sizeof(reasons) - len, "%s%u %s",
                                    len ? ", " : ": ", count[k], adopt_refusal_name[k]);
    if (adopted || refused)
        log_info("adopted %u sessions (%u refused%s)", adopted, refused, reasons);
}

/* A planned handover: asks the predecessor to stop and waits until it has, so that no two
 * processes ever send under one session's keys (an SRTP index used twice). Our sockets are
 * bound by now, so its viewers' datagrams queue for us meanwhile; the loop does not run yet.
 * A predecessor that neither releases its table nor exits in time is left to the supervisor's
 * deadline: its table is then busy and we run without one. */
static void adopt_await_predecessor(struct worker *w)
{
    int32_t pid = w->predecessor;
    uint64_t t0 = ctl_now_ns(), limit = (uint64_t)ADOPT_HANDOVER_WAIT_MS * 1000000;
    if (kill(pid, SIGUSR2) < 0 && errno != ESRCH) {
        log_warn("handover: cannot signal the predecessor (pid %d): %s", pid, strerror(errno));
        return;
    }
    const struct timespec tick = {.tv_nsec = 1000000};
    while (!sessions_released_by(w->cfg.shm_prefix, w->index, pid)) {
        if (ctl_now_ns() - t0 > limit) {
            log_warn("handover: the predecessor (pid %d) did not release its session table "
                     "within %d ms",
                     pid, ADOPT_HANDOVER_WAIT_MS);
            return;
        }
        (void)nanosleep(&tick, NULL);
    }
    log_info("handover: the predecessor (pid %d) stopped (released its table, or exited) %.1f ms "
             "after our request",
             pid, (double)(ctl_now_ns() - t0) / 1e6);
}

int adopt_start(struct worker *w)
{
    if (w->predecessor > 0)
        adopt_await_predecessor(w);
    int rc = sessions_open(&w->sessions, w->cfg.shm_prefix, w->index, w->cfg.max_viewers_per_worker,
                           adopt_build_id());
    if (rc == -EBUSY)
        /* Another live worker with our index and prefix owns it (two nodes sharing a prefix):
         * reading or writing its records would send under its keys. */
        log_warn("session table /%s.sessions.%u belongs to a running process: running without "
                 "one",
                 w->cfg.shm_prefix, w->index);
    if (rc < 0)
        return rc;
    struct sessions *s = &w->sessions;
    if (s->refused[0])
        log_warn("session table %s: a predecessor's discarded: %s", s->name, s->refused);
    sessions_heartbeat(s, ctl_now_ns());
    media_worker_on_change(w->media, adopt_media_changed, w);
    adopt_all(w);
    return 0;
}
