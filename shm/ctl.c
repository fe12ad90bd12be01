/* SPDX-License-Identifier: MIT */
/* ctl.c: creating, attaching and validating the control segment. The supervisor creates
 * it before any child starts; children and ringcastctl attach and check magic and size. */
#include "shm/ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

uint64_t ctl_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int ctl_name(struct ctl *c, const char *prefix)
{
    if ((size_t)snprintf(c->name, sizeof(c->name), "/%s.ctl", prefix) >= sizeof(c->name))
        return -ENAMETOOLONG;
    return 0;
}

int ctl_create(struct ctl *c, const char *prefix)
{
    memset(c, 0, sizeof(*c));
    int err = ctl_name(c, prefix);
    if (err < 0)
        return err;
    shm_unlink(c->name); /* a stale segment from a crashed supervisor */
    int fd = shm_open(c->name, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd < 0)
        return -errno;
    size_t len = sizeof(struct ctl_hdr);
    if (ftruncate(fd, (off_t)len) < 0) {
        err = -errno;
        close(fd);
        shm_unlink(c->name);
        return err;
    }
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    err = -errno;
    close(fd);
    if (p == MAP_FAILED) {
        shm_unlink(c->name);
        return err;
    }
    c->hdr = p;
    c->map_len = len;
    c->owner = true;
    c->hdr->version = CTL_VERSION;
    c->hdr->size = (uint32_t)len;
    c->hdr->n_children = CTL_MAX_CHILDREN;
    atomic_store(&c->hdr->supervisor_pid, (int32_t)getpid());
    atomic_store(&c->hdr->start_ns, ctl_now_ns());
    atomic_thread_fence(memory_order_release);
    c->hdr->magic = CTL_MAGIC;
    return 0;
}

