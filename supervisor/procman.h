/* SPDX-License-Identifier: MIT */
/* procman.h: the supervisor's children. Spawns one ringcast-ingest per path and one
 * ringcast-egress per worker (uv_spawn), restarts them with exponential backoff, kills the
 * ones whose heartbeat stalls, applies a reloaded config, and stops everything on exit. */
#ifndef RINGCAST_PROCMAN_H
#define RINGCAST_PROCMAN_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "common/config.h"
#include "shm/ctl.h"
#include "supervisor/reexec.h"

#define PM_BACKOFF_MIN_MS   100
#define PM_BACKOFF_MAX_MS   10000
#define PM_BACKOFF_RESET_MS 60000 /* up this long: the next crash starts over at MIN */
#define PM_HEARTBEAT_MS     5000  /* no heartbeat this long: SIGKILL */
#define PM_STOP_GRACE_MS    3000  /* SIGTERM, then SIGKILL after this */
/* A worker replaced by a handover that is still running this long after its successor's spawn
 * gets SIGKILL: its sessions stay in its table, and the successor adopts them as after a
 * crash (it waits longer than this: egress/adopt.h ADOPT_HANDOVER_WAIT_MS). */
#define PM_HANDOVER_MS 2500

/* What happens when a child's process has exited and its handle is closed. */
enum pm_next {
    PM_NEXT_BACKOFF = 0, /* it crashed or was killed: restart after the backoff delay */
    PM_NEXT_NOW,         /* asked to restart (ringcastctl, changed source): restart at once */
    PM_NEXT_REMOVE,      /* its path or worker is gone from the config */
    PM_NEXT_IDLE,        /* an on-demand path nobody watches: stay down until wanted */
};

struct procman;

struct pm_child {
    struct procman *pm;
    unsigned slot;                    /* its control-segment slot; equals its index in the pool */
    enum ctl_role role;               /* CTL_ROLE_NONE: pool entry unused */
    unsigned index;                   /* worker index, for egress */
    char path[CONFIG_NAME_MAX];       /* path name, for ingest */
    char label[CONFIG_NAME_MAX + 16]; /* "ingest demo", "worker 1", for logs */
    /* procs[cur] is the current instance; during a worker's handover procs[!cur] is its
     * predecessor, which stops once the successor's sockets are bound (egress/adopt.h). */
    uv_process_t procs[2];
    /* adopted[k] != 0: instance k is a process inherited across the supervisor's re-exec,
     * unknown to libuv: its pid (killed with kill(2), reaped by pid on SIGCHLD). */
    int adopted[2];
    unsigned cur;
    uv_timer_t timer; /* the restart delay while down, the SIGKILL deadline while stopping */
    bool proc_open;   /* procs[cur] is initialized and not closed yet */
    bool alive;       /* spawned and not yet reaped */
    bool watchdog_killed;
    bool old_open;             /* procs[!cur]: a predecessor's handle, not closed yet */
    bool old_alive;            /* that predecessor is not reaped yet */
    bool handover_failed;      /* the last handover's successor exited before it was up */
    uint64_t handover_ns;      /* a handover under way since (its spawn), else 0 */
    uint64_t handover_at_ns;   /* the last handover's spawn, kept after it ends or fails */
    uint64_t old_exit_ns;      /* when the predecessor was reaped */
    uv_timer_t handover_timer; /* the predecessor's deadline (PM_HANDOVER_MS) */
    enum pm_next next;
    uint64_t spawn_ns;   /* CLOCK_MONOTONIC of the last spawn */
    uint64_t exit_ns;    /* when the previous instance was reaped; 0 before any */
    uint32_t backoff_ms; /* delay before the next crash restart */
};

