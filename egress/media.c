/* SPDX-License-Identifier: MIT */
/* media.c: the egress data plane's lifecycle and slow paths: the worker (batch buffers,
 * the doorbell set of watched paths' rings, one housekeeping timer), paths (ring readers
 * opened lazily), viewers (start/stop, SRTP contexts). A viewer's RTCP is in media_rtcp.c,
 * the per-frame hot path in send.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "codec/codec.h"
#include "codec/h264.h"
#include "common/log.h"
#include "common/sockbuf.h"
#include "egress/media_priv.h"
#include "rtc/esrtp.h"

static void media_random(void *buf, size_t len)
{
    /* getrandom only fails for a bad buffer or an uninitialised pool at early boot: fall
     * back to a weaker but non-constant source rather than to zeros. */
    if (getrandom(buf, len, 0) != (ssize_t)len)
        for (size_t i = 0; i < len; i++)
            ((uint8_t *)buf)[i] = (uint8_t)(rand() ^ (int)ctl_now_ns());
}

/* ---- wakeups ---- */

static void media_idle_cb(uv_idle_t *h)
{
    struct media_worker *w = h->data;
    if (!media_send_run(w))
        (void)uv_idle_stop(&w->idle);
}

/* A doorbell: frames were written to some ring. Leftovers continue from the idle handle,
 * so one busy path cannot hold the loop (HTTP, STUN, DTLS) for long. */
static void media_on_doorbell(void *arg)
{
    struct media_worker *w = arg;
    if (media_send_run(w))
        (void)uv_idle_start(&w->idle, media_idle_cb);
}

/* ---- paths ---- */

/* Asks p's writer for each frame as it comes, for MEDIA_WATCH_LEASE_NS from now (ring.h). */
static void media_path_lease(struct media_path *p, uint64_t now)
{
    ring_reader_keep_watched(p->r, now + MEDIA_WATCH_LEASE_NS);
}

/* A path's first viewer: the worker starts waiting on its ring's doorbell, and the path's
 * cursor, left wherever it was while nobody watched (a path without viewers costs no wake-up
 * and no read), moves to the live edge. 0 or -errno. */
static int media_path_watch(struct media_worker *w, struct media_path *p)
{
    int rc = doorbell_set_add(w->bells, ring_reader_doorbell(p->r));
    if (rc < 0)
        return rc;
    p->watched = true;
    media_path_lease(p, ctl_now_ns());
    p->has_pending = false;
    p->next_frame = ring_reader_head(p->r);
    (void)ring_reader_seek(p->r, p->next_frame);
    media_path_load_tracks(p);
    return 0;
}

static struct media_path *media_path_find(struct media_worker *w, const char *name)
{
    for (unsigned i = 0; i < w->n_paths; i++)
        if (!strcmp(w->paths[i]->name, name))
            return w->paths[i];
    return NULL;
}

/* Per-worker buffers sized for the largest MTU of any open ring: packet descriptors for the
 * largest frame a ring holds (for each of the MEDIA_DESC_FRAMES kept), and batch slots for header +
 * extensions + MTU + SRTP tag. */
static int media_size_buffers(struct media_worker *w, uint32_t mtu)
{
    size_t slot =
        (12 + MEDIA_EXT_MAX + (mtu > 1500 ? mtu : 1500) + ESRTP_TRAILER_MAX + 63) & ~(size_t)63;
    size_t pk_cap = RING_MAX_FRAME / (mtu > 3 ? mtu - 3 : 1) + 2 * PACK_AGG_MAX + 1;
    if (slot > w->slot) {
        uint8_t *buf = aligned_alloc(64, slot * MEDIA_BATCH);
        if (!buf)
            return -ENOMEM;
        free(w->buf);
        w->buf = buf;
        w->slot = slot;
        for (unsigned i = 0; i < MEDIA_BATCH; i++)
            w->iov[i].iov_base = w->buf + i * slot;
    }
    if (pk_cap > w->pk_cap) {
        /* Virtual size: only the descriptors of the frames actually described are touched. */
        struct pack_pkt *pk = calloc(MEDIA_DESC_FRAMES * pk_cap, sizeof(*pk));
        if (!pk)
            return -ENOMEM;
        free(w->pk);
        w->pk = pk;
        w->pk_cap = pk_cap;
        media_desc_forget(w, NULL);
    }
    return 0;
}

