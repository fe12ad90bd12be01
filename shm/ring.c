/* SPDX-License-Identifier: MIT */
/* ring.c: the single-writer frame ring in POSIX shm (see ring.h for the layout). The writer
 * never waits for readers; readers validate every offset they read from shared memory and
 * detect being lapped through slot sequence numbers and the 'reserved' byte counter. */
#include "shm/ring.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shm/ctl.h"
#include "shm/doorbell.h"

#define RING_TRACKS_BYTES  (RING_MAX_TRACKS * sizeof(struct ring_track_desc))
#define RING_MIN_SLOTS     4u
#define RING_MAX_SLOTS     (1u << 22)
#define RING_MIN_DATA      4096ull
#define RING_MAX_DATA      (1ull << 34)
#define RING_SEQLOCK_TRIES 64

/* The parts of a mapped ring both sides need; geometry is copied out of the header once,
 * validated, and never re-read, so a corrupted header cannot move later bounds checks. */
struct ring_map {
    uint8_t *base;
    size_t len;
    uint32_t slot_count;
    uint64_t data_size;
    struct ring_hdr *hdr;
    struct ring_track_desc *tracks;
    struct ring_slot *slots;
    uint8_t *data;
    char name[80]; /* "/<prefix>.<path>" */
};

struct ring_writer {
    struct ring_map m;
    int fd; /* kept open: holds the flock that makes this the only writer */
    _Atomic uint32_t *extra_doorbell;
};

struct ring_reader {
    struct ring_map m;
    struct ring_hdr *hdr_rw; /* the header page mapped writable, see struct ring_hdr */
    uint64_t next;
    dev_t dev; /* identity of the object mapped, for ring_reader_replaced */
    ino_t ino;
};

static void ring_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void ring_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static bool is_pow2(uint64_t v)
{
    return v && !(v & (v - 1));
}

static size_t ring_map_len(uint32_t slot_count, uint64_t data_size)
{
    return sizeof(struct ring_hdr) + RING_TRACKS_BYTES +
           (size_t)slot_count * sizeof(struct ring_slot) + (size_t)data_size;
}

static bool ring_geometry_ok(uint64_t slot_count, uint64_t data_size)
{
    return is_pow2(slot_count) && slot_count >= RING_MIN_SLOTS && slot_count <= RING_MAX_SLOTS &&
           is_pow2(data_size) && data_size >= RING_MIN_DATA && data_size <= RING_MAX_DATA;
}

static void ring_map_set(struct ring_map *m, void *base, size_t len, uint32_t slot_count,
                         uint64_t data_size)
{
    m->base = base;
    m->len = len;
    m->slot_count = slot_count;
    m->data_size = data_size;
    m->hdr = base;
    m->tracks = (struct ring_track_desc *)(m->base + sizeof(struct ring_hdr));
    m->slots = (struct ring_slot *)(m->base + sizeof(struct ring_hdr) + RING_TRACKS_BYTES);
    m->data = (uint8_t *)(m->slots + slot_count);
}

static int ring_shm_name(struct ring_map *m, const char *name, char *err, size_t errlen)
{
    if (!name || !*name || strchr(name, '/') ||
        (size_t)snprintf(m->name, sizeof(m->name), "/%s", name) >= sizeof(m->name)) {
        ring_err(err, errlen, "bad ring name '%s'", name ? name : "");
        return -EINVAL;
    }
    return 0;
}

static uint32_t ring_max_frame(const struct ring_map *m)
{
    uint64_t lim = m->data_size / 4;
    return lim < RING_MAX_FRAME ? (uint32_t)lim : RING_MAX_FRAME;
}

/* Whether frame seq can still be in a ring whose next frame is head: one of the last
 * slot_count published. Scans bounded by it stay bounded whatever head a broken header
 * holds (seq and head are unsigned: head - seq wraps for seq >= head). */
static bool ring_in_window(uint64_t seq, uint64_t head, uint32_t slot_count)
{
    return seq > 0 && seq < head && head - seq <= slot_count;
}

/* ---- writer ---- */

/* Whether a new writer may continue the ring in h. The MTU is part of the match: a frame's
 * packet numbers are its count at the ring's MTU, and a reader packetizes at the MTU it read
 * when it attached; continuing under another MTU would give readers attached before frames
 * numbered for packets they do not build. */
static bool ring_hdr_matches(const struct ring_hdr *h, uint32_t slot_count, uint64_t data_size,
                             uint32_t mtu)
{
    return h->magic == RING_MAGIC && h->version == RING_VERSION &&
           h->hdr_size == sizeof(struct ring_hdr) && h->slot_count == slot_count &&
           h->data_size == data_size && h->mtu == mtu;
}

static int ring_copy_slot(const struct ring_map *m, uint64_t seq, struct ring_frame *f);
static int ring_read_slot(const struct ring_map *m, uint64_t seq, struct ring_frame *f);

/* A predecessor killed inside ring_writer_write may have advanced a track's next_pkt,
 * latest_key or timestamp state for a frame it never published. The published frames are
 * the truth: each track continues from its newest frame still in the ring. */
