/* SPDX-License-Identifier: MIT */
/* ctl.c: creating, attaching and validating the control segment. The supervisor creates
 * it before any child starts; children and ringcastctl attach and check magic and size. */
#include "shm/ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
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
    c->hdr = aligned_alloc(64, sizeof(struct ctl_hdr));
    if (!c->hdr)
        return -ENOMEM;
    memset(c->hdr, 0, sizeof(struct ctl_hdr));
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

void ctl_free(struct ctl *c)
{
    if (c->private_copy)
        free(c->hdr);
    else if (c->hdr)
        munmap(c->hdr, c->map_len);
    if (c->owner)
        shm_unlink(c->name);
    memset(c, 0, sizeof(*c));
}