/* Reads the ring's track table: codecs and clock rates the send path needs per frame. A
 * track the writer is updating right now (-EAGAIN) keeps what was read before: resetting it
 * would stop the path's video for every viewer until the next read. A source that comes back
 * with another codec on a track (an RTSP reconnect to another stream) cannot be switched to
 * under a running session, whose answer named the old one: its viewers stop receiving that
 * track (send.c compares the codec each started with) until they make a new offer. */
void media_path_load_tracks(struct media_path *p)
{
    p->video = -1;
    for (unsigned i = 0; i < MEDIA_MAX_TRACKS; i++) {
        struct ring_track t;
        int rc = ring_reader_track(p->r, i, &t, &p->track_version[i]);
        if (rc == 0) {
            if (p->codec[i] != RING_CODEC_NONE && p->codec[i] != t.codec)
                log_warn("media %s: track %u changed codec (%s -> %s): %u viewers stop "
                         "receiving it until they reconnect",
                         p->name, i, codec_name(p->codec[i]), codec_name(t.codec), p->n_viewers);
            p->codec[i] = t.codec;
            p->clock[i] = t.clock_rate;
        } else if (rc != -EAGAIN) {
            p->codec[i] = RING_CODEC_NONE;
        }
        if (p->video < 0 && codec_is_video(p->codec[i]))
            p->video = (int)i;
    }
}

static void media_path_close(struct media_path *p)
{
    media_desc_forget(p->w, p);
    if (p->watched)
        doorbell_set_remove(p->w->bells, ring_reader_doorbell(p->r));
    ring_reader_close(p->r);
    free(p);
}

/* The path's state, attaching to its ring on first use. -ENOENT when there is no ring. */
static int media_path_get(struct media_worker *w, const char *name, struct media_path **out)
{
    struct media_path *p = media_path_find(w, name);
    if (p) {
        *out = p;
        return 0;
    }
    if (strlen(name) >= CONFIG_NAME_MAX)
        return -ENOSPC;
    if (w->n_paths == w->cap_paths) {
        unsigned cap = w->cap_paths ? 2 * w->cap_paths : 16;
        struct media_path **a = realloc(w->paths, cap * sizeof(*a));
        if (!a)
            return -ENOMEM;
        w->paths = a;
        w->cap_paths = cap;
    }
    p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    snprintf(p->name, sizeof(p->name), "%s", name);
    p->w = w;
    char shm[CONFIG_NAME_MAX + 40], err[128];
    snprintf(shm, sizeof(shm), "%s.%s", w->cfg->shm_prefix, name);
    int rc = ring_reader_open(&p->r, shm, err, sizeof(err));
    if (rc < 0) {
        free(p);
        return rc;
    }
    p->mtu = ring_reader_mtu(p->r);
    p->next_frame = ring_reader_head(p->r);
    media_path_load_tracks(p);
    rc = media_size_buffers(w, p->mtu);
    if (rc < 0) {
        media_path_close(p);
        return rc;
    }
    w->paths[w->n_paths++] = p;
    *out = p;
    return 0;
}

static void media_track_info_fill(const struct ring_track *t, unsigned idx,
                                  struct media_track_info *o)
{
    memset(o, 0, sizeof(*o));
    o->index = (uint8_t)idx;
    o->codec = t->codec;
    o->clock_rate = t->clock_rate;
    o->channels = t->channels;
    memcpy(o->fmtp, t->fmtp, sizeof(o->fmtp));
    o->fmtp[sizeof(o->fmtp) - 1] = 0;
    o->params_len = t->params_len <= RING_PARAMS_MAX ? t->params_len : 0;
    memcpy(o->params, t->params, o->params_len);
    if (t->codec != RING_CODEC_H264)
        return;
    size_t pos = 0, nal_len, plen = t->params_len < RING_PARAMS_MAX ? t->params_len : 0;
    const uint8_t *nal;
    while (codec_annexb_next(t->params, plen, &pos, &nal, &nal_len) == 1) {
        struct h264_sps sps;
        if (h264_sps_parse(nal, nal_len, &sps) == 0) {
            h264_profile_level_id(&sps, o->profile_level_id);
            return;
        }
    }
}

