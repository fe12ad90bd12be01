/* viewer.h: a worker's WHEP sessions: one fixed-size record per viewer in a preallocated
 * table, found by local ICE ufrag (STUN), by remote address (DTLS, RTP/RTCP) and by session
 * id (DELETE). Session ids start with the owning worker's index so any worker can route a
 * DELETE. The table never allocates after viewer_table_init. */
#ifndef RINGCAST_EGRESS_VIEWER_H
#define RINGCAST_EGRESS_VIEWER_H

#include <stdint.h>
#include <sys/socket.h>

#include "common/config.h"
#include "egress/dtls.h"
#include "egress/icelite.h"
#include "egress/media.h"

#define VIEWER_SESSION_LEN 26 /* 2 hex digits of worker index + 24 random hex digits */
#define VIEWER_UFRAG_LEN   8
#define VIEWER_PWD_LEN     24

enum viewer_state {
    VIEWER_FREE = 0,
    VIEWER_ICE,   /* answered, waiting for an authenticated binding request */
    VIEWER_DTLS,  /* address validated, DTLS handshake running */
    VIEWER_MEDIA, /* media started */
};

struct viewer {
    struct media_viewer media; /* the data plane's record; media.user points back here */
    uint32_t state;            /* enum viewer_state */
    uint32_t nominated;        /* USE-CANDIDATE seen: the address is final */
    char session[VIEWER_SESSION_LEN + 1];
    char path[CONFIG_NAME_MAX];
    char ufrag[VIEWER_UFRAG_LEN + 1];
    char pwd[VIEWER_PWD_LEN + 1];
    char remote_ufrag[ICELITE_UFRAG_MAX];
    struct dtlsrv_fingerprints remote_fp; /* from the offer: the certificate matches one */
    struct media_track_params tracks[MEDIA_MAX_TRACKS];
    struct sockaddr_storage addr; /* validated ICE address (valid when addr_len) */
    socklen_t addr_len;
    uint32_t local_addr;      /* our IPv4 address its checks arrived at (network order), 0 = any */
    char peer[64];            /* "ip:port" of the HTTP client, then of the ICE address, for logs */
    uint64_t consent_ns;      /* last authenticated binding request (RFC 7675 consent) */
    uint64_t media_ns;        /* when media started, for the DTLS settle fallback */
    struct dtlsrv_conn *dtls; /* until the handshake has settled */
    void *owner;              /* the worker, for DTLS callbacks */
    int32_t next_ufrag, next_addr; /* hash chains (table indexes, -1 = end) */
};

struct viewer_table {
    struct viewer *v;
    uint32_t cap, count;
    uint32_t mask;               /* buckets - 1 */
    int32_t *by_ufrag, *by_addr; /* bucket heads */
    int32_t free_head;           /* free list through next_ufrag */
};

/* Sizes the table for cap viewers. 0 or -ENOMEM. */
int viewer_table_init(struct viewer_table *t, uint32_t cap);
void viewer_table_free(struct viewer_table *t);

/* A zeroed viewer with fresh random ICE credentials and a session id for worker index, in
 * VIEWER_ICE state and findable by ufrag; NULL when the table is full (-> 503) or the
 * random source failed. */
struct viewer *viewer_alloc(struct viewer_table *t, unsigned worker_index);
/* Unlinks and frees the slot. The caller has stopped media and freed dtls. */
void viewer_release(struct viewer_table *t, struct viewer *v);

struct viewer *viewer_by_ufrag(const struct viewer_table *t, const char *ufrag);
struct viewer *viewer_by_addr(const struct viewer_table *t, const struct sockaddr *sa);
struct viewer *viewer_by_session(const struct viewer_table *t, const char *session);
/* Sets (or moves) the viewer's validated address. */
void viewer_set_addr(struct viewer_table *t, struct viewer *v, const struct sockaddr *sa,
                     socklen_t len);

/* The worker index encoded in a session id, or -1 if it is not one of ours. */
int viewer_session_worker(const char *session);

/* "ip:port" for log lines. */
void viewer_format_addr(const struct sockaddr *sa, char *out, size_t size);

#endif