static void ring_writer_recover_tracks(struct ring_writer *w)
{
    struct ring_hdr *h = w->m.hdr;
    uint64_t head = atomic_load_explicit(&h->head, memory_order_relaxed);
    bool seen[RING_MAX_TRACKS] = {false}, key_seen[RING_MAX_TRACKS] = {false};
    for (unsigned i = 0; i < RING_MAX_TRACKS; i++) {
        struct ring_track_state *ts = &h->track_state[i];
        if (atomic_load_explicit(&ts->latest_key, memory_order_relaxed) >= head)
            atomic_store_explicit(&ts->latest_key, 0, memory_order_relaxed);
        else
            key_seen[i] = true; /* a published keyframe: keep it */
    }
    struct ring_frame f;
    for (uint64_t seq = head - 1; ring_in_window(seq, head, w->m.slot_count); seq--) {
        if (ring_copy_slot(&w->m, seq, &f) != 1)
            continue;
        struct ring_track_state *ts = &h->track_state[f.track];
        if (!seen[f.track]) {
            seen[f.track] = true;
            atomic_store_explicit(&ts->next_pkt, f.first_pkt + f.pkt_count, memory_order_relaxed);
            ts->last_ring_ts = f.rtp_ts;
            ts->last_wall_ns = f.arrival_ns;
            ts->ts_valid = 1;
        }
        if (!key_seen[f.track] && (f.flags & RING_FRAME_KEY)) {
            key_seen[f.track] = true;
            atomic_store_explicit(&ts->latest_key, seq, memory_order_relaxed);
        }
    }
}

/* A new writer of an existing ring: the frame sequence, packet numbers and 'reserved'
 * simply continue; every track's timestamps are rebased on its next frame. A predecessor
 * killed inside a seqlock update left desc_seq odd; making it even again lets readers in
 * (the new writer declares its tracks again before writing). */
static void ring_writer_resume(struct ring_writer *w)
{
    struct ring_hdr *h = w->m.hdr;
    ring_writer_recover_tracks(w);
    for (unsigned i = 0; i < RING_MAX_TRACKS; i++) {
        struct ring_track_state *ts = &h->track_state[i];
        uint32_t s = atomic_load_explicit(&ts->desc_seq, memory_order_relaxed);
        if (s & 1)
            atomic_store_explicit(&ts->desc_seq, s + 1, memory_order_release);
        ts->rebase = 1;
    }
    atomic_fetch_add_explicit(&h->generation, 1, memory_order_release);
}

