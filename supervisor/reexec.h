/* SPDX-License-Identifier: MIT */
/* reexec.h: the supervisor re-executing its own binary (ringcastctl upgrade) without touching
 * its children: the versioned state it hands across execve in an inherited memfd (named by
 * $RINGCAST_REEXEC_STATE), the probe that refuses a binary unable to read it, and the execve. */
#ifndef RINGCAST_REEXEC_H
#define RINGCAST_REEXEC_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "shm/ctl.h"

#define REEXEC_ENV       "RINGCAST_REEXEC_STATE" /* the memfd's descriptor number */
#define REEXEC_PROBE_ARG "--reexec-probe"        /* `ringcast --reexec-probe [-c FILE]` */
#define REEXEC_MAGIC     0x3158455845524352ull   /* "RCREXEX1" */
/* Bump on any change of the structs below: a binary of another version is refused before
 * the execve (reexec_probe), never left to misread the children it would inherit. */
#define REEXEC_VERSION  1
#define REEXEC_PROBE_MS 5000 /* the new binary must answer the probe within this */

/* One pool entry of procman (its pool index is its control-segment slot). */
struct reexec_child {
    uint32_t slot;
    uint32_t role;  /* enum ctl_role */
    uint32_t index; /* worker index */
    uint32_t next;  /* enum pm_next: PM_NEXT_BACKOFF or PM_NEXT_IDLE (others refuse a re-exec) */
    int32_t pid;    /* its running process, 0 while down (backoff or idle) */
    uint32_t backoff_ms;
    uint32_t watchdog_killed;
    uint32_t pad;
    uint64_t spawn_ns;      /* CLOCK_MONOTONIC, the same clock after the exec */
    uint64_t exit_ns;       /* its predecessor's exit, 0 before any */
    uint64_t restart_at_ns; /* down in backoff: when its restart is due */
    char path[CONFIG_NAME_MAX];
};

struct reexec_state {
    uint64_t magic;
    uint32_t version;
    uint32_t size;     /* sizeof(struct reexec_state) */
    uint64_t checksum; /* FNV-1a 64 of the blob with this field zero */
    /* Listening sockets passed as they are (never unbound, so no client is refused), and
     * ringcastctl's connection, which the new supervisor answers; -1 for none. */
    int32_t fd_control, fd_metrics, fd_agent, fd_reply;
    uint32_t upgrade;        /* 1: then hand the workers over and restart the ingests */
    uint32_t n_children;     /* entries used in children[] */
    char exe[PATH_MAX];      /* what was executed: the supervisor's path at its first start */
    char cfg_snap[PATH_MAX]; /* the running config (cfgsnap); "" = the built-in defaults */
    struct reexec_child children[CTL_MAX_CHILDREN];
};

/* The line `ringcast --reexec-probe` prints: the state version and size this build reads. */
int reexec_probe_line(char *buf, size_t len);

/* Runs `exe --reexec-probe [-c cfg]` (cfg NULL: defaults) and checks that it loads that config
 * and reads this build's state. 0, or -errno with the reason (what the binary said) in err. */
int reexec_probe(const char *exe, const char *cfg, char *err, size_t errlen);

/* Sets st's magic, version, size and checksum (last: nothing may change st after it). */
void reexec_seal(struct reexec_state *st);
/* Seals st, writes it to a memfd and execve()s st->exe with
 * argv and the environment plus REEXEC_ENV; the memfd and st's descriptors are the only ones
 * left open across it. Returns only on failure: -errno, the reason in err, every descriptor
 * close-on-exec again and the environment as it was. */
int reexec_exec(struct reexec_state *st, char *const argv[], char *err, size_t errlen);

/* In a process just started: 0 if REEXEC_ENV is not set (a first start). Else reads and
 * validates the state into st, removes REEXEC_ENV, closes the memfd and makes st's
 * descriptors close-on-exec again (children must not inherit them): 1, or -errno with the
 * reason in err. */
int reexec_load(struct reexec_state *st, char *err, size_t errlen);

/* Checks a state blob of len bytes (magic, version, size, checksum, counts, strings, slots).
 * 0 or -EPROTO with the reason in err. */
int reexec_validate(const struct reexec_state *st, size_t len, char *err, size_t errlen);
/* FNV-1a 64 over st with its checksum field taken as zero. */
uint64_t reexec_checksum(const struct reexec_state *st);

#endif
