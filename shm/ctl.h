/* SPDX-License-Identifier: MIT */
/* ctl.h: the control segment /<prefix>.ctl, created by the supervisor. One slot per child
 * (role, pid, state, heartbeat, counters); each child writes only its own slot, the
 * supervisor and ringcastctl read. It also holds the worker doorbell that ingests ring. */
#ifndef RINGCAST_CTL_H
#define RINGCAST_CTL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CTL_MAGIC        0x314c544354524300ull /* "\0CRTCTL1" */
#define CTL_VERSION      3
#define CTL_MAX_CHILDREN 1024 /* ingests + workers: hundreds of cameras per machine */

enum ctl_role { CTL_ROLE_NONE = 0, CTL_ROLE_INGEST, CTL_ROLE_EGRESS };
enum ctl_state {
    CTL_STATE_EMPTY = 0,
    CTL_STATE_STARTING,
    CTL_STATE_RUNNING,
    CTL_STATE_STOPPING,
    CTL_STATE_BACKOFF,
    CTL_STATE_IDLE /* an on-demand path nobody watches: no ingest runs */
};

/* Counters a child bumps (relaxed atomics; only its own process writes them). */
struct ctl_counters {
    _Atomic uint64_t viewers; /* gauge: current viewers (egress) */
    _Atomic uint64_t pkts_sent;
    _Atomic uint64_t bytes_sent;
    _Atomic uint64_t nacks_received; /* NACKed packets (each PID/BLP bit) */
    _Atomic uint64_t retransmits;    /* packets rebuilt from the ring and resent */
    _Atomic uint64_t nack_misses;    /* NACKed packets already overwritten */
    _Atomic uint64_t plis;           /* PLI + FIR */
    _Atomic uint64_t dtls_failures;
    _Atomic uint64_t send_drops; /* EAGAIN/ENOBUFS on send */
    _Atomic uint64_t ring_laps;
    _Atomic uint64_t frames_written; /* ingest */
    _Atomic uint64_t source_reconnects;
    _Atomic uint64_t frames_dropped; /* ingest: access units damaged by loss */
    _Atomic uint64_t sessions_total; /* egress: sessions created since start */
    _Atomic uint64_t nack_refused;   /* NACKed packets resent within the RTT or over budget */
    _Atomic uint64_t rx_unknown;     /* egress: datagrams from no session's checked or bound pair */
    _Atomic uint64_t addr_conflicts; /* egress: checks from an address another session holds */
    _Atomic uint64_t pair_moves;     /* egress: sessions moved to a renominated pair */
    _Atomic uint64_t setup_evictions; /* egress: set-ups dropped (per address cap) */
    /* egress: frames not sent because the worker packetizes them into another number of
     * packets than the ring numbered them with (an MTU that differs from the writer's) */
    _Atomic uint64_t pkt_count_mismatches;
    _Atomic uint64_t tcp_skips;   /* egress: ICE-TCP viewers' queues full: video skipped to a key */
    _Atomic uint64_t tcp_refused; /* egress: ICE-TCP connections refused or closed for cause */
    _Atomic uint64_t rtsp_skips;  /* egress: RTSP readers' queues full: video skipped to a key */
    _Atomic uint64_t rtsp_refused; /* egress: RTSP connections refused or closed for cause */
};

/* How the publisher of a `source = publish` path sends. */
enum ctl_pub_proto { CTL_PUB_NONE = 0, CTL_PUB_RTSP_TCP, CTL_PUB_RTSP_UDP, CTL_PUB_WHIP };

#define CTL_PUB_ADDR_MAX 56 /* "[v6 address]:port" and its NUL */

/* The one publisher of a `source = publish` path, written by the path's ingest only: proto
 * CTL_PUB_NONE while nobody publishes. proto, addr and since_ns change together when a
 * publisher starts, under seq (odd while they are rewritten); the counters are updated about
 * every second while it publishes and read with relaxed loads. Fixed size: a path has at most
 * one publisher. */
