/* SPDX-License-Identifier: MIT */
/* procman_int.h: what the process manager's files share (procman.c: spawning, reaping,
 * restarts, reload, re-exec, shutdown; pm_handover.c: worker handovers and upgrades). Not a
 * public interface: the supervisor drives children through supervisor/procman.h. */
#ifndef RINGCAST_PROCMAN_INT_H
#define RINGCAST_PROCMAN_INT_H

#include <signal.h>
#include <stdatomic.h>

#include "supervisor/procman.h"

#define NS_PER_MS 1000000ull

static inline uint64_t pm_ms_since(uint64_t then_ns, uint64_t now_ns)
{
    return now_ns > then_ns ? (now_ns - then_ns) / NS_PER_MS : 0;
}

/* Instance k's pid, spawned by libuv or adopted across a re-exec. */
static inline int pm_inst_pid(const struct pm_child *c, unsigned k)
{
    return c->adopted[k] ? c->adopted[k] : c->procs[k].pid;
}

static inline int pm_cur_pid(const struct pm_child *c)
{
    return pm_inst_pid(c, c->cur);
}

static inline void pm_inst_kill(struct pm_child *c, unsigned k, int sig)
{
    if (c->adopted[k])
        (void)kill(c->adopted[k], sig);
    else
        (void)uv_process_kill(&c->procs[k], sig);
}

static inline struct ctl_child *pm_slot_of(const struct pm_child *c)
{
    return ctl_slot(c->pm->ctl, c->slot);
}

static inline void pm_set_state(struct pm_child *c, enum ctl_state st)
{
    atomic_store_explicit(&pm_slot_of(c)->state, (uint32_t)st, memory_order_release);
}

/* procman.c */
/* Starts c's current instance; predecessor > 0: as the successor of that pid's handover. */
void pm_spawn_child(struct pm_child *c, int predecessor);
/* Ends the current instance and then does next (see enum pm_next). */
void pm_stop_child(struct pm_child *c, enum pm_next next);
/* The configured child of that role and worker index or path, or NULL. */
struct pm_child *pm_find_child(struct procman *pm, enum ctl_role role, unsigned index,
                               const char *path);

/* pm_handover.c */
/* Completes a handover under way once its predecessor is reaped and the successor heartbeats. */
void pm_handover_check(struct pm_child *c, uint64_t now);
/* Moves an upgrade under way on to its next child once the current one is done. */
void pm_upgrade_step(struct procman *pm);

#endif
