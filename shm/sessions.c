/* SPDX-License-Identifier: MIT */
/* sessions.c: the per-worker session table in shared memory: created or taken over from a
 * predecessor, records written under a seqlock with a checksum, wiped when a session ends. */
#include "shm/sessions.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static uint64_t sessions_fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

static uint64_t sessions_sum(uint32_t len, uint64_t build_id, const void *data)
{
    uint64_t h = sessions_fnv(14695981039346656037ull, &len, sizeof(len));
    h = sessions_fnv(h, &build_id, sizeof(build_id));
    return sessions_fnv(h, data, len);
}

/* What a predecessor's table holds for us: its record count, -1 with the reason, or -2 when
 * its owner still runs. */
static int64_t sessions_prev(int fd, uint64_t build_id, struct sessions *s)
{
    struct stat st;
    struct sessions_hdr h;
    if (fstat(fd, &st) < 0 || st.st_size == 0)
        return 0;
    if ((size_t)st.st_size < sizeof(h) || pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h)) {
        snprintf(s->refused, sizeof(s->refused), "truncated (%lld bytes)", (long long)st.st_size);
        return -1;
    }
    if (h.magic == SESSIONS_MAGIC && h.owner_pid > 0 && h.owner_pid != getpid() &&
        h.released_pid != h.owner_pid && (kill(h.owner_pid, 0) == 0 || errno == EPERM))
        return -2; /* another live process's table */
    if (h.magic != SESSIONS_MAGIC || h.version != SESSIONS_VERSION || h.hdr_size != sizeof(h) ||
        h.rec_size != SESSIONS_REC_SIZE) {
        snprintf(s->refused, sizeof(s->refused), "not a session table of this version");
        return -1;
    }
    if (h.build_id != build_id) {
        snprintf(s->refused, sizeof(s->refused), "another record layout (build id %016llx)",
                 (unsigned long long)h.build_id);
        return -1;
    }
    s->prev_pid = h.owner_pid;
    s->prev_beat_ns = h.heartbeat_ns;
    uint64_t fit = ((uint64_t)st.st_size - sizeof(h)) / SESSIONS_REC_SIZE;
    return h.n_recs < fit ? h.n_recs : (int64_t)fit;
}

int sessions_open(struct sessions *s, const char *prefix, unsigned index, uint32_t n,
                  uint64_t build_id)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->name, sizeof(s->name), "/%s.sessions.%u", prefix, index);
    int fd = shm_open(s->name, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    int64_t prev = sessions_prev(fd, build_id, s);
    if (prev == -2) {
        close(fd);
        return -EBUSY;
    }
    size_t len = sizeof(struct sessions_hdr) + (size_t)n * SESSIONS_REC_SIZE;
    uint32_t n_prev = prev < 0 ? 0 : prev < n ? (uint32_t)prev : n;
    /* An object another user left with wider permissions is ours now: keys live in it. What
     * is not the predecessor's records is emptied by truncation, not by writing zeros: the
     * pages of records never written then cost nothing (thousands of slots, few viewers). */
    off_t keep = prev < 0 ? 0 : (off_t)(sizeof(struct sessions_hdr) + n_prev * SESSIONS_REC_SIZE);
    int err = fchmod(fd, 0600) < 0 || ftruncate(fd, keep) < 0 || ftruncate(fd, (off_t)len) < 0
                  ? -errno
                  : 0;
    void *m = err ? MAP_FAILED : mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (!err && m == MAP_FAILED)
        err = -errno;
    close(fd);
    if (err)
        return err;
    s->hdr = m;
    s->rec = (struct sessions_rec *)((char *)m + sizeof(struct sessions_hdr));
    s->map_len = len;
    s->n = n;
    s->n_prev = n_prev;
    struct sessions_hdr *h = s->hdr;
    h->version = SESSIONS_VERSION;
    h->hdr_size = sizeof(*h);
    h->rec_size = SESSIONS_REC_SIZE;
    h->n_recs = n;
    h->build_id = build_id;
    h->index = index;
    atomic_store(&h->owner_pid, (int32_t)getpid());
    atomic_store(&h->heartbeat_ns, 0);
    atomic_store(&h->released_pid, 0);
    atomic_thread_fence(memory_order_release);
    h->magic = SESSIONS_MAGIC;
    return 0;
}

