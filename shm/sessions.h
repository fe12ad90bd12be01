/* SPDX-License-Identifier: MIT */
/* sessions.h: a worker's session table in POSIX shared memory, /<prefix>.sessions.<index>
 * (mode 0600): N fixed-size records that outlive the process, so that its successor (a
 * restart after a crash, or an upgrade) can adopt the sessions. This module owns the segment
 * and the validity of a record (a seqlock odd while written, a build id, a checksum); what a
 * record holds is its owner's (egress/adopt.c). A record also has one progress word outside the
 * checksum that its owner may store at any time (a ring position). */
#ifndef RINGCAST_SHM_SESSIONS_H
#define RINGCAST_SHM_SESSIONS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SESSIONS_MAGIC    0x3153534553435200ull /* "\0RCSESS1" */
#define SESSIONS_VERSION  1
#define SESSIONS_REC_SIZE 1024
#define SESSIONS_DATA_MAX (SESSIONS_REC_SIZE - 32)

struct sessions_hdr {
    uint64_t magic; /* SESSIONS_MAGIC */
    uint32_t version;
    uint32_t hdr_size; /* sizeof(struct sessions_hdr) */
    uint32_t rec_size; /* SESSIONS_REC_SIZE */
    uint32_t n_recs;
    uint64_t build_id; /* the owner's record layout (egress/adopt.c) */
    uint32_t index;    /* the worker's */
    _Atomic int32_t owner_pid;
    _Atomic uint64_t heartbeat_ns; /* CLOCK_MONOTONIC, stored by the owner about every 500 ms */
    /* owner_pid once that process has sent its last packet and let the table go (a planned
     * handover): its successor may take over while it is still exiting. 0 otherwise. */
    _Atomic int32_t released_pid;
    uint8_t pad[12];
};

struct sessions_rec {
    _Atomic uint32_t seq; /* 0: empty; odd: being written; even: complete if the sum matches */
    uint32_t len;         /* bytes of data */
    uint64_t build_id;    /* as the header's, per record */
    uint64_t sum;         /* FNV-1a 64 of len, build_id and data[0..len) */
    _Atomic uint64_t progress;
    uint8_t data[SESSIONS_DATA_MAX];
};

_Static_assert(sizeof(struct sessions_hdr) == 64, "sessions_hdr layout");
_Static_assert(sizeof(struct sessions_rec) == SESSIONS_REC_SIZE, "sessions_rec layout");

struct sessions {
    struct sessions_hdr *hdr;
    struct sessions_rec *rec;
    size_t map_len;
    uint32_t n;            /* records */
    uint32_t n_prev;       /* records a predecessor may have left (0..n) */
    int32_t prev_pid;      /* the predecessor's pid, 0 = none */
    uint64_t prev_beat_ns; /* its last heartbeat, 0 = none */
    char name[96];         /* "/<prefix>.sessions.<index>" */
    char refused[64];      /* why a predecessor's table was discarded as a whole, "" = it wasn't */
};

/* Creates /<prefix>.sessions.<index> for n records, or re-opens a predecessor's: its records
 * stay for sessions_read when its header has our magic, version, geometry and build_id (else
 * the table is wiped, with the reason in s->refused). 0, -EBUSY when the owner it names still
 * runs (another worker with this prefix and index: left alone), or -errno. */
int sessions_open(struct sessions *s, const char *prefix, unsigned index, uint32_t n,
                  uint64_t build_id);
/* Unmaps; unlink also removes the object (an orderly stop: no session is left to adopt).
 * Tolerates a zeroed struct. */
void sessions_close(struct sessions *s, bool unlink);

/* Copies record i if complete and valid: its length and the progress word, or -ENOENT
 * (empty), -EBUSY (left half-written), -EAGAIN (changed while read), -EPROTO (another build),
 * -EBADMSG (bad length or checksum). */
int sessions_read(const struct sessions *s, uint32_t i, void *out, size_t cap, uint64_t *progress);
/* Writes record i (len <= SESSIONS_DATA_MAX) and its progress word. */
void sessions_write(struct sessions *s, uint32_t i, const void *data, size_t len,
                    uint64_t progress);
/* Zeroes record i (its secrets with it). */
void sessions_wipe(struct sessions *s, uint32_t i);
/* Record i's progress word, which the owner stores to as it goes. */
static inline _Atomic uint64_t *sessions_progress(struct sessions *s, uint32_t i)
{
    return &s->rec[i].progress;
}
void sessions_heartbeat(struct sessions *s, uint64_t now_ns);
/* The owner has sent its last packet under these records and keeps them for its successor:
 * marks the table released (after every store of ours, release order). */
void sessions_release(struct sessions *s);
/* Whether process pid no longer holds /<prefix>.sessions.<index>: it marked the table
 * released, the table names another owner or none exists, or pid is gone. */
bool sessions_released_by(const char *prefix, unsigned index, int32_t pid);

#endif
