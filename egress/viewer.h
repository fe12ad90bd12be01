/* SPDX-License-Identifier: MIT */
/* viewer.h: a worker's WHEP sessions: one fixed-size record per viewer in a preallocated
 * table, found by local ICE ufrag (STUN), by the remote address of one of its checked
 * candidate pairs (DTLS, RTP/RTCP, consent) and by session id (DELETE). An address belongs
 * to at most one live session. Session ids start with the owning worker's index so any
 * worker can route a DELETE. The table never allocates after viewer_table_init. */
#ifndef RINGCAST_EGRESS_VIEWER_H
#define RINGCAST_EGRESS_VIEWER_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/config.h"
#include "rtc/dtlsrv.h"
#include "rtc/icelite.h"
#include "egress/media.h"

#define VIEWER_SESSION_LEN 26 /* 2 hex digits of worker index + 24 random hex digits */
#define VIEWER_UFRAG_LEN   8
#define VIEWER_PWD_LEN     24
#define VIEWER_MAX_PAIRS   4 /* checked candidate pairs kept per session */

enum viewer_state {
    VIEWER_FREE = 0,
    VIEWER_ICE,   /* answered, waiting for an authenticated binding request */
    VIEWER_DTLS,  /* a pair checked, DTLS handshake running */
    VIEWER_MEDIA, /* media started, bound to one pair */
};

/* A peer address as the worker keeps it (an IPv4 peer of the dual-stack socket as IPv4). */
union viewer_addr {
    struct sockaddr sa;
    struct sockaddr_in in;
    struct sockaddr_in6 in6;
};

/* A candidate pair the peer has checked with an authenticated Binding request: only such an
 * address may carry DTLS, and only the bound one SRTCP, consent and media. An ICE-TCP pair
 * (RFC 6544) is one connection: found through it, not by address (the peer's TCP address may
 * equal a UDP one of another session). */
struct viewer_pair {
    union viewer_addr addr; /* sa_family 0: slot unused */
    uint32_t local;         /* our IPv4 address its checks arrived at (network order), 0 = any */
    uint8_t nominated;      /* a check on it carried USE-CANDIDATE */
    uint8_t tcp;            /* an ICE-TCP connection: conn below */
    uint8_t pad[2];
    uint64_t check_ns; /* its latest authenticated check */
    int32_t next;      /* UDP: address hash chain (viewer index * VIEWER_MAX_PAIRS + pair) */
    int32_t conn;      /* TCP: the worker's connection index (egress/icetcp.h) */
};

struct viewer {
    struct media_viewer media; /* the data plane's record; media.user points back here */
    uint32_t state;            /* enum viewer_state */
    int8_t bound;              /* the pair media, SRTCP and consent use; -1 before media */
    int8_t dtls_pair;          /* the pair the DTLS handshake last arrived on, -1 = none */
    int8_t probe_pair;         /* a renominated pair awaiting our consent request's answer */
    uint8_t pad0;
    uint8_t probe_tid[12]; /* that request's STUN transaction id */
    uint64_t probe_ns;     /* when it was sent (one per ICELITE probe interval) */
    struct viewer_pair pairs[VIEWER_MAX_PAIRS];
    char session[VIEWER_SESSION_LEN + 1];
    char path[CONFIG_NAME_MAX];
    char ufrag[VIEWER_UFRAG_LEN + 1];
    char pwd[VIEWER_PWD_LEN + 1];
    char remote_ufrag[ICELITE_UFRAG_MAX];
    char remote_pwd[ICELITE_UFRAG_MAX];   /* keys our consent requests to the peer */
    struct dtlsrv_fingerprints remote_fp; /* from the offer: the certificate matches one */
    struct media_track_params tracks[MEDIA_MAX_TRACKS];
    char http_ip[48];         /* who POSTed the offer: set-ups are counted per address */
    char peer[64];            /* "ip:port" of the HTTP client, then of the ICE address, for logs */
    uint64_t created_ns;      /* when the offer was answered */
    uint64_t consent_ns;      /* last authenticated check (of the bound pair once media runs) */
    uint64_t media_ns;        /* when media started, for the DTLS settle fallback */
    struct dtlsrv_conn *dtls; /* until the handshake has settled */
    void *owner;              /* the worker, for DTLS callbacks */
    int32_t next_ufrag;       /* ufrag hash chain (table index, -1 = end) */
};