static void ring_writer_init_hdr(struct ring_writer *w, uint32_t mtu)
{
    struct ring_hdr *h = w->m.hdr;
    memset(w->m.base, 0, sizeof(struct ring_hdr) + RING_TRACKS_BYTES);
    memset(w->m.slots, 0, (size_t)w->m.slot_count * sizeof(struct ring_slot));
    h->version = RING_VERSION;
    h->hdr_size = sizeof(struct ring_hdr);
    h->slot_count = w->m.slot_count;
    h->data_size = w->m.data_size;
    h->mtu = mtu;
    atomic_store_explicit(&h->generation, 1, memory_order_relaxed);
    atomic_store_explicit(&h->head, 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    h->magic = RING_MAGIC;
}

/* Opens (creating if needed) the object and takes the writer lock. 0 or -errno. */
static int ring_writer_lock_open(struct ring_writer *w, char *err, size_t errlen)
{
    w->fd = shm_open(w->m.name, O_RDWR | O_CREAT, 0600);
    if (w->fd < 0) {
        int e = -errno;
        ring_err(err, errlen, "shm_open %s: %s", w->m.name, strerror(-e));
        return e;
    }
    if (flock(w->fd, LOCK_EX | LOCK_NB) < 0) {
        int e = -errno;
        ring_err(err, errlen, "ring %s: another writer holds it (%s)", w->m.name, strerror(-e));
        close(w->fd);
        w->fd = -1;
        return e == -EWOULDBLOCK ? -EBUSY : e;
    }
    return 0;
}

/* Leaves w->fd locked on an object of len bytes. *reuse: it already held a ring of this
 * geometry, MTU and layout, to be continued. Anything else is replaced by a fresh object (unlink
 * and create, not resize: readers still mapping the old one keep a consistent, if dead,
 * ring instead of faulting). */
static int ring_writer_prepare(struct ring_writer *w, size_t len, uint32_t slots, uint64_t data,
                               uint32_t mtu, bool *reuse, char *err, size_t errlen)
{
    struct stat st;
    if (fstat(w->fd, &st) < 0) {
        int e = -errno;
        ring_err(err, errlen, "fstat %s: %s", w->m.name, strerror(-e));
        return e;
    }
    *reuse = false;
    if ((size_t)st.st_size == len) {
        struct ring_hdr h;
        *reuse = pread(w->fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h) &&
                 ring_hdr_matches(&h, slots, data, mtu);
        if (*reuse)
            return 0;
    }
    if (st.st_size != 0) {
        close(w->fd); /* also drops the lock on the old object */
        w->fd = -1;
        shm_unlink(w->m.name);
        int e = ring_writer_lock_open(w, err, errlen);
        if (e < 0)
            return e;
    }
    if (ftruncate(w->fd, (off_t)len) < 0) {
        int e = -errno;
        ring_err(err, errlen, "ftruncate %s to %zu bytes: %s", w->m.name, len, strerror(-e));
        return e;
    }
    return 0;
}

/* A ring the writer may continue at its own geometry: the same layout and MTU, a valid
 * geometry matching the object's size, at most up_to payload bytes. Then *slots and *data
 * take its geometry (ring_writer_prepare continues it). */
static void ring_writer_existing_geometry(struct ring_writer *w, uint32_t mtu, uint64_t up_to,
                                          uint32_t *slots, uint64_t *data)
{
    struct stat st;
    struct ring_hdr h;
    if (fstat(w->fd, &st) < 0 || pread(w->fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
        return;
    if (h.magic == RING_MAGIC && h.version == RING_VERSION && h.hdr_size == sizeof(h) &&
        h.mtu == mtu && ring_geometry_ok(h.slot_count, h.data_size) && h.data_size <= up_to &&
        ring_map_len(h.slot_count, h.data_size) == (size_t)st.st_size) {
        *slots = h.slot_count;
        *data = h.data_size;
    }
}

int ring_writer_open(struct ring_writer **out, const char *name,
                     const struct ring_writer_opts *opts, char *err, size_t errlen)
{
    *out = NULL;
    uint32_t slots = opts && opts->slot_count ? opts->slot_count : RING_DEFAULT_SLOTS;
    uint64_t data = opts && opts->data_size ? opts->data_size : RING_DEFAULT_DATA;
    if (!ring_geometry_ok(slots, data)) {
        ring_err(err, errlen, "ring %s: bad geometry (%u slots, %llu bytes)", name, slots,
                 (unsigned long long)data);
        return -EINVAL;
    }
    struct ring_writer *w = calloc(1, sizeof(*w));
    if (!w) {
        ring_err(err, errlen, "out of memory");
        return -ENOMEM;
    }
    w->fd = -1;
    int e = ring_shm_name(&w->m, name, err, errlen);
    if (e < 0)
        goto fail;
    e = ring_writer_lock_open(w, err, errlen);
    if (e < 0)
        goto fail;
    if (opts && opts->keep_up_to)
        ring_writer_existing_geometry(w, opts->mtu, opts->keep_up_to, &slots, &data);
    size_t len = ring_map_len(slots, data);
    uint32_t mtu = opts ? opts->mtu : 0;
    bool reuse;
    e = ring_writer_prepare(w, len, slots, data, mtu, &reuse, err, errlen);
    if (e < 0)
        goto fail;
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, w->fd, 0);
    if (p == MAP_FAILED) {
        e = -errno;
        ring_err(err, errlen, "mmap %s (%zu bytes): %s", w->m.name, len, strerror(-e));
        goto fail;
    }
    ring_map_set(&w->m, p, len, slots, data);
    if (reuse)
        ring_writer_resume(w);
    else
        ring_writer_init_hdr(w, mtu);
    atomic_store_explicit(&w->m.hdr->writer_pid, (int32_t)getpid(), memory_order_relaxed);
    ring_writer_heartbeat(w);
    *out = w;
    return 0;
fail:
    ring_writer_close(w, false);
    return e;
}

void ring_writer_close(struct ring_writer *w, bool unlink)
{
    if (!w)
        return;
    if (w->m.base) {
        atomic_store_explicit(&w->m.hdr->writer_pid, 0, memory_order_relaxed);
        munmap(w->m.base, w->m.len);
    }
    if (unlink && w->m.name[0])
        shm_unlink(w->m.name);
    if (w->fd >= 0)
        close(w->fd);
    free(w);
}

/* Seqlock update of track idx's descriptor: readers retry while desc_seq is odd or moved. */
static void ring_desc_begin(struct ring_track_state *ts)
{
    uint32_t s = atomic_load_explicit(&ts->desc_seq, memory_order_relaxed);
    atomic_store_explicit(&ts->desc_seq, s + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
}

static void ring_desc_end(struct ring_track_state *ts)
{
    uint32_t s = atomic_load_explicit(&ts->desc_seq, memory_order_relaxed);
    atomic_store_explicit(&ts->desc_seq, s + 1, memory_order_release);
}

int ring_writer_set_track(struct ring_writer *w, unsigned idx, const struct ring_track *t)
{
    if (idx >= RING_MAX_TRACKS || t->params_len > RING_PARAMS_MAX)
        return -EINVAL;
    struct ring_track_state *ts = &w->m.hdr->track_state[idx];
    ring_desc_begin(ts);
    w->m.tracks[idx].t = *t;
    w->m.tracks[idx].t.fmtp[RING_FMTP_MAX - 1] = '\0';
    ring_desc_end(ts);
    return 0;
}

int ring_writer_set_params(struct ring_writer *w, unsigned idx, const uint8_t *params, size_t len)
{
    if (idx >= RING_MAX_TRACKS || len > RING_PARAMS_MAX)
        return -EINVAL;
    struct ring_track_state *ts = &w->m.hdr->track_state[idx];
    ring_desc_begin(ts);
    if (len)
        memcpy(w->m.tracks[idx].t.params, params, len);
    w->m.tracks[idx].t.params_len = (uint32_t)len;
    ring_desc_end(ts);
    return 0;
}

void ring_writer_rebase(struct ring_writer *w, unsigned idx)
{
    if (idx < RING_MAX_TRACKS)
        w->m.hdr->track_state[idx].rebase = 1;
}

/* Maps a source timestamp to ring time. After a rebase the ring clock advances by the
 * wall-clock gap since the track's last frame (at least one tick, so timestamps never
 * repeat), then follows the new source base. */
static uint32_t ring_map_ts(struct ring_writer *w, unsigned idx, uint32_t src_ts, uint64_t now)
{
    struct ring_track_state *ts = &w->m.hdr->track_state[idx];
    if (!ts->ts_valid) {
        ts->ts_offset = 0;
    } else if (ts->rebase) {
        uint64_t rate = w->m.tracks[idx].t.clock_rate ? w->m.tracks[idx].t.clock_rate : 90000;
        uint64_t gap = now > ts->last_wall_ns ? now - ts->last_wall_ns : 0;
        uint64_t ticks = gap / 1000 * rate / 1000000;
        uint32_t ring_ts = ts->last_ring_ts + (uint32_t)(ticks ? ticks : 1);
        ts->ts_offset = ring_ts - src_ts;
    }
    ts->rebase = 0;
    ts->ts_valid = 1;
    ts->last_wall_ns = now;
    ts->last_ring_ts = src_ts + ts->ts_offset;
    return ts->last_ring_ts;
}

/* Reserves len contiguous payload bytes and returns their absolute position. 'reserved'
 * is published before any byte is written, so a reader that checks it after using a
 * frame sees every overwrite that could have touched the frame's bytes. */
static uint64_t ring_reserve(struct ring_writer *w, size_t len)
{
    struct ring_hdr *h = w->m.hdr;
    uint64_t pos = atomic_load_explicit(&h->reserved, memory_order_relaxed);
    uint64_t off = pos & (w->m.data_size - 1);
    if (off + len > w->m.data_size)
        pos += w->m.data_size - off; /* frames are contiguous: skip the tail */
    atomic_store_explicit(&h->reserved, pos + len, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    return pos;
}

int64_t ring_writer_write(struct ring_writer *w, unsigned track, uint32_t flags, uint32_t src_ts,
                          uint32_t pkt_count, const uint8_t *data, size_t len)
{
    if (track >= RING_MAX_TRACKS)
        return -EINVAL;
    if (len > ring_max_frame(&w->m))
        return -EMSGSIZE;
    struct ring_hdr *h = w->m.hdr;
    struct ring_track_state *ts = &h->track_state[track];
    uint64_t now = ctl_now_ns();
    uint64_t seq = atomic_load_explicit(&h->head, memory_order_relaxed);
    struct ring_slot *s = &w->m.slots[seq & (w->m.slot_count - 1)];

    /* Invalidate the slot first: a reader still copying its previous frame sees seq move. */
    atomic_store_explicit(&s->seq, 0, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);

    uint64_t pos = ring_reserve(w, len);
    if (len)
        memcpy(w->m.data + (pos & (w->m.data_size - 1)), data, len);
    uint64_t first_pkt = atomic_load_explicit(&ts->next_pkt, memory_order_relaxed);
    atomic_store_explicit(&s->data_pos, pos, memory_order_relaxed);
    atomic_store_explicit(&s->first_pkt, first_pkt, memory_order_relaxed);
    atomic_store_explicit(&s->arrival_ns, now, memory_order_relaxed);
    atomic_store_explicit(&s->len, (uint32_t)len, memory_order_relaxed);
    atomic_store_explicit(&s->rtp_ts, ring_map_ts(w, track, src_ts, now), memory_order_relaxed);
    atomic_store_explicit(&s->pkt_count, pkt_count, memory_order_relaxed);
    atomic_store_explicit(&s->track, (uint8_t)track, memory_order_relaxed);
    atomic_store_explicit(&s->flags, (uint8_t)flags, memory_order_relaxed);
    atomic_store_explicit(&s->seq, seq, memory_order_release);

    atomic_store_explicit(&ts->next_pkt, first_pkt + pkt_count, memory_order_release);
    if (flags & RING_FRAME_KEY)
        atomic_store_explicit(&ts->latest_key, seq, memory_order_release);
    atomic_store_explicit(&h->head, seq + 1, memory_order_release);

    doorbell_ring(&h->doorbell);
    if (w->extra_doorbell)
        doorbell_ring(w->extra_doorbell);
    return (int64_t)seq;
}

/* Copies frame f of the old ring into the new one under the same sequence number, packet
 * numbers, timestamp and arrival time; only its payload position differs. */
static void ring_writer_copy_frame(struct ring_writer *nw, const struct ring_frame *f)
{
    struct ring_slot *s = &nw->m.slots[f->seq & (nw->m.slot_count - 1)];
    uint64_t pos = ring_reserve(nw, f->len);
    memcpy(nw->m.data + (pos & (nw->m.data_size - 1)), f->data, f->len);
    atomic_store_explicit(&s->data_pos, pos, memory_order_relaxed);
    atomic_store_explicit(&s->first_pkt, f->first_pkt, memory_order_relaxed);
    atomic_store_explicit(&s->arrival_ns, f->arrival_ns, memory_order_relaxed);
    atomic_store_explicit(&s->len, f->len, memory_order_relaxed);
    atomic_store_explicit(&s->rtp_ts, f->rtp_ts, memory_order_relaxed);
    atomic_store_explicit(&s->pkt_count, f->pkt_count, memory_order_relaxed);
    atomic_store_explicit(&s->track, f->track, memory_order_relaxed);
    atomic_store_explicit(&s->flags, f->flags, memory_order_relaxed);
    atomic_store_explicit(&s->seq, f->seq, memory_order_relaxed);
}

/* The oldest frame of the writer's ring whose slot and bytes are both still there. */
static uint64_t ring_writer_oldest(const struct ring_writer *w)
{
    uint64_t head = atomic_load_explicit(&w->m.hdr->head, memory_order_relaxed), oldest = head;
    struct ring_frame f;
    for (uint64_t seq = head - 1; ring_in_window(seq, head, w->m.slot_count); seq--) {
        if (ring_read_slot(&w->m, seq, &f) != 1)
            break;
        oldest = seq;
    }
    return oldest;
}

int ring_writer_resize(struct ring_writer *w, uint32_t slot_count, uint64_t data_size, char *err,
                       size_t errlen)
{
    if (!ring_geometry_ok(slot_count, data_size) || slot_count < w->m.slot_count ||
        data_size < w->m.data_size) {
        ring_err(err, errlen, "ring %s: cannot resize to %u slots, %llu bytes", w->m.name,
                 slot_count, (unsigned long long)data_size);
        return -EINVAL;
    }
    if (slot_count == w->m.slot_count && data_size == w->m.data_size)
        return 0;
    struct ring_writer nw = {.fd = -1, .extra_doorbell = w->extra_doorbell};
    memcpy(nw.m.name, w->m.name, sizeof(nw.m.name));
    /* A new object, not a larger one: readers mapping the old one keep a consistent ring
     * until they re-attach (ftruncate under them would move nothing but could fault). */
    (void)shm_unlink(w->m.name);
    int e = ring_writer_lock_open(&nw, err, errlen);
    size_t len = ring_map_len(slot_count, data_size);
    if (e == 0 && ftruncate(nw.fd, (off_t)len) < 0) {
        e = -errno;
        ring_err(err, errlen, "ftruncate %s to %zu bytes: %s", nw.m.name, len, strerror(-e));
    }
    void *p = MAP_FAILED;
    if (e == 0 &&
        (p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, nw.fd, 0)) == MAP_FAILED) {
        e = -errno;
        ring_err(err, errlen, "mmap %s (%zu bytes): %s", nw.m.name, len, strerror(-e));
    }
    if (e < 0) {
        if (nw.fd >= 0)
            close(nw.fd);
        return e;
    }
    ring_map_set(&nw.m, p, len, slot_count, data_size);
    struct ring_hdr *h = nw.m.hdr, *oh = w->m.hdr;
    /* Header and track table as they are (magic last), the geometry and positions anew. */
    memcpy(nw.m.base, w->m.base, sizeof(struct ring_hdr) + RING_TRACKS_BYTES);
    h->magic = 0;
    h->slot_count = slot_count;
    h->data_size = data_size;
    atomic_store_explicit(&h->reserved, 0, memory_order_relaxed);
    atomic_store_explicit(&h->doorbell, 0, memory_order_relaxed);
    atomic_store_explicit(&h->keyframe_requests, 0, memory_order_relaxed);
    atomic_store_explicit(&h->retired, 0, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->generation, 1, memory_order_relaxed);
    uint64_t head = atomic_load_explicit(&oh->head, memory_order_relaxed);
    struct ring_frame f;
    for (uint64_t seq = ring_writer_oldest(w); seq < head; seq++)
        if (ring_copy_slot(&w->m, seq, &f) == 1)
            ring_writer_copy_frame(&nw, &f);
    atomic_thread_fence(memory_order_release);
    h->magic = RING_MAGIC;
    ring_writer_heartbeat(&nw);
    /* Readers of the old object look for the new one at their next check. */
    atomic_store_explicit(&oh->retired, 1, memory_order_release);
    atomic_store_explicit(&oh->writer_pid, 0, memory_order_relaxed);
    doorbell_ring(&oh->doorbell);
    munmap(w->m.base, w->m.len);
    close(w->fd);
    w->m = nw.m;
    w->fd = nw.fd;
    return 0;
}

uint32_t ring_writer_slot_count(const struct ring_writer *w)
{
    return w->m.slot_count;
}

uint64_t ring_writer_data_size(const struct ring_writer *w)
{
    return w->m.data_size;
}

void ring_writer_usage(const struct ring_writer *w, uint64_t from_ns, uint64_t keep_seq,
                       struct ring_usage *u)
{
    const struct ring_hdr *h = w->m.hdr;
    uint64_t head = atomic_load_explicit(&h->head, memory_order_relaxed);
    uint64_t lo = head > w->m.slot_count ? head - w->m.slot_count : 1, hi = head, oldest;
    struct ring_frame f;
    /* The first frame that arrived at or after from_ns: arrival times only grow, and the
     * slots the writer has not (re)filled since it opened are all at the old end. */
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (ring_copy_slot(&w->m, mid, &f) == 1 && f.arrival_ns >= from_ns)
            hi = mid;
        else
            lo = mid + 1;
    }
    oldest = lo;
    if (keep_seq && keep_seq < oldest)
        oldest = keep_seq;
    u->lost = oldest < head && ring_read_slot(&w->m, oldest, &f) != 1;
    if (u->lost)
        oldest = ring_writer_oldest(w);
    u->frames = head - oldest;
    u->bytes = 0;
    if (oldest < head && ring_copy_slot(&w->m, oldest, &f) == 1)
        u->bytes = atomic_load_explicit(&h->reserved, memory_order_relaxed) - f.data_pos;
}

uint64_t ring_writer_next_seq(const struct ring_writer *w)
{
    return atomic_load_explicit(&w->m.hdr->head, memory_order_relaxed);
}

uint32_t ring_writer_generation(const struct ring_writer *w)
{
    return atomic_load_explicit(&w->m.hdr->generation, memory_order_relaxed);
}

void ring_writer_set_doorbell(struct ring_writer *w, _Atomic uint32_t *word)
{
    w->extra_doorbell = word;
}

void ring_writer_heartbeat(struct ring_writer *w)
{
    atomic_store_explicit(&w->m.hdr->heartbeat_ns, ctl_now_ns(), memory_order_relaxed);
}

uint32_t ring_writer_take_keyframe_requests(struct ring_writer *w)
{
    return atomic_exchange_explicit(&w->m.hdr->keyframe_requests, 0, memory_order_relaxed);
}

bool ring_writer_watched(const struct ring_writer *w, uint64_t now_ns)
{
    return atomic_load_explicit(&w->m.hdr->watched_until_ns, memory_order_relaxed) > now_ns;
}

/* ---- reader ---- */

/* Validates the header read from a mapping of st_size bytes; fills m's geometry. */
static int ring_reader_check(struct ring_map *m, const struct ring_hdr *h, size_t size, char *err,
                             size_t errlen)
{
    if (h->magic != RING_MAGIC) {
        ring_err(err, errlen, "ring %s: not a ring (bad magic %#llx)", m->name,
                 (unsigned long long)h->magic);
        return -EPROTO;
    }
    if (h->version != RING_VERSION || h->hdr_size != sizeof(struct ring_hdr)) {
        ring_err(err, errlen, "ring %s: layout version %u, expected %u", m->name, h->version,
                 RING_VERSION);
        return -EPROTONOSUPPORT;
    }
    if (!ring_geometry_ok(h->slot_count, h->data_size) ||
        ring_map_len(h->slot_count, h->data_size) != size) {
        ring_err(err, errlen,
                 "ring %s: geometry (%u slots, %llu bytes) does not match its size %zu", m->name,
                 h->slot_count, (unsigned long long)h->data_size, size);
        return -EBADMSG;
    }
    return 0;
}

static int ring_reader_map(struct ring_reader *r, int fd, char *err, size_t errlen)
{
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = -errno;
        ring_err(err, errlen, "fstat %s: %s", r->m.name, strerror(-e));
        return e;
    }
    size_t size = (size_t)st.st_size;
    r->dev = st.st_dev;
    r->ino = st.st_ino;
    if (size < sizeof(struct ring_hdr) + RING_TRACKS_BYTES) {
        ring_err(err, errlen, "ring %s: truncated (%zu bytes)", r->m.name, size);
        return -EBADMSG;
    }
    void *rw = mmap(NULL, sizeof(struct ring_hdr), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (rw == MAP_FAILED) {
        int e = -errno;
        ring_err(err, errlen, "mmap %s: %s", r->m.name, strerror(-e));
        return e;
    }
    r->hdr_rw = rw;
    /* Geometry is copied once: later header changes cannot move the bounds. */
    struct ring_hdr h;
    memcpy(&h, rw, sizeof(h));
    atomic_thread_fence(memory_order_acquire);
    int e = ring_reader_check(&r->m, &h, size, err, errlen);
    if (e < 0)
        return e;
    void *p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        e = -errno;
        ring_err(err, errlen, "mmap %s (%zu bytes): %s", r->m.name, size, strerror(-e));
        return e;
    }
    ring_map_set(&r->m, p, size, h.slot_count, h.data_size);
    return 0;
}

int ring_reader_open(struct ring_reader **out, const char *name, char *err, size_t errlen)
{
    *out = NULL;
    struct ring_reader *r = calloc(1, sizeof(*r));
    if (!r) {
        ring_err(err, errlen, "out of memory");
        return -ENOMEM;
    }
    int e = ring_shm_name(&r->m, name, err, errlen);
    if (e < 0)
        goto fail;
    int fd = shm_open(r->m.name, O_RDWR, 0);
    if (fd < 0) {
        e = -errno;
        if (e == -ENOENT)
            ring_err(err, errlen, "ring %s does not exist (no ingest yet?)", r->m.name);
        else
            ring_err(err, errlen, "shm_open %s: %s", r->m.name, strerror(-e));
        goto fail;
    }
    e = ring_reader_map(r, fd, err, errlen);
    close(fd);
    if (e < 0)
        goto fail;
    r->next = ring_reader_head(r);
    *out = r;
    return 0;
fail:
    ring_reader_close(r);
    return e;
}

void ring_reader_close(struct ring_reader *r)
{
    if (!r)
        return;
    if (r->m.base)
        munmap(r->m.base, r->m.len);
    if (r->hdr_rw)
        munmap(r->hdr_rw, sizeof(struct ring_hdr));
    free(r);
}

int ring_reader_replaced(const struct ring_reader *r)
{
    int fd = shm_open(r->m.name, O_RDONLY, 0);
    if (fd < 0)
        return errno == ENOENT ? 1 : -errno;
    struct stat st;
    int e = fstat(fd, &st) < 0 ? -errno : 0;
    close(fd);
    if (e < 0)
        return e;
    return st.st_dev != r->dev || st.st_ino != r->ino;
}

uint64_t ring_reader_head(const struct ring_reader *r)
{
    return atomic_load_explicit(&r->m.hdr->head, memory_order_acquire);
}

static bool ring_data_live(const struct ring_map *m, uint64_t data_pos)
{
    atomic_thread_fence(memory_order_acquire);
    uint64_t reserved = atomic_load_explicit(&m->hdr->reserved, memory_order_relaxed);
    return reserved <= data_pos + m->data_size;
}

/* Copies slot seq's fields into f (not data). 1 on a consistent copy of frame seq whose
 * fields point inside the ring; 0 if the slot holds another frame or was reused meanwhile;
 * -EBADMSG if the fields point outside the mapping (a broken writer). */
static int ring_copy_slot(const struct ring_map *m, uint64_t seq, struct ring_frame *f)
{
    const struct ring_slot *s = &m->slots[seq & (m->slot_count - 1)];
    if (atomic_load_explicit(&s->seq, memory_order_acquire) != seq)
        return 0;
    f->seq = seq;
    f->data_pos = atomic_load_explicit(&s->data_pos, memory_order_relaxed);
    f->first_pkt = atomic_load_explicit(&s->first_pkt, memory_order_relaxed);
    f->arrival_ns = atomic_load_explicit(&s->arrival_ns, memory_order_relaxed);
    f->len = atomic_load_explicit(&s->len, memory_order_relaxed);
    f->rtp_ts = atomic_load_explicit(&s->rtp_ts, memory_order_relaxed);
    f->pkt_count = atomic_load_explicit(&s->pkt_count, memory_order_relaxed);
    f->track = atomic_load_explicit(&s->track, memory_order_relaxed);
    f->flags = atomic_load_explicit(&s->flags, memory_order_relaxed);
    atomic_thread_fence(memory_order_acquire);
    if (atomic_load_explicit(&s->seq, memory_order_relaxed) != seq)
        return 0;
    uint64_t off = f->data_pos & (m->data_size - 1);
    if (f->len > ring_max_frame(m) || off + f->len > m->data_size || f->track >= RING_MAX_TRACKS)
        return -EBADMSG;
    f->data = m->data + off;
    return 1;
}

/* ring_copy_slot, and the frame's bytes are still in place (0 otherwise). */
static int ring_read_slot(const struct ring_map *m, uint64_t seq, struct ring_frame *f)
{
    int got = ring_copy_slot(m, seq, f);
    if (got == 1 && !ring_data_live(m, f->data_pos))
        return 0;
    return got;
}

int ring_reader_get(const struct ring_reader *r, uint64_t seq, struct ring_frame *f)
{
    uint64_t head = ring_reader_head(r);
    if (!ring_in_window(seq, head, r->m.slot_count))
        return 0;
    return ring_read_slot(&r->m, seq, f) == 1;
}

bool ring_frame_still_valid(const struct ring_reader *r, const struct ring_frame *f)
{
    const struct ring_slot *s = &r->m.slots[f->seq & (r->m.slot_count - 1)];
    atomic_thread_fence(memory_order_acquire);
    return atomic_load_explicit(&s->seq, memory_order_relaxed) == f->seq &&
           ring_data_live(&r->m, f->data_pos);
}

uint64_t ring_reader_latest_keyframe(const struct ring_reader *r, unsigned track)
{
    if (track >= RING_MAX_TRACKS)
        return 0;
    uint64_t key =
        atomic_load_explicit(&r->m.hdr->track_state[track].latest_key, memory_order_acquire);
    struct ring_frame f;
    return key && ring_reader_get(r, key, &f) ? key : 0;
}

uint64_t ring_reader_seek_keyframe(struct ring_reader *r, unsigned track)
{
    uint64_t key = ring_reader_latest_keyframe(r, track);
    r->next = key ? key : ring_reader_head(r);
    return key;
}

bool ring_reader_seek(struct ring_reader *r, uint64_t seq)
{
    struct ring_frame f;
    if (seq != ring_reader_head(r) && !ring_reader_get(r, seq, &f))
        return false;
    r->next = seq;
    return true;
}

uint64_t ring_reader_next_pkt(const struct ring_reader *r, unsigned track)
{
    if (track >= RING_MAX_TRACKS)
        return 0;
    return atomic_load_explicit(&r->m.hdr->track_state[track].next_pkt, memory_order_acquire);
}

uint64_t ring_reader_ident(const struct ring_reader *r)
{
    return (uint64_t)r->dev << 40 ^ (uint64_t)r->ino;
}

/* The track a lapped reader resynchronizes on: the first video track, else none. */
static int ring_first_video_track(const struct ring_reader *r)
{
    struct ring_track t;
    for (unsigned i = 0; i < RING_MAX_TRACKS; i++) {
        if (ring_reader_track(r, i, &t, NULL) == 0 &&
            (t.codec == RING_CODEC_H264 || t.codec == RING_CODEC_H265))
            return (int)i;
    }
    return -1;
}

int ring_reader_next(struct ring_reader *r, struct ring_frame *f)
{
    uint64_t head = ring_reader_head(r);
    if (r->next >= head) {
        r->next = head; /* never ahead of the writer */
        return 0;
    }
    int got = head - r->next > r->m.slot_count ? 0 : ring_read_slot(&r->m, r->next, f);
    if (got == 1) {
        r->next++;
        return 1;
    }
    if (got == -EBADMSG) {
        r->next++; /* skip the broken slot rather than resync onto it forever */
        return -EBADMSG;
    }
    int video = ring_first_video_track(r);
    if (video >= 0)
        ring_reader_seek_keyframe(r, (unsigned)video);
    else
        r->next = head;
    return -ESTALE;
}

int ring_reader_find_packet(const struct ring_reader *r, unsigned track, uint16_t pkt16,
                            struct ring_frame *f, uint32_t *index)
{
    if (track >= RING_MAX_TRACKS)
        return 0;
    uint64_t next_pkt =
        atomic_load_explicit(&r->m.hdr->track_state[track].next_pkt, memory_order_acquire);
    if (next_pkt == 0)
        return 0;
    uint64_t latest = next_pkt - 1;
    uint16_t behind = (uint16_t)((uint16_t)latest - pkt16);
    if (behind > latest)
        return 0; /* before the track's first packet */
    uint64_t want = latest - behind;
    /* The track's frames number their packets in increasing order: binary search for the
     * newest one starting at or before want. A probe that lands on another track's frame (or
     * an overwritten slot) steps down to the nearest frame of this track. A NACK asking for a
     * packet far back costs a few probes, not a walk over every frame since. */
    uint64_t head = ring_reader_head(r);
    if (head == 0)
        return 0; /* a corrupt header: nothing written, whatever next_pkt says */
    uint64_t lo = head > r->m.slot_count ? head - r->m.slot_count : 1, hi = head - 1;
    struct ring_frame x;
    bool found = false;
    while (lo <= hi) {
        uint64_t mid = lo + (hi - lo) / 2, s = mid;
        while (s >= lo && !(ring_reader_get(r, s, &x) && x.track == track))
            s--;
        if (s < lo) {
            lo = mid + 1; /* none of this track in [lo, mid] */
        } else if (x.first_pkt <= want) {
            *f = x;
            found = true;
            lo = mid + 1;
        } else {
            hi = s - 1;
        }
    }
    if (!found || want - f->first_pkt >= f->pkt_count)
        return 0; /* overwritten, or between frames (not a packet of this track) */
    *index = (uint32_t)(want - f->first_pkt);
    return 1;
}

int ring_reader_track(const struct ring_reader *r, unsigned idx, struct ring_track *t,
                      uint32_t *version)
{
    if (idx >= RING_MAX_TRACKS)
        return -EINVAL;
    const struct ring_track_state *ts = &r->m.hdr->track_state[idx];
    for (int i = 0; i < RING_SEQLOCK_TRIES; i++) {
        uint32_t s1 = atomic_load_explicit(&ts->desc_seq, memory_order_acquire);
        if (s1 & 1)
            continue;
        memcpy(t, &r->m.tracks[idx].t, sizeof(*t));
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&ts->desc_seq, memory_order_relaxed) != s1)
            continue;
        if (t->codec == RING_CODEC_NONE)
            return -ENOENT;
        if (t->params_len > RING_PARAMS_MAX)
            return -EBADMSG;
        t->fmtp[RING_FMTP_MAX - 1] = '\0';
        if (version)
            *version = s1 / 2;
        return 0;
    }
    return -EAGAIN;
}

