/* SPDX-License-Identifier: MIT */
/* pm_handover.c: replacing a running worker by a handover (its successor binds the same ports
 * and adopts its sessions, the predecessor stops; SIGKILL if it lingers), and `ringcastctl
 * upgrade`, which hands over each worker and then restarts each ingest, one at a time. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "common/log.h"
#include "supervisor/procman_int.h"

/* ---- handover ---- */

/* The predecessor ignored the handover: SIGKILL (its successor adopts as after a crash). */
static void on_handover_timer(uv_timer_t *t)
{
    struct pm_child *c = t->data;
    if (!c->old_alive)
        return;
    log_warn("%s: its predecessor (pid %d) still runs %d ms into the handover; killing it",
             c->label, pm_inst_pid(c, !c->cur), PM_HANDOVER_MS);
    pm_inst_kill(c, !c->cur, SIGKILL);
}

/* Whether a handover can start: a running worker with no other one under way. */
static bool handover_ready(struct pm_child *c)
{
    return c->role == CTL_ROLE_EGRESS && c->alive && !c->old_open && c->next == PM_NEXT_BACKOFF &&
           atomic_load(&pm_slot_of(c)->state) == CTL_STATE_RUNNING;
}

/* Spawns the successor of a running worker into the other handle; it signals its predecessor
 * itself once its sockets are bound (egress/adopt.h), which keeps the gap short. */
static void handover_start(struct pm_child *c)
{
    int old = pm_cur_pid(c);
    c->cur ^= 1u;
    c->old_open = c->old_alive = true;
    c->alive = c->proc_open = false;
    c->handover_failed = false;
    c->handover_ns = c->handover_at_ns = ctl_now_ns();
    c->exit_ns = c->handover_ns; /* a restart, for the slot's count */
    (void)uv_timer_start(&c->handover_timer, on_handover_timer, PM_HANDOVER_MS, 0);
    pm_spawn_child(c, old);
    if (!c->alive) { /* failed to spawn: the predecessor never heard of it */
        c->handover_ns = 0;
        c->handover_failed = true;
        log_warn("%s: handover not started; stopping pid %d so that a new one adopts its "
                 "sessions",
                 c->label, old);
        pm_inst_kill(c, !c->cur, SIGKILL);
    }
}

/* Done once the predecessor is reaped and the successor has heartbeat since: it adopted
 * (adopt_start runs before its first heartbeat of the loop). */
void pm_handover_check(struct pm_child *c, uint64_t now)
{
    uint64_t hb = atomic_load_explicit(&pm_slot_of(c)->heartbeat_ns, memory_order_acquire);
    if (!c->handover_ns || c->old_open || !c->alive || hb < c->old_exit_ns)
        return;
    pm_set_state(c, CTL_STATE_RUNNING);
    log_info("%s (pid %d) heartbeating with its predecessor's sessions: handed over in %" PRIu64
             " ms",
             c->label, pm_cur_pid(c), pm_ms_since(c->handover_ns, now));
    c->handover_ns = 0;
}

int pm_restart_worker(struct procman *pm, unsigned index)
{
    struct pm_child *c = pm_find_child(pm, CTL_ROLE_EGRESS, index, NULL);
    if (!c || pm->shutting_down)
        return -ENOENT;
    if (c->alive && !handover_ready(c))
        return -EBUSY;
    log_info("%s: restart requested%s", c->label, c->alive ? " (handover)" : "");
    if (c->alive)
        handover_start(c);
    else
        pm_stop_child(c, PM_NEXT_NOW);
    return 0;
}

/* ---- upgrade ---- */

/* Whether the child being replaced is done: 1 still under way, 0 done, -1 failed. */
static int upgrade_progress(struct pm_child *c)
{
    if (c->role == CTL_ROLE_EGRESS)
        return c->handover_ns ? 1 : c->handover_failed ? -1 : 0;
    uint32_t st = atomic_load(&pm_slot_of(c)->state);
    if (c->next == PM_NEXT_NOW || st == CTL_STATE_STARTING)
        return 1;
    return st == CTL_STATE_BACKOFF ? -1 : 0;
}

/* Replaces the next child, once the previous one is done. */
void pm_upgrade_step(struct procman *pm)
{
    if (!pm->upgrading || pm->shutting_down)
        return;
    struct pm_child *c = pm->upgrade_cur;
    int rc = c ? upgrade_progress(c) : 0;
    if (rc > 0)
        return;
    if (rc < 0) {
        log_error("upgrade stopped: %s's new process did not come up (%u worker(s) and %u "
                  "ingest(s) replaced)",
                  c->label, pm->upgrade_done[0], pm->upgrade_done[1]);
        pm->upgrading = false;
        return;
    }
    if (c)
        pm->upgrade_done[c->role == CTL_ROLE_INGEST]++;
    pm->upgrade_cur = NULL;
    for (; pm->upgrade_pass < 2; pm->upgrade_pass++, pm->upgrade_pos = 0) {
        enum ctl_role role = pm->upgrade_pass ? CTL_ROLE_INGEST : CTL_ROLE_EGRESS;
        while (pm->upgrade_pos < CTL_MAX_CHILDREN) {
            c = &pm->children[pm->upgrade_pos++];
            /* One that is down, idle or still starting runs the new binary anyway. */
            if (c->role != role || c->next != PM_NEXT_BACKOFF || !c->alive ||
                (role == CTL_ROLE_EGRESS && !handover_ready(c)))
                continue;
            pm->upgrade_cur = c;
            log_info("upgrade: replacing %s (pid %d)", c->label, pm_cur_pid(c));
            if (role == CTL_ROLE_EGRESS)
                handover_start(c);
            else
                pm_stop_child(c, PM_NEXT_NOW);
            return;
        }
    }
    log_info("upgrade: done in %" PRIu64 " ms: %u worker(s) handed over, %u ingest(s) restarted",
             pm_ms_since(pm->upgrade_ns, ctl_now_ns()), pm->upgrade_done[0], pm->upgrade_done[1]);
    pm->upgrading = false;
}

int pm_upgrade(struct procman *pm, char *msg, size_t len)
{
    if (pm->shutting_down)
        return -ESHUTDOWN;
    if (pm->upgrading)
        return -EBUSY;
    unsigned n[2] = {0, 0};
    for (unsigned i = 0; i < CTL_MAX_CHILDREN; i++) {
        const struct pm_child *c = &pm->children[i];
        if (c->role != CTL_ROLE_NONE && c->alive && c->next == PM_NEXT_BACKOFF)
            n[c->role == CTL_ROLE_INGEST]++;
    }
    pm->upgrading = true;
    pm->upgrade_pass = pm->upgrade_pos = 0;
    pm->upgrade_cur = NULL;
    pm->upgrade_done[0] = pm->upgrade_done[1] = 0;
    pm->upgrade_ns = ctl_now_ns();
    snprintf(msg, len,
             "upgrading %u worker(s) one at a time (each hands its sessions over to the binary "
             "now on disk), then restarting %u ingest(s)",
             n[0], n[1]);
    log_info("ringcastctl upgrade: %s", msg);
    pm_upgrade_step(pm);
    return 0;
}