struct viewer_table {
    struct viewer *v;
    uint32_t cap, count;
    uint32_t mask;               /* buckets - 1 */
    int32_t *by_ufrag, *by_addr; /* bucket heads; by_addr chains pairs, not viewers */
    int32_t free_head;           /* released slots, linked through next_ufrag */
    uint32_t fresh; /* slots [fresh, cap) were never used: free without a link, so that a
                       table sized for thousands costs only the pages of the slots used */
};

/* Sizes the table for cap viewers. 0 or -ENOMEM. */
int viewer_table_init(struct viewer_table *t, uint32_t cap);
void viewer_table_free(struct viewer_table *t);

/* A zeroed viewer with fresh random ICE credentials and a session id for worker index, in
 * VIEWER_ICE state and findable by ufrag; NULL when the table is full (-> 503) or the
 * random source failed. */
struct viewer *viewer_alloc(struct viewer_table *t, unsigned worker_index);
/* The free slot idx for a session a predecessor left (egress/adopt.c), in VIEWER_ICE state
 * with these identifiers and findable by ufrag; NULL when the slot is taken or the ufrag or
 * session id is another session's. */
struct viewer *viewer_claim(struct viewer_table *t, uint32_t idx, const char *session,
                            const char *ufrag);
/* Unlinks and frees the slot. The caller has stopped media and freed dtls. */
void viewer_release(struct viewer_table *t, struct viewer *v);

struct viewer *viewer_by_ufrag(const struct viewer_table *t, const char *ufrag);
/* The session one of whose checked pairs has address sa, with that pair's index in *pair. */
struct viewer *viewer_by_addr(const struct viewer_table *t, const struct sockaddr *sa, int *pair);
struct viewer *viewer_by_session(const struct viewer_table *t, const char *session);
/* Records an authenticated check from sa (arrived at our local IPv4 address local) as one of
 * v's pairs. Returns the pair's index, or -EADDRINUSE when the address belongs to another
 * session. A new address takes a free slot, else replaces the pair checked least recently
 * that is neither bound nor carrying the handshake. */
int viewer_pair_checked(struct viewer_table *t, struct viewer *v, const struct sockaddr *sa,
                        uint32_t local, uint64_t now_ns);
/* The same for a check that arrived on ICE-TCP connection conn from sa. The caller has made
 * sure the connection belongs to no other session (viewer_by_conn). Returns the pair. */
int viewer_pair_checked_tcp(struct viewer_table *t, struct viewer *v, const struct sockaddr *sa,
                            int32_t conn, uint64_t now_ns);
/* The session at table index idx (what the connection recorded) if one of its pairs is
 * connection conn, with that pair's index in *pair. */
struct viewer *viewer_by_conn(const struct viewer_table *t, int32_t idx, int32_t conn, int *pair);
/* Forgets pair (its connection closed); the bound pair is not forgotten this way (the session
 * ends instead). */
void viewer_pair_forget(struct viewer_table *t, struct viewer *v, int pair);

static inline int32_t viewer_index(const struct viewer_table *t, const struct viewer *v)
{
    return (int32_t)(v - t->v);
}

static inline socklen_t viewer_addr_len(const union viewer_addr *a)
{
    return a->sa.sa_family == AF_INET6 ? sizeof(a->in6) : sizeof(a->in);
}

/* The worker index encoded in a session id, or -1 if it is not one of ours. */
int viewer_session_worker(const char *session);

/* An IPv4 peer of a dual-stack socket (::ffff:a.b.c.d) as a plain sockaddr_in: XOR-MAPPED-
 * ADDRESS must show the peer its own IPv4 address. 0, or -1 for a family we do not serve. */
int viewer_addr_unmap(union viewer_addr *a);

/* "ip:port" for log lines. */
void viewer_format_addr(const struct sockaddr *sa, char *out, size_t size);

#endif