void sessions_close(struct sessions *s, bool unlink)
{
    if (s->hdr)
        munmap(s->hdr, s->map_len);
    if (unlink && s->name[0])
        (void)shm_unlink(s->name);
    memset(s, 0, sizeof(*s));
}

int sessions_read(const struct sessions *s, uint32_t i, void *out, size_t cap, uint64_t *progress)
{
    const struct sessions_rec *r = &s->rec[i];
    uint32_t seq = atomic_load_explicit(&r->seq, memory_order_acquire);
    if (seq == 0)
        return -ENOENT;
    if (seq & 1)
        return -EBUSY;
    uint32_t len = r->len;
    uint64_t build_id = r->build_id, sum = r->sum;
    if (len > SESSIONS_DATA_MAX || len > cap)
        return -EBADMSG;
    memcpy(out, r->data, len);
    *progress = atomic_load_explicit(&r->progress, memory_order_relaxed);
    atomic_thread_fence(memory_order_acquire);
    if (atomic_load_explicit(&r->seq, memory_order_relaxed) != seq)
        return -EAGAIN;
    if (build_id != s->hdr->build_id)
        return -EPROTO;
    return sessions_sum(len, build_id, out) == sum ? (int)len : -EBADMSG;
}

void sessions_write(struct sessions *s, uint32_t i, const void *data, size_t len, uint64_t progress)
{
    struct sessions_rec *r = &s->rec[i];
    uint32_t seq = atomic_load_explicit(&r->seq, memory_order_relaxed) | 1; /* odd: writing */
    atomic_store_explicit(&r->seq, seq, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    r->len = (uint32_t)len;
    r->build_id = s->hdr->build_id;
    memcpy(r->data, data, len);
    memset(r->data + len, 0, SESSIONS_DATA_MAX - len);
    r->sum = sessions_sum(r->len, r->build_id, r->data);
    atomic_store_explicit(&r->progress, progress, memory_order_relaxed);
    atomic_store_explicit(&r->seq, seq + 1, memory_order_release);
}

void sessions_wipe(struct sessions *s, uint32_t i)
{
    struct sessions_rec *r = &s->rec[i];
    if (atomic_load_explicit(&r->seq, memory_order_relaxed) == 0)
        return;
    atomic_store_explicit(&r->seq, 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    memset((char *)r + sizeof(r->seq), 0, SESSIONS_REC_SIZE - sizeof(r->seq));
    atomic_store_explicit(&r->seq, 0, memory_order_release);
}

void sessions_heartbeat(struct sessions *s, uint64_t now_ns)
{
    atomic_store_explicit(&s->hdr->heartbeat_ns, now_ns, memory_order_relaxed);
}

void sessions_release(struct sessions *s)
{
    atomic_store_explicit(&s->hdr->released_pid, atomic_load(&s->hdr->owner_pid),
                          memory_order_release);
}

bool sessions_released_by(const char *prefix, unsigned index, int32_t pid)
{
    char name[96];
    snprintf(name, sizeof(name), "/%s.sessions.%u", prefix, index);
    int fd = shm_open(name, O_RDONLY | O_CLOEXEC, 0);
    struct sessions_hdr h;
    bool read_ok = fd >= 0 && pread(fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h);
    if (fd >= 0)
        close(fd);
    /* A read of the file, not of a mapping: the released mark is stored last, so a copy that
     * shows it shows a table whose owner has stopped. */
    if (read_ok && h.magic == SESSIONS_MAGIC && h.owner_pid == pid && h.released_pid != pid)
        return kill(pid, 0) < 0 && errno == ESRCH;
    return true;
}
