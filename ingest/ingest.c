/* SPDX-License-Identifier: MIT */
/* ingest.c: the ingest pipeline: tracks, RTP -> depacketizer -> access units -> ring. It
 * keeps each video track's parameter sets, puts them in front of keyframes that lack them,
 * counts every frame's RTP packets with codec/pack.h at the ring's MTU, and keeps the
 * ingest's counters in its control slot. */
#include "ingest/ingest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"
#include "codec/depack.h"
#include "codec/pack.h"
#include "common/log.h"
#include "ingest/ringsize.h"
#include "shm/ring.h"

#define INGEST_AUDIO_MAX_AU (64u << 10)

struct ingest_track {
    struct ingest *ing;
    unsigned idx;
    uint32_t codec;
    struct depack *dp;
    uint64_t dp_dropped; /* depack_stats()->dropped already counted */
    size_t params_len;
    uint8_t params[RING_PARAMS_MAX];
};

struct ingest {
    char path[64];
    struct ring_writer *ring;
    uint64_t ring_max;     /* payload bytes the ring may grow to */
    unsigned ring_seconds; /* 0: the latest GOP + NACK window */
    int key_track;         /* the first video track: its keyframes mark what must stay */
    uint64_t key_seq, key_ns;
    bool ring_capped; /* logged once: the ring reached ring_max and still falls short */
    unsigned mtu;
    size_t max_frame;
    struct ctl_child *slot;
    unsigned n_tracks;
    struct ingest_track tracks[RING_MAX_TRACKS];
    unsigned starts;
    int last_err; /* last write error logged, so a persistent one is logged once */
    uint64_t written, dropped;
    uint8_t *scratch; /* a keyframe with parameter sets put in front */
};