int media_path_tracks(struct media_worker *w, const char *path,
                      struct media_track_info out[MEDIA_MAX_TRACKS])
{
    struct media_path *p;
    int rc = media_path_get(w, path, &p);
    if (rc < 0)
        return rc;
    media_path_load_tracks(p); /* the writer may have declared tracks since */
    int n = 0;
    for (unsigned i = 0; i < MEDIA_MAX_TRACKS; i++) {
        struct ring_track t;
        if (ring_reader_track(p->r, i, &t, NULL) == 0 && t.codec != RING_CODEC_NONE)
            media_track_info_fill(&t, i, &out[n++]);
    }
    return n ? n : -ENOENT;
}

int media_path_key_arrival(struct media_worker *w, const char *path, uint64_t *arrival_ns)
{
    struct media_path *p;
    int rc = media_path_get(w, path, &p);
    if (rc < 0)
        return rc;
    media_path_load_tracks(p); /* a new writer may have declared its tracks since */
    media_path_lease(p, ctl_now_ns());
    uint64_t seq = p->video >= 0 ? ring_reader_latest_keyframe(p->r, (unsigned)p->video)
                                 : ring_reader_head(p->r) - 1;
    struct ring_frame f;
    if (!seq || ring_reader_get(p->r, seq, &f) != 1)
        return -ENOENT;
    *arrival_ns = f.arrival_ns;
    return 0;
}

/* ---- viewers ---- */

void media_viewer_init(struct media_viewer *v)
{
    memset(v, 0, sizeof(*v));
    for (unsigned i = 0; i < MEDIA_MAX_TRACKS; i++) {
        struct media_viewer_track *vt = &v->rec.tracks[i];
        /* Distinct nonzero SSRCs (RFC 3550 8.1), random initial sequence and timestamp
         * (RFC 3550 5.1) through the offsets. */
        do
            media_random(&vt->ssrc, sizeof(vt->ssrc));
        while (vt->ssrc == 0 || (i && vt->ssrc == v->rec.tracks[i - 1].ssrc));
        uint16_t seq0;
        media_random(&seq0, sizeof(seq0));
        esrtp_index_init(&vt->idx, seq0);
        media_random(&vt->ts_offset, sizeof(vt->ts_offset));
    }
}

/* RFC 8285 one-byte header extensions: playout-delay 0/0 (render at once: the catch-up
 * relies on it) and the m-section's mid (BUNDLE demultiplexing without a=ssrc). */
static void media_track_build_ext(struct media_viewer_track *vt)
{
    uint8_t *e = vt->ext + 4;
    if (vt->p.playout_delay_id > 0 && vt->p.playout_delay_id < 15) {
        *e++ = (uint8_t)(vt->p.playout_delay_id << 4 | 2);
        *e++ = 0;
        *e++ = 0;
        *e++ = 0;
    }
    size_t ml = strnlen(vt->p.mid, MEDIA_MID_MAX);
    if (vt->p.mid_id > 0 && vt->p.mid_id < 15 && ml > 0) {
        *e++ = (uint8_t)(vt->p.mid_id << 4 | (ml - 1));
        memcpy(e, vt->p.mid, ml);
        e += ml;
    }
    size_t body = (size_t)(e - (vt->ext + 4));
    if (!body) {
        vt->ext_len = 0;
        return;
    }
    while (body & 3) {
        *e++ = 0;
        body++;
    }
    vt->ext[0] = 0xbe;
    vt->ext[1] = 0xde;
    vt->ext[2] = 0;
    vt->ext[3] = (uint8_t)(body / 4);
    vt->ext_len = (uint8_t)(4 + body);
}