uint32_t ring_reader_track_version(const struct ring_reader *r, unsigned idx)
{
    if (idx >= RING_MAX_TRACKS)
        return 0;
    uint32_t s = atomic_load_explicit(&r->m.hdr->track_state[idx].desc_seq, memory_order_acquire);
    return s & 1 ? UINT32_MAX : s / 2;
}

uint32_t ring_reader_generation(const struct ring_reader *r)
{
    return atomic_load_explicit(&r->m.hdr->generation, memory_order_acquire);
}

bool ring_reader_retired(const struct ring_reader *r)
{
    return atomic_load_explicit(&r->m.hdr->retired, memory_order_acquire) != 0;
}

uint32_t ring_reader_mtu(const struct ring_reader *r)
{
    return r->m.hdr->mtu;
}

uint64_t ring_reader_heartbeat(const struct ring_reader *r)
{
    return atomic_load_explicit(&r->m.hdr->heartbeat_ns, memory_order_relaxed);
}

int32_t ring_reader_writer_pid(const struct ring_reader *r)
{
    return atomic_load_explicit(&r->m.hdr->writer_pid, memory_order_relaxed);
}

void ring_reader_request_keyframe(struct ring_reader *r)
{
    atomic_fetch_add_explicit(&r->hdr_rw->keyframe_requests, 1, memory_order_relaxed);
}

void ring_reader_keep_watched(struct ring_reader *r, uint64_t until_ns)
{
    uint64_t cur = atomic_load_explicit(&r->hdr_rw->watched_until_ns, memory_order_relaxed);
    while (cur < until_ns &&
           !atomic_compare_exchange_weak_explicit(&r->hdr_rw->watched_until_ns, &cur, until_ns,
                                                  memory_order_relaxed, memory_order_relaxed))
        ;
}

_Atomic uint32_t *ring_reader_doorbell(struct ring_reader *r)
{
    return &r->hdr_rw->doorbell;
}