struct procman {
    uv_loop_t *loop;
    struct ctl *ctl;
    const struct config *cfg; /* the running config; borrowed, replaced by pm_apply_config */
    char cfg_file[PATH_MAX];  /* absolute, handed to children as -c; "" = none */
    char bindir[PATH_MAX];    /* where ringcast-ingest and ringcast-egress live */
    struct pm_child children[CTL_MAX_CHILDREN];
    uv_timer_t watchdog;
    uv_timer_t shutdown_timer;
    uv_signal_t sigchld;    /* reaps the adopted instances */
    unsigned adopted_procs; /* adopted instances not reaped yet */
    bool shutting_down;
    unsigned open_procs; /* proc handles not yet closed, adopted instances included */
    /* ringcastctl upgrade: workers, then ingests, one at a time in pool order. */
    bool upgrading;
    unsigned upgrade_pass;        /* 0: workers, 1: ingests */
    unsigned upgrade_pos;         /* the next pool entry to look at */
    struct pm_child *upgrade_cur; /* the child being replaced, or NULL */
    unsigned upgrade_done[2];     /* workers handed over, ingests restarted */
    uint64_t upgrade_ns;
    void (*on_stopped)(struct procman *); /* shutdown finished; every handle is closed */
};

/* Prepares pm (timers) without starting anything. cfg and ctl are borrowed and must outlive
 * pm; cfg_file may be NULL (children then run on defaults). The child binaries are looked
 * up next to /proc/self/exe, or in $RINGCAST_CHILD_DIR when set (tests). 0, or -errno with
 * no handle left open. After 0, only pm_shutdown releases pm. */
int pm_init(struct procman *pm, uv_loop_t *loop, struct ctl *ctl, const struct config *cfg,
            const char *cfg_file);
/* Spawns the ingest of every path (an on-demand one waits idle for its first viewer) and
 * every worker. */
void pm_start(struct procman *pm);
/* Moves to newcfg (already validated; borrowed from now on): starts added paths and
 * workers, stops removed ones (unlinking their rings), and for changed keys does what their
 * entries in config.h's table say: restarts the ingests (all, or one path's) or the workers,
 * or SIGHUPs the workers so that they re-read the file. */
void pm_apply_config(struct procman *pm, const struct config *newcfg);
/* ringcastctl restart: 0, or -ENOENT when no such worker or path is configured. A running
 * worker is replaced by a handover: its successor (the binary now on disk) binds the same
 * ports, the worker stops sending and exits, the successor adopts its sessions; -EBUSY while
 * the worker is still starting or handing over. A worker that is down is started at once. */
int pm_restart_worker(struct procman *pm, unsigned index);
int pm_restart_path(struct procman *pm, const char *path);
/* ringcastctl upgrade: replaces every running worker by a handover, one after the other (the
 * next once the previous successor has adopted and heartbeats), then restarts each running
 * ingest the same way (its viewers see a pause: the ring continues). Stops at a successor
 * that does not come up. 0 with a summary in msg, or -EBUSY (one is under way), -ESHUTDOWN. */
int pm_upgrade(struct procman *pm, char *msg, size_t len);
/* Before the supervisor re-executes itself: every child into st->children (n_children set).
 * -EBUSY when a child is between two states a process cannot hand over (being stopped,
 * restarted or handed over, an upgrade under way; the caller asks to retry), -ESHUTDOWN. */
int pm_export(const struct procman *pm, struct reexec_state *st);
/* In the re-executed supervisor, instead of pm_start: takes over the children st lists
 * without starting or signalling any (a running one is adopted by pid, one in backoff gets
 * its remaining delay, an idle one stays idle), then reaps those that died during the exec
 * (their restart follows as usual). Returns how many running processes it adopted. */
unsigned pm_adopt(struct procman *pm, const struct reexec_state *st);
/* SIGTERM to every child, SIGKILL after PM_STOP_GRACE_MS, unlink every path's ring, close
 * all handles, then on_stopped(pm). Idempotent. */
void pm_shutdown(struct procman *pm, void (*on_stopped)(struct procman *));

#endif