/* What media_viewer_start and media_viewer_resume share: checks prm, opens the path's ring. */
static int media_viewer_path(struct media_worker *w, struct media_viewer *v,
                             const struct media_viewer_params *prm, struct media_path **p)
{
    if (v->path)
        return -EALREADY;
    if (!prm->remote || prm->remote_len == 0 || prm->remote_len > sizeof(v->rec.remote) ||
        !prm->path || prm->keying_len > ESRTP_KEYING_MAX)
        return -EINVAL;
    int rc = media_path_get(w, prm->path, p);
    return rc < 0 || (*p)->n_viewers ? rc : media_path_watch(w, *p);
}

/* Keys v from prm (a plain-RTP viewer, srtp_profile 0, has no SRTP) and links it to p's
 * viewers; the tracks' send state is the caller's. */
static int media_viewer_attach(struct media_worker *w, struct media_viewer *v, struct media_path *p,
                               const struct media_viewer_params *prm)
{
    struct esrtp *srtp = NULL;
    int rc;
    if (prm->srtp_profile &&
        (rc = esrtp_create(&srtp, prm->srtp_profile, prm->keying, prm->keying_len)) < 0)
        return rc;
    struct media_viewer_rec *r = &v->rec;
    memcpy(r->remote, prm->remote, prm->remote_len);
    r->remote_len = prm->remote_len;
    r->local_addr = prm->local_addr;
    v->tcp = prm->tcp;
    v->udp = prm->udp;
    r->srtp_profile = prm->srtp_profile;
    r->keying_len = (uint8_t)prm->keying_len;
    memcpy(r->keying, prm->keying, prm->keying_len);
    snprintf(r->path, sizeof(r->path), "%s", prm->path);
    for (unsigned i = 0; i < MEDIA_MAX_TRACKS; i++) {
        r->tracks[i].p = prm->tracks[i];
        r->tracks[i].p.mid[MEDIA_MID_MAX - 1] = 0;
        media_track_build_ext(&r->tracks[i]);
    }
    uint32_t spread;
    media_random(&spread, sizeof(spread));
    r->start_ns = ctl_now_ns();
    r->next_sr_ns = r->start_ns + spread % MEDIA_SR_INTERVAL_NS; /* spread SRs over a second */
    v->srtp = srtp;
    v->path = p;
    v->prev = NULL;
    v->next = p->viewers;
    if (p->viewers)
        p->viewers->prev = v;
    p->viewers = v;
    p->n_viewers++;
    w->n_viewers++;
    ctl_count(&w->cnt->viewers, 1);
    return 0;
}

int media_viewer_start(struct media_worker *w, struct media_viewer *v,
                       const struct media_viewer_params *prm)
{
    struct media_path *p;
    int rc = media_viewer_path(w, v, prm, &p);
    if (rc < 0 || (rc = media_viewer_attach(w, v, p, prm)) < 0)
        return rc;
    for (unsigned i = 0; i < MEDIA_MAX_TRACKS; i++) {
        v->rec.tracks[i].codec = p->codec[i];
        if (p->codec[i] == RING_CODEC_NONE)
            v->rec.tracks[i].p.flags = 0;
    }
    media_viewer_position(p, v);
    return 0;
}

/* The global packet number track t's first frame at or after frame seq starts at (frames
 * overwritten since are skipped), or the track's next one when it has none up to the live
 * edge. -ERANGE when seq lies too far behind the live edge to look. */
static int media_track_pkt_at(const struct media_path *p, unsigned t, uint64_t seq, uint64_t *g)
{
    uint64_t head = ring_reader_head(p->r);
    if (seq > head || head - seq > MEDIA_RESUME_SCAN)
        return -ERANGE;
    for (struct ring_frame f; seq < head; seq++)
        if (ring_reader_get(p->r, seq, &f) && f.track == t) {
            *g = f.first_pkt;
            return 0;
        }
    *g = ring_reader_next_pkt(p->r, t);
    return 0;
}