struct ctl_publisher {
    _Atomic uint32_t seq;
    _Atomic uint32_t proto;        /* enum ctl_pub_proto */
    char addr[CTL_PUB_ADDR_MAX];   /* where its media comes from (RTSP: its connection) */
    _Atomic uint64_t since_ns;     /* CLOCK_MONOTONIC */
    _Atomic uint64_t bytes;        /* received from it: RTSP bytes, or WHIP media payloads */
    _Atomic uint64_t bitrate;      /* bits/s over the last update interval */
    _Atomic uint64_t packets_lost; /* RTP sequence numbers never received (RFC 3550 A.3) */
    _Atomic uint64_t nacks;        /* NACKs sent to it (WHIP; RTSP publishers get none) */
    _Atomic uint64_t updated_ns;   /* the last update: the next bit rate's interval starts */
    uint8_t pad[16];
};

/* A slot belongs to one path or worker for as long as the config has it: restarts reuse it,
 * so counters keep counting across crashes (at a child's exit the supervisor zeroes only the
 * viewers gauge). The supervisor writes state, role, index, name, start_ns, restarts and
 * last_exit; the child writes pid (the supervisor too), heartbeat_ns and its counters.
 * An ingest's slot also carries its path's demand: every worker with a session (or an offer
 * waiting) on a source_on_demand path stores the time in wanted_ns, and the supervisor runs
 * the path's ingest while the latest such time is recent (ctl_demand_wanted). */
struct ctl_child {
    _Atomic uint32_t state; /* enum ctl_state, written by the supervisor */
    uint32_t role;          /* enum ctl_role */
    uint32_t index;         /* worker index, or path index */
    _Atomic int32_t pid;
    char name[64];             /* path name (ingest) or "worker N" */
    _Atomic uint64_t start_ns; /* CLOCK_MONOTONIC */
    _Atomic uint32_t restarts;
    _Atomic int32_t last_exit;     /* previous instance: exit code, or -signal */
    _Atomic uint64_t heartbeat_ns; /* written by the child about every 500 ms */
    struct ctl_counters counters;
    _Atomic uint64_t wanted_ns;     /* ingest: the last time a worker had demand for the path */
    struct ctl_publisher publisher; /* ingest of a `source = publish` path */
} __attribute__((aligned(64)));

struct ctl_hdr {
    uint64_t magic;
    uint32_t version;
    uint32_t size; /* sizeof(struct ctl_hdr) */
    _Atomic int32_t supervisor_pid;
    uint32_t n_children;       /* CTL_MAX_CHILDREN */
    _Atomic uint64_t start_ns; /* supervisor start, CLOCK_MONOTONIC */
    /* Written by the supervisor (ringcastctl drain, shutdown), read by each worker on every
     * WHEP offer: nonzero refuses new viewers while the current ones keep playing. */
    _Atomic uint32_t draining;
    uint8_t pad0[28];
    _Atomic uint32_t doorbell __attribute__((aligned(64))); /* rung on every ring write */
    uint8_t pad1[60];
    struct ctl_child children[CTL_MAX_CHILDREN];
};

_Static_assert(sizeof(struct ctl_child) % 64 == 0, "ctl_child is whole cache lines");
_Static_assert(sizeof(struct ctl_publisher) == 128, "layout");
_Static_assert(sizeof(struct ctl_child) == 448, "layout: wanted_ns took padding, publisher 128");
_Static_assert(offsetof(struct ctl_hdr, draining) == 32, "layout");
_Static_assert(offsetof(struct ctl_hdr, doorbell) == 64, "layout");

/* Which counters a role uses, for reports (status, /metrics). */
enum { CTL_FOR_INGEST = 1u << CTL_ROLE_INGEST, CTL_FOR_EGRESS = 1u << CTL_ROLE_EGRESS };
struct ctl_counter_info {
    const char *name; /* JSON key and metric stem: "pkts_sent" */
    const char *help; /* one line for # HELP */
    size_t offset;    /* within struct ctl_counters */
    unsigned roles;   /* CTL_FOR_* */
    bool gauge;       /* a level (viewers), not a monotonic count */
};
extern const struct ctl_counter_info ctl_counter_info[];
extern const size_t ctl_counter_count;
static inline uint64_t ctl_counter_get(const struct ctl_counters *c,
                                       const struct ctl_counter_info *ci)
{
    return atomic_load_explicit((const _Atomic uint64_t *)((const char *)c + ci->offset),
                                memory_order_relaxed);
}