int ctl_attach(struct ctl *c, const char *prefix)
{
    memset(c, 0, sizeof(*c));
    int err = ctl_name(c, prefix);
    if (err < 0)
        return err;
    int fd = shm_open(c->name, O_RDWR, 0);
    if (fd < 0)
        return -errno;
    struct stat st;
    if (fstat(fd, &st) < 0 || (size_t)st.st_size != sizeof(struct ctl_hdr)) {
        close(fd);
        return -EBADMSG;
    }
    void *p = mmap(NULL, sizeof(struct ctl_hdr), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    err = -errno;
    close(fd);
    if (p == MAP_FAILED)
        return err;
    struct ctl_hdr *h = p;
    if (h->magic != CTL_MAGIC || h->version != CTL_VERSION || h->size != sizeof(*h) ||
        h->n_children != CTL_MAX_CHILDREN) {
        munmap(p, sizeof(struct ctl_hdr));
        return -EPROTO;
    }
    c->hdr = h;
    c->map_len = sizeof(*h);
    return 0;
}

int ctl_init_private(struct ctl *c)
{
    memset(c, 0, sizeof(*c));
    /* Anonymous pages are zero and cost memory only once touched: a standalone process uses
     * the header and its own slot, a few KiB of the segment's 448. */
    void *p = mmap(NULL, sizeof(struct ctl_hdr), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return -errno;
    c->hdr = p;
    c->map_len = sizeof(struct ctl_hdr);
    c->hdr->magic = CTL_MAGIC;
    c->hdr->version = CTL_VERSION;
    c->hdr->size = sizeof(struct ctl_hdr);
    c->hdr->n_children = CTL_MAX_CHILDREN;
    c->private_copy = true;
    return 0;
}

struct ctl_child *ctl_slot(struct ctl *c, unsigned slot)
{
    if (!c->hdr || slot >= CTL_MAX_CHILDREN)
        return NULL;
    return &c->hdr->children[slot];
}

struct ctl_child *ctl_find_ingest(struct ctl_hdr *h, const char *path)
{
    for (unsigned i = 0; i < CTL_MAX_CHILDREN; i++) {
        struct ctl_child *s = &h->children[i];
        if (atomic_load(&s->state) != CTL_STATE_EMPTY && s->role == CTL_ROLE_INGEST &&
            strncmp(s->name, path, sizeof(s->name)) == 0)
            return s;
    }
    return NULL;
}

#define CTL_COUNTER(field, roles, gauge, help)                                                     \
    {                                                                                              \
#field, help, offsetof(struct ctl_counters, field), roles, gauge                           \
    }
const struct ctl_counter_info ctl_counter_info[] = {
    CTL_COUNTER(viewers, CTL_FOR_EGRESS, true, "Viewers currently attached."),
    CTL_COUNTER(sessions_total, CTL_FOR_EGRESS, false, "WHEP sessions created."),
    CTL_COUNTER(pkts_sent, CTL_FOR_EGRESS, false, "RTP packets sent."),
    CTL_COUNTER(bytes_sent, CTL_FOR_EGRESS, false, "RTP bytes sent."),
    CTL_COUNTER(nacks_received, CTL_FOR_EGRESS, false, "Packets asked again by NACK."),
    CTL_COUNTER(retransmits, CTL_FOR_EGRESS, false, "Packets rebuilt from the ring and resent."),
    CTL_COUNTER(nack_misses, CTL_FOR_EGRESS, false, "NACKed packets already overwritten."),
    CTL_COUNTER(nack_refused, CTL_FOR_EGRESS, false,
                "NACKed packets not resent: resent within the RTT, or over the viewer's "
                "retransmission budget."),
    CTL_COUNTER(plis, CTL_FOR_EGRESS, false, "PLI and FIR keyframe requests received."),
    CTL_COUNTER(dtls_failures, CTL_FOR_EGRESS, false, "DTLS handshakes that failed."),
    CTL_COUNTER(send_drops, CTL_FOR_EGRESS, false, "Packets dropped on EAGAIN/ENOBUFS."),
    CTL_COUNTER(ring_laps, CTL_FOR_EGRESS, false, "Times the ring writer lapped a reader."),
    CTL_COUNTER(rx_unknown, CTL_FOR_EGRESS, false,
                "Datagrams dropped: not from a pair a session checked, or not its bound pair."),
    CTL_COUNTER(addr_conflicts, CTL_FOR_EGRESS, false,
                "ICE checks refused: the address belongs to another session."),
    CTL_COUNTER(pair_moves, CTL_FOR_EGRESS, false,
                "Sessions moved to a pair the viewer renominated (after our consent check)."),
    CTL_COUNTER(setup_evictions, CTL_FOR_EGRESS, false,
                "Pending set-ups dropped: too many from one address (max_setups_per_address)."),
    CTL_COUNTER(pkt_count_mismatches, CTL_FOR_EGRESS, false,
                "Frames not sent: packetized into another count than the ring numbered."),
    CTL_COUNTER(tcp_skips, CTL_FOR_EGRESS, false,
                "ICE-TCP viewers whose send queue filled: their video skipped to the next "
                "keyframe."),
    CTL_COUNTER(tcp_refused, CTL_FOR_EGRESS, false,
                "ICE-TCP connections refused (over a limit) or closed (bad framing, not an ICE "
                "check, no check within 5 s, idle)."),
    CTL_COUNTER(rtsp_skips, CTL_FOR_EGRESS, false,
                "RTSP readers whose send queue filled: their video skipped to the next keyframe."),
    CTL_COUNTER(rtsp_refused, CTL_FOR_EGRESS, false,
                "RTSP connections refused (over a limit) or closed (malformed requests, no PLAY "
                "within 10 s, a session timeout)."),
    CTL_COUNTER(frames_written, CTL_FOR_INGEST, false, "Access units written to the ring."),
    CTL_COUNTER(source_reconnects, CTL_FOR_INGEST, false, "Reconnections to the source."),
    CTL_COUNTER(frames_dropped, CTL_FOR_INGEST, false, "Access units damaged by loss."),
};
const size_t ctl_counter_count = sizeof(ctl_counter_info) / sizeof(ctl_counter_info[0]);

void ctl_slot_assign(struct ctl_child *s, enum ctl_role role, unsigned index, const char *name)
{
    /* Zeroed while EMPTY, so readers never see one child's name with another's counters. */
    atomic_store(&s->state, CTL_STATE_EMPTY);
    memset(&s->counters, 0, sizeof(s->counters));
    atomic_store(&s->pid, 0);
    atomic_store(&s->heartbeat_ns, 0);
    atomic_store(&s->start_ns, 0);
    atomic_store(&s->restarts, 0);
    atomic_store(&s->last_exit, 0);
    atomic_store(&s->wanted_ns, 0);
    s->role = (uint32_t)role;
    s->index = index;
    snprintf(s->name, sizeof(s->name), "%s", name);
    atomic_store_explicit(&s->state, CTL_STATE_STARTING, memory_order_release);
}

void ctl_slot_release(struct ctl_child *s)
{
    atomic_store(&s->pid, 0);
    atomic_store_explicit(&s->state, CTL_STATE_EMPTY, memory_order_release);
}

const char *ctl_role_name(uint32_t role)
{
    static const char *const names[] = {"none", "ingest", "egress"};
    return role < sizeof(names) / sizeof(names[0]) ? names[role] : "unknown";
}

const char *ctl_state_name(uint32_t state)
{
    static const char *const names[] = {"empty",    "starting", "running",
                                        "stopping", "backoff",  "idle"};
    return state < sizeof(names) / sizeof(names[0]) ? names[state] : "unknown";
}

void ctl_pub_set(struct ctl_publisher *p, enum ctl_pub_proto proto, const char *addr,
                 uint64_t now_ns)
{
    uint32_t seq = atomic_load_explicit(&p->seq, memory_order_relaxed);
    atomic_store_explicit(&p->seq, seq + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    atomic_store_explicit(&p->proto, (uint32_t)proto, memory_order_relaxed);
    snprintf(p->addr, sizeof(p->addr), "%s", proto == CTL_PUB_NONE ? "" : addr);
    atomic_store_explicit(&p->since_ns, proto == CTL_PUB_NONE ? 0 : now_ns, memory_order_relaxed);
    atomic_store_explicit(&p->updated_ns, now_ns, memory_order_relaxed);
    atomic_store_explicit(&p->bytes, 0, memory_order_relaxed);
    atomic_store_explicit(&p->bitrate, 0, memory_order_relaxed);
    atomic_store_explicit(&p->packets_lost, 0, memory_order_relaxed);
    atomic_store_explicit(&p->nacks, 0, memory_order_relaxed);
    atomic_store_explicit(&p->seq, seq + 2, memory_order_release);
}

void ctl_pub_update(struct ctl_publisher *p, uint64_t bytes, uint64_t packets_lost, uint64_t nacks,
                    uint64_t now_ns)
{
    uint64_t prev = atomic_load_explicit(&p->bytes, memory_order_relaxed);
    uint64_t then = atomic_load_explicit(&p->updated_ns, memory_order_relaxed);
    if (now_ns > then && bytes >= prev)
        atomic_store_explicit(&p->bitrate, (bytes - prev) * 8 * 1000000000ull / (now_ns - then),
                              memory_order_relaxed);
    atomic_store_explicit(&p->updated_ns, now_ns, memory_order_relaxed);
    atomic_store_explicit(&p->bytes, bytes, memory_order_relaxed);
    atomic_store_explicit(&p->packets_lost, packets_lost, memory_order_relaxed);
    atomic_store_explicit(&p->nacks, nacks, memory_order_relaxed);
}

void ctl_pub_read(const struct ctl_publisher *p, struct ctl_publisher *out)
{
#define CTL_PUB_LOAD(f) atomic_load_explicit(&p->f, memory_order_relaxed)
    memset(out, 0, sizeof(*out));
    for (int tries = 0; tries < 100; tries++) {
        uint32_t seq = atomic_load_explicit(&p->seq, memory_order_acquire);
        if (seq & 1)
            continue;
        out->proto = CTL_PUB_LOAD(proto);
        memcpy(out->addr, p->addr, sizeof(out->addr));
        out->since_ns = CTL_PUB_LOAD(since_ns);
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&p->seq, memory_order_relaxed) == seq)
            break;
    }
    out->addr[sizeof(out->addr) - 1] = '\0';
    out->bytes = CTL_PUB_LOAD(bytes);
    out->bitrate = CTL_PUB_LOAD(bitrate);
    out->packets_lost = CTL_PUB_LOAD(packets_lost);
    out->nacks = CTL_PUB_LOAD(nacks);
#undef CTL_PUB_LOAD
}

const char *ctl_pub_proto_name(uint32_t proto)
{
    static const char *const names[] = {"none", "rtsp-tcp", "rtsp-udp", "whip"};
    return proto < sizeof(names) / sizeof(names[0]) ? names[proto] : "unknown";
}

void ctl_free(struct ctl *c)
{
    if (c->hdr)
        munmap(c->hdr, c->map_len);
    if (c->owner)
        shm_unlink(c->name);
    memset(c, 0, sizeof(*c));
}