void media_viewer_resume_info(const struct media_viewer *v, struct media_resume *rs)
{
    memset(rs, 0, sizeof(*rs));
    if (!v->path)
        return;
    rs->ring_ident = ring_reader_ident(v->path->r);
    for (unsigned t = 0; t < MEDIA_MAX_TRACKS; t++)
        if (media_track_pkt_at(v->path, t, v->rec.next_frame, &rs->pkt_floor[t]) < 0)
            rs->pkt_floor[t] = 0; /* a bound below anything: refused if ever needed */
}

int media_viewer_resume(struct media_worker *w, struct media_viewer *v,
                        const struct media_viewer_params *prm, const struct media_resume *rs)
{
    struct media_path *p;
    int rc = media_viewer_path(w, v, prm, &p);
    if (rc < 0)
        return rc;
    if (ring_reader_ident(p->r) != rs->ring_ident)
        return -ESTALE;
    struct media_viewer_rec *r = &v->rec;
    uint64_t at = r->next_frame, head = ring_reader_head(p->r);
    if (at == 0 || at > head)
        return -ERANGE;
    /* rtc/esrtp.h: every packet the predecessor numbered after the record lies below the ring
     * position it stored before numbering it. */
    for (unsigned t = 0; t < MEDIA_MAX_TRACKS; t++) {
        struct media_viewer_track *vt = &r->tracks[t];
        uint64_t g_hi, above;
        if (!(vt->p.flags & MEDIA_TRACK_SEND))
            continue;
        if (vt->codec != p->codec[t])
            return -ERANGE;
        if (media_track_pkt_at(p, t, at, &g_hi) < 0)
            g_hi = ring_reader_next_pkt(p->r, t); /* lapped: later is a safe bound */
        if (esrtp_index_bound(&vt->idx, rs->pkt_floor[t], g_hi, &above) < 0)
            return -ERANGE;
        esrtp_index_resume(&vt->idx, above);
        vt->last_ring_ts_ns = ctl_now_ns(); /* sender reports extrapolate from here */
    }
    if ((rc = media_viewer_attach(w, v, p, prm)) < 0)
        return rc;
    struct ring_frame f;
    if (at < head && !ring_reader_get(p->r, at, &f)) {
        /* What followed its last frame is gone: the next keyframe, timestamps continuing. */
        media_viewer_at(v, p->next_frame);
        if (r->state == MEDIA_VIEWER_CATCHUP && p->video >= 0)
            r->tracks[p->video].cu_end = p->next_frame;
        r->state = MEDIA_VIEWER_LIVE;
        r->wait_key = 1;
    } else if (at < p->next_frame && r->state == MEDIA_VIEWER_LIVE && !p->sent &&
               ring_reader_seek(p->r, at)) {
        /* A path opened for adoption goes back to the frames sent to no one while no worker
         * ran; viewers adopted further on skip those they had. */
        p->next_frame = at;
    }
    return 0;
}

void media_flush(struct media_worker *w)
{
    if (media_batch_pending(w))
        media_batch_flush(w);
}

void media_viewer_move(struct media_worker *w, struct media_viewer *v,
                       const struct sockaddr *remote, socklen_t remote_len, uint32_t local_addr,
                       struct tcpq *tcp)
{
    if (remote_len == 0 || remote_len > sizeof(v->rec.remote))
        return;
    /* A queued datagram points at the old address: let it leave first. */
    media_flush(w);
    memcpy(v->rec.remote, remote, remote_len);
    v->rec.remote_len = remote_len;
    v->rec.local_addr = local_addr;
    v->tcp = tcp;
}

void media_viewer_stop(struct media_worker *w, struct media_viewer *v)
{
    struct media_path *p = v->path;
    if (!p)
        return;
    /* A queued datagram may still point at this viewer's address: send it now. */
    media_flush(w);
    v->tcp = NULL;
    v->udp = NULL;
    if (v->prev)
        v->prev->next = v->next;
    else
        p->viewers = v->next;
    if (v->next)
        v->next->prev = v->prev;
    if (--p->n_viewers == 0) { /* its frames no longer wake the worker */
        doorbell_set_remove(w->bells, ring_reader_doorbell(p->r));
        p->watched = false;
    }
    w->n_viewers--;
    atomic_fetch_sub_explicit(&w->cnt->viewers, 1, memory_order_relaxed);
    esrtp_free(v->srtp);
    v->srtp = NULL;
    v->path = NULL;
    v->progress = NULL;
    if (v->dirty)
        w->n_dirty--;
    v->dirty = false;
    v->prev = v->next = NULL;
    v->rec.state = MEDIA_VIEWER_IDLE;
}