/* ---- API ---- */

struct ctl {
    struct ctl_hdr *hdr; /* the mapping (shared, or anonymous and private when standalone) */
    size_t map_len;
    char name[64];     /* "/<prefix>.ctl" */
    bool owner;        /* created by us (supervisor): unlinked by ctl_free */
    bool private_copy; /* not shared: a child running without a supervisor */
};

/* Supervisor: creates (replacing a stale one) /<prefix>.ctl, mode 0600. 0 or -errno. */
int ctl_create(struct ctl *c, const char *prefix);
/* Child or ringcastctl: maps an existing /<prefix>.ctl read-write; refuses a foreign or
 * truncated object. 0 or -errno (-ENOENT when no supervisor runs). */
int ctl_attach(struct ctl *c, const char *prefix);
/* Child without a supervisor (tests, standalone runs): a private zeroed segment, mapped
 * anonymously, so only the pages it touches take memory. */
int ctl_init_private(struct ctl *c);
/* The slot a child owns: slot from --ctl-slot (must be < CTL_MAX_CHILDREN). */
struct ctl_child *ctl_slot(struct ctl *c, unsigned slot);
/* The slot of path's ingest (role ingest, not EMPTY), or NULL. */
struct ctl_child *ctl_find_ingest(struct ctl_hdr *h, const char *path);
/* Supervisor: hands slot to a new child (zeroes counters and heartbeat), state STARTING. */
void ctl_slot_assign(struct ctl_child *s, enum ctl_role role, unsigned index, const char *name);
/* Supervisor: the slot's child is gone for good; readers see it EMPTY. */
void ctl_slot_release(struct ctl_child *s);
/* "ingest", "egress"; "running", "backoff", ... for reports. */
const char *ctl_role_name(uint32_t role);
const char *ctl_state_name(uint32_t state);
/* Unmaps; the creator also unlinks. Tolerates a zeroed struct. */
void ctl_free(struct ctl *c);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t ctl_now_ns(void);
/* Counter helpers: relaxed, the child is the only writer. */
static inline void ctl_count(_Atomic uint64_t *c, uint64_t n)
{
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}
static inline uint64_t ctl_read(_Atomic uint64_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}
/* A worker's demand for a path, stored in the path's ingest slot (any number of workers
 * write it; the latest store wins, and they all store a recent time). */
static inline void ctl_demand_bump(struct ctl_child *ingest, uint64_t now_ns)
{
    atomic_store_explicit(&ingest->wanted_ns, now_ns, memory_order_relaxed);
}
/* Whether an on-demand ingest should run at now: some worker had demand within close_after.
 * A time ahead of now (another process read the clock later) is demand now. */
static inline bool ctl_demand_wanted(uint64_t wanted_ns, uint64_t now_ns, uint64_t close_after_ns)
{
    return wanted_ns && (wanted_ns >= now_ns || now_ns - wanted_ns <= close_after_ns);
}
/* Ingest: a publisher starts (proto, addr), or with CTL_PUB_NONE nobody publishes; its
 * counters start from 0. */
void ctl_pub_set(struct ctl_publisher *p, enum ctl_pub_proto proto, const char *addr,
                 uint64_t now_ns);
/* Ingest: the publisher's totals so far; the bit rate is taken over the time since the last
 * update (the first one: since it started). */
void ctl_pub_update(struct ctl_publisher *p, uint64_t bytes, uint64_t packets_lost, uint64_t nacks,
                    uint64_t now_ns);
/* A consistent copy of p for reports (retries while the ingest rewrites it). */
void ctl_pub_read(const struct ctl_publisher *p, struct ctl_publisher *out);
/* "rtsp-tcp", "rtsp-udp", "whip", or "none". */
const char *ctl_pub_proto_name(uint32_t proto);

/* Child: call at start and about every 500 ms; 5 s without one gets the child killed. */
static inline void ctl_heartbeat(struct ctl_child *s)
{
    atomic_store_explicit(&s->heartbeat_ns, ctl_now_ns(), memory_order_release);
}

#endif