int ingest_open(struct ingest **out, const struct ingest_opts *o, char *err, size_t errlen)
{
    struct ingest *ing = calloc(1, sizeof(*ing));
    if (!ing) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    snprintf(ing->path, sizeof(ing->path), "%s", o->path);
    ing->mtu = o->mtu ? o->mtu : PACK_DEFAULT_MTU;
    ing->slot = o->slot;
    uint64_t data = o->ring_bytes ? o->ring_bytes : RING_DEFAULT_DATA;
    ing->max_frame = data / 4 < RING_MAX_FRAME ? (size_t)(data / 4) : RING_MAX_FRAME;
    ing->scratch = malloc(ing->max_frame);
    if (!ing->scratch) {
        free(ing);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    ing->ring_max = data;
    ing->ring_seconds = o->ring_seconds;
    ing->key_track = -1;
    struct ring_writer_opts ro = {.slot_count = RINGSIZE_INITIAL_SLOTS,
                                  .data_size =
                                      data < RINGSIZE_INITIAL_DATA ? data : RINGSIZE_INITIAL_DATA,
                                  .mtu = ing->mtu,
                                  .keep_up_to = data};
    int e = ring_writer_open(&ing->ring, o->ring_name, &ro, err, errlen);
    if (e < 0) {
        ingest_close(ing);
        return e;
    }
    if (o->ctl_doorbell)
        ring_writer_set_doorbell(ing->ring, o->ctl_doorbell);
    for (unsigned i = 0; i < RING_MAX_TRACKS; i++) {
        ing->tracks[i].ing = ing;
        ing->tracks[i].idx = i;
    }
    *out = ing;
    return 0;
}

void ingest_close(struct ingest *ing)
{
    if (!ing)
        return;
    for (unsigned i = 0; i < RING_MAX_TRACKS; i++)
        depack_free(ing->tracks[i].dp);
    ring_writer_close(ing->ring, false);
    free(ing->scratch);
    free(ing);
}

void ingest_discard(struct ingest *ing)
{
    if (!ing)
        return;
    bool unused = ing->written == 0 && ring_writer_generation(ing->ring) == 1;
    ring_writer_close(ing->ring, unused);
    ing->ring = NULL;
    ingest_close(ing);
}

static void count_dropped(struct ingest *ing, uint64_t n)
{
    ing->dropped += n;
    if (ing->slot)
        ctl_count(&ing->slot->counters.frames_dropped, n);
}

/* Logs a write failure once per change of reason: per-frame logging would flood. */
static void note_write_result(struct ingest *ing, unsigned track, int64_t r, size_t len)
{
    if (r > 0) {
        ing->last_err = 0;
        ing->written++;
        if (ing->slot)
            ctl_count(&ing->slot->counters.frames_written, 1);
        return;
    }
    count_dropped(ing, 1);
    if ((int)r != ing->last_err)
        log_warn("ingest %s: track %u: frame of %zu bytes not written: %s (counting further "
                 "drops silently)",
                 ing->path, track, len, strerror((int)-r));
    ing->last_err = (int)r;
}

/* Remembers new parameter sets; true if they changed. */
static bool track_set_params(struct ingest_track *t, const uint8_t *p, size_t len)
{
    if (len == 0 || len > sizeof(t->params) ||
        (len == t->params_len && memcmp(p, t->params, len) == 0))
        return false;
    memcpy(t->params, p, len);
    t->params_len = len;
    (void)ring_writer_set_params(t->ing->ring, t->idx, p, len); /* idx is valid: cannot fail */
    return true;
}

/* Builds in scratch: leading access unit delimiter (which must stay first, H.264 7.4.1.2.3),
 * the track's parameter sets, the rest of the unit. Returns the length, 0 if too big. */
static size_t prepend_params(struct ingest_track *t, const uint8_t *au, size_t len)
{
    struct ingest *ing = t->ing;
    if (t->params_len + len > ing->max_frame)
        return 0;
    size_t pos = 0, head = 0;
    const uint8_t *nal;
    size_t n;
    if (codec_annexb_next(au, len, &pos, &nal, &n) == 1) {
        int type = codec_nal_type(t->codec, nal, n);
        if ((t->codec == RING_CODEC_H264 && type == 9) ||
            (t->codec == RING_CODEC_H265 && type == 35))
            head = (size_t)(nal - au) + n; /* its trailing zeros go with the next NAL */
    }
    memcpy(ing->scratch, au, head);
    memcpy(ing->scratch + head, t->params, t->params_len);
    memcpy(ing->scratch + head + t->params_len, au + head, len - head);
    return len + t->params_len;
}

/* Grows the ring, before a frame of len bytes goes in, when it would no longer hold every frame
 * from the oldest one viewers may need (ringsize_from_ns). Readers follow the new ring. */
static void fit_ring(struct ingest *ing, size_t len)
{
    uint64_t now = ctl_now_ns();
    struct ring_usage u;
    ring_writer_usage(ing->ring, ringsize_from_ns(now, ing->ring_seconds, ing->key_ns),
                      ing->key_seq, &u);
    struct ringsize cur = {ring_writer_slot_count(ing->ring), ring_writer_data_size(ing->ring)},
                    next;
    if (!ringsize_plan(&cur, &u, len, ing->ring_max, &next)) {
        if (!ing->ring_capped && cur.data == ing->ring_max &&
            (u.lost || u.bytes + 2 * len > cur.data)) {
            ing->ring_capped = true;
            log_warn("ingest %s: the ring holds less than the latest GOP and NACK window at "
                     "ring_mb = %llu (raise it)",
                     ing->path, (unsigned long long)(ing->ring_max >> 20));
        }
        return;
    }
    char err[160];
    int e = ring_writer_resize(ing->ring, next.slots, next.data, err, sizeof(err));
    if (e < 0) {
        log_warn("ingest %s: %s", ing->path, err);
        return;
    }
    log_info("ingest %s: ring grown to %u frames, %llu KiB (%llu frames, %llu KiB held)", ing->path,
             next.slots, (unsigned long long)(next.data >> 10), (unsigned long long)u.frames,
             (unsigned long long)(u.bytes >> 10));
}

/* Writes one complete unit. The track's parameter sets follow the ones the unit carries
 * in-band; a keyframe without any gets the current ones in front. */
static int64_t write_unit(struct ingest_track *t, uint32_t ts, const uint8_t *au, size_t len,
                          bool key)
{
    struct ingest *ing = t->ing;
    uint32_t flags = 0;
    if (codec_is_video(t->codec)) {
        uint8_t found[RING_PARAMS_MAX];
        int n = codec_params_from_au(t->codec, au, len, found, sizeof(found));
        if (n > 0 && track_set_params(t, found, (size_t)n))
            flags |= RING_FRAME_PARAMS_CHANGED;
        if (key && n == 0 && t->params_len > 0) {
            size_t with = prepend_params(t, au, len);
            if (with > 0) {
                au = ing->scratch;
                len = with;
            }
        }
        if (key)
            flags |= RING_FRAME_KEY;
    }
    int count = pack_count(t->codec, au, len, ing->mtu);
    if (count >= 0)
        fit_ring(ing, len);
    int64_t r = count < 0
                    ? count
                    : ring_writer_write(ing->ring, t->idx, flags, ts, (uint32_t)count, au, len);
    if (r > 0 && key && (int)t->idx == ing->key_track) {
        ing->key_seq = (uint64_t)r;
        ing->key_ns = ctl_now_ns();
    }
    note_write_result(ing, t->idx, r, len);
    return r;
}

static void on_depacked(void *arg, const struct depack_au *au)
{
    struct ingest_track *t = arg;
    (void)write_unit(t, au->ts, au->data, au->len, au->key); /* counted and logged there */
}

int ingest_add_track(struct ingest *ing, const struct ingest_track_desc *d)
{
    if (ing->n_tracks >= RING_MAX_TRACKS)
        return -ENOSPC;
    struct ingest_track *t = &ing->tracks[ing->n_tracks];
    struct ring_track rt = {
        .codec = d->codec, .clock_rate = d->clock_rate, .channels = d->channels ? d->channels : 1};
    if (d->fmtp)
        snprintf(rt.fmtp, sizeof(rt.fmtp), "%s", d->fmtp);
    int n = 0;
    if (d->params && d->params_len > 0) {
        if (d->params_len > sizeof(rt.params))
            return -ENOSPC;
        memcpy(rt.params, d->params, d->params_len);
        n = (int)d->params_len;
    } else if (d->fmtp) {
        n = codec_params_from_fmtp(d->codec, d->fmtp, strlen(d->fmtp), rt.params,
                                   sizeof(rt.params));
        if (n < 0)
            return n == -ENOSPC ? -ENOSPC : -EBADMSG;
    }
    rt.params_len = (uint32_t)n;
    depack_free(t->dp);
    t->dp = NULL;
    size_t max_au = codec_is_video(d->codec) ? ing->max_frame : INGEST_AUDIO_MAX_AU;
    int e = depack_create(&t->dp, d->codec, max_au, on_depacked, t);
    if (e < 0)
        return e;
    e = ring_writer_set_track(ing->ring, t->idx, &rt);
    if (e < 0)
        return e;
    t->codec = d->codec;
    t->dp_dropped = 0;
    if (ing->key_track < 0 && codec_is_video(d->codec))
        ing->key_track = (int)t->idx;
    memcpy(t->params, rt.params, (size_t)n);
    t->params_len = (size_t)n;
    return (int)ing->n_tracks++;
}

int ingest_rtp(struct ingest *ing, unsigned track, const uint8_t *pkt, size_t len)
{
    if (track >= ing->n_tracks)
        return -EINVAL;
    struct ingest_track *t = &ing->tracks[track];
    int e = depack_push(t->dp, pkt, len);
    uint64_t dropped = depack_stats(t->dp)->dropped;
    if (dropped != t->dp_dropped) {
        count_dropped(ing, dropped - t->dp_dropped);
        t->dp_dropped = dropped;
    }
    return e;
}

int64_t ingest_au(struct ingest *ing, unsigned track, uint32_t ts, const uint8_t *au, size_t len)
{
    if (track >= ing->n_tracks)
        return -EINVAL;
    struct ingest_track *t = &ing->tracks[track];
    return write_unit(t, ts, au, len, codec_au_is_key(t->codec, au, len));
}

void ingest_restart(struct ingest *ing)
{
    if (++ing->starts > 1 && ing->slot)
        ctl_count(&ing->slot->counters.source_reconnects, 1);
    for (unsigned i = 0; i < ing->n_tracks; i++) {
        ring_writer_rebase(ing->ring, i);
        depack_reset(ing->tracks[i].dp);
    }
    ing->n_tracks = 0;
    ing->key_track = -1; /* found again among the tracks declared next */
}

void ingest_tick(struct ingest *ing)
{
    ring_writer_heartbeat(ing->ring);
    if (ing->slot)
        atomic_store_explicit(&ing->slot->heartbeat_ns, ctl_now_ns(), memory_order_relaxed);
    uint32_t req = ring_writer_take_keyframe_requests(ing->ring);
    if (req > 0) {
        /* Neither a file loop nor an RTSP pull can force a keyframe: the next one comes
         * with the source's GOP. */
        log_debug("ingest %s: %u keyframe requests (served by the source's GOP)", ing->path, req);
    }
}

void ingest_pub_begin(struct ingest *ing, enum ctl_pub_proto proto, const char *addr)
{
    if (ing->slot)
        ctl_pub_set(&ing->slot->publisher, proto, addr, ctl_now_ns());
}

void ingest_pub_update(struct ingest *ing, uint64_t bytes, uint64_t packets_lost, uint64_t nacks)
{
    if (ing->slot)
        ctl_pub_update(&ing->slot->publisher, bytes, packets_lost, nacks, ctl_now_ns());
}

void ingest_pub_end(struct ingest *ing)
{
    ingest_pub_begin(ing, CTL_PUB_NONE, "");
}

uint64_t ingest_frames_written(const struct ingest *ing)
{
    return ing->written;
}

uint64_t ingest_frames_dropped(const struct ingest *ing)
{
    return ing->dropped;
}

bool ingest_watched(const struct ingest *ing)
{
    return ring_writer_watched(ing->ring, ctl_now_ns());
}