/* A ring whose writer went silent may have been replaced by a new object under the same name
 * (another geometry after a reload, or the path removed and added again): then attach to the
 * new one. The same object, still silent, reads the same heartbeat and is kept. A ring its
 * writer retired (grown: ring_writer_resize) is followed as soon as the path has read it to the
 * end (send.c), else at the next tick, and when the new one still holds the frame the path
 * reads next, its viewers carry on where they were: the frame and packet numbers are the old
 * ring's, so positions, catch-ups and NACKs stay valid. */
bool media_path_check(struct media_worker *w, struct media_path *p, uint64_t now)
{
    bool retired = ring_reader_retired(p->r);
    if (!retired && now < p->next_check_ns)
        return false;
    p->next_check_ns = now + MEDIA_RING_CHECK_NS;
    uint64_t hb = ring_reader_heartbeat(p->r);
    if (!retired && hb && now - hb < w->ring_stale_ns)
        return false;
    struct ring_reader *nr;
    char shm[CONFIG_NAME_MAX + 40], err[128];
    snprintf(shm, sizeof(shm), "%s.%s", w->cfg->shm_prefix, p->name);
    if (ring_reader_open(&nr, shm, err, sizeof(err)) < 0)
        return false;
    if ((retired ? ring_reader_ident(nr) == ring_reader_ident(p->r)
                 : ring_reader_heartbeat(nr) <= hb) ||
        media_size_buffers(w, ring_reader_mtu(nr)) < 0) {
        ring_reader_close(nr);
        return false;
    }
    if (p->watched && doorbell_set_add(w->bells, ring_reader_doorbell(nr)) < 0) {
        ring_reader_close(nr);
        return false;
    }
    /* A frame read but not yet sent (the budget ran out) is read again from the new ring. */
    uint64_t at = p->has_pending ? p->pending.seq : p->next_frame;
    bool continued = retired && ring_reader_generation(nr) > ring_reader_generation(p->r) &&
                     ring_reader_mtu(nr) == p->mtu && ring_reader_seek(nr, at);
    if (continued)
        log_debug("media %s: ring grown (generation %u), %u viewers continue", p->name,
                  ring_reader_generation(nr), p->n_viewers);
    else
        log_info("media %s: ring replaced (generation %u), %u viewers carry on from its next "
                 "keyframe",
                 p->name, ring_reader_generation(nr), p->n_viewers);
    if (p->watched)
        doorbell_set_remove(w->bells, ring_reader_doorbell(p->r));
    ring_reader_close(p->r);
    media_desc_forget(w, p);
    p->has_pending = false;
    p->r = nr;
    media_path_load_tracks(p);
    if (continued) {
        p->next_frame = at;
        /* Their session records name the ring they read (its identity): a successor adopting
         * them must find this one. */
        for (struct media_viewer *v = p->viewers; v; v = v->next)
            media_viewer_note(w, v);
        return true;
    }
    p->mtu = ring_reader_mtu(nr);
    p->next_frame = ring_reader_head(nr);
    media_path_viewers_rebase(p);
    return true;
}

void media_viewers_note(struct media_worker *w)
{
    for (unsigned i = 0; i < w->n_paths && w->n_dirty; i++)
        for (struct media_viewer *v = w->paths[i]->viewers; v && w->n_dirty; v = v->next)
            if (v->dirty) {
                v->dirty = false;
                w->n_dirty--;
                w->changed(w->changed_arg, v);
            }
}

void media_worker_on_change(struct media_worker *w, void (*fn)(void *arg, struct media_viewer *v),
                            void *arg)
{
    w->changed = fn;
    w->changed_arg = arg;
}

static void media_tick_cb(uv_timer_t *t)
{
    struct media_worker *w = t->data;
    uint64_t now = ctl_now_ns();
    for (unsigned i = 0; i < w->n_paths; i++) {
        struct media_path *p = w->paths[i];
        (void)media_path_check(w, p, now);
        if (p->watched)
            media_path_lease(p, now);
    }
    for (unsigned i = 0; i < w->n_paths; i++)
        for (struct media_viewer *v = w->paths[i]->viewers; v; v = v->next) {
            if (now < v->rec.next_sr_ns)
                continue;
            v->rec.next_sr_ns += MEDIA_SR_INTERVAL_NS;
            if (v->rec.next_sr_ns < now) /* the loop stalled: don't send a burst */
                v->rec.next_sr_ns = now + MEDIA_SR_INTERVAL_NS;
            media_send_sr(w, v, now);
        }
    media_flush(w);
}

/* ---- the worker ---- */

int media_worker_init(struct media_worker **out, uv_loop_t *loop, const struct config *cfg,
                      struct ctl *ctl, struct ctl_counters *counters, int udp_fd)
{
    *out = NULL;
    int rc = esrtp_global_init();
    if (rc < 0)
        return rc;
    struct media_worker *w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    w->loop = loop;
    w->cfg = cfg;
    w->ctl = ctl;
    w->cnt = counters;
    w->fd = udp_fd;
    w->ring_stale_ns = MEDIA_RING_STALE_NS;
    w->wakeup_pkts = MEDIA_PKTS_PER_WAKEUP;
    w->gso = true; /* measured faster than sendmmsg of single datagrams: see mediabench */
    uint64_t r;
    media_random(&r, sizeof(r));
    snprintf(w->cname, sizeof(w->cname), "rc%016llx", (unsigned long long)r);
    rc = media_size_buffers(w, cfg->mtu);
    if (rc < 0)
        goto fail;
    /* A keyframe to a thousand viewers is a burst of megabytes: let the kernel queue it
     * (best effort: unprivileged, take what we get). */
    (void)sockbuf_set_snd(udp_fd, MEDIA_SNDBUF);
    if ((rc = uv_timer_init(loop, &w->tick)) < 0)
        goto fail;
    w->open_handles++;
    w->tick.data = w;
    if ((rc = uv_idle_init(loop, &w->idle)) < 0)
        goto fail_handles;
    w->open_handles++;
    w->idle.data = w;
    if ((rc = uv_check_init(loop, &w->flush)) < 0)
        goto fail_handles;
    w->open_handles++;
    w->flush.data = w;
    if ((rc = uv_timer_start(&w->tick, media_tick_cb, MEDIA_TICK_MS, MEDIA_TICK_MS)) < 0 ||
        (rc = doorbell_set_init(&w->bells, loop, media_on_doorbell, w, MEDIA_DOORBELL_WINDOW_NS)) <
            0)
        goto fail_handles;
    *out = w;
    return 0;
fail_handles:
    media_worker_free(w);
    return rc;
fail:
    free(w->buf);
    free(w->pk);
    free(w);
    return rc;
}

static void media_close_cb(uv_handle_t *h)
{
    struct media_worker *w = h->data;
    if (--w->open_handles > 0)
        return;
    free(w->buf);
    free(w->pk);
    free(w->paths);
    free(w);
}

void media_worker_free(struct media_worker *w)
{
    if (!w || w->freeing)
        return;
    w->freeing = true;
    for (unsigned i = 0; i < w->n_paths; i++) {
        struct media_path *p = w->paths[i];
        while (p->viewers)
            media_viewer_stop(w, p->viewers);
        media_path_close(p);
    }
    w->n_paths = 0;
    doorbell_set_free(w->bells);
    w->bells = NULL;
    uv_handle_t *handles[] = {(uv_handle_t *)&w->tick, (uv_handle_t *)&w->idle,
                              (uv_handle_t *)&w->flush};
    int open = w->open_handles;
    for (int i = 0; i < open; i++)
        uv_close(handles[i], media_close_cb);
}

unsigned media_worker_viewers(const struct media_worker *w)
{
    return w->n_viewers;
}
