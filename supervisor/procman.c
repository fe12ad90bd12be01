/* SPDX-License-Identifier: MIT */
/* procman.c: spawning, reaping and restarting the supervisor's children. A child's pool
 * entry, its control-segment slot and its libuv handles live as long as its path or worker
 * is configured; each restart reuses them, so counters survive crashes. The ingest of a
 * source_on_demand path runs only while the workers' demand in its slot is recent. */
#include "supervisor/procman.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "supervisor/procman_int.h"

static void on_proc_closed(uv_handle_t *h);
static void go_idle(struct pm_child *c);

/* The current instance's process handle. */
static uv_process_t *proc_of(struct pm_child *c)
{
    return &c->procs[c->cur];
}

/* Closes instance k's handle; an adopted instance has none, so its callback runs now. */
static void inst_close(struct pm_child *c, unsigned k, uv_close_cb cb)
{
    if (!c->adopted[k]) {
        uv_close((uv_handle_t *)&c->procs[k], cb);
        return;
    }
    c->adopted[k] = 0;
    c->pm->adopted_procs--;
    cb((uv_handle_t *)&c->procs[k]);
}

/* shm_unlink of /<prefix>.<path>: the ring of a path that is gone, or at shutdown. */
static void unlink_ring(const struct procman *pm, const char *path)
{
    char name[128];
    snprintf(name, sizeof(name), "/%s.%s", pm->cfg->shm_prefix, path);
    if (shm_unlink(name) < 0 && errno != ENOENT)
        log_warn("path %s: cannot unlink ring %s: %s", path, name, strerror(errno));
}

/* The binaries' folder: $RINGCAST_CHILD_DIR, else the folder of our own executable. */
static int find_bindir(char *dir, size_t len)
{
    const char *env = getenv("RINGCAST_CHILD_DIR");
    if (env && *env) {
        if ((size_t)snprintf(dir, len, "%s", env) >= len)
            return -ENAMETOOLONG;
        return 0;
    }
    ssize_t n = readlink("/proc/self/exe", dir, len - 1);
    if (n < 0)
        return -errno;
    dir[n] = '\0';
    char *slash = strrchr(dir, '/');
    if (!slash)
        return -ENOENT;
    *slash = '\0';
    return 0;
}

static void on_child_timer(uv_timer_t *t);

int pm_init(struct procman *pm, uv_loop_t *loop, struct ctl *ctl, const struct config *cfg,
            const char *cfg_file)
{
    memset(pm, 0, sizeof(*pm));
    /* Children may chdir; give them a path that means the same file anywhere. */
    if (cfg_file && !realpath(cfg_file, pm->cfg_file))
        return -errno;
    int err = find_bindir(pm->bindir, sizeof(pm->bindir));
    if (err < 0)
        return err;
    /* Nothing fails past this point, so a failed init leaves no handle to close. */
    pm->loop = loop;
    pm->ctl = ctl;
    pm->cfg = cfg;
    (void)uv_timer_init(loop, &pm->watchdog);
    (void)uv_timer_init(loop, &pm->shutdown_timer);
    (void)uv_signal_init(loop, &pm->sigchld);
    pm->sigchld.data = pm;
    for (unsigned i = 0; i < CTL_MAX_CHILDREN; i++) {
        struct pm_child *c = &pm->children[i];
        c->pm = pm;
        c->slot = i;
        (void)uv_timer_init(loop, &c->timer);
        (void)uv_timer_init(loop, &c->handover_timer);
        c->timer.data = c->handover_timer.data = c;
    }
    return 0;
}

/* ---- exits ---- */

static void describe_exit(char *buf, size_t len, int64_t status, int sig)
{
    if (sig)
        snprintf(buf, len, "killed by signal %d (%s)", sig, strsignal(sig));
    else
        snprintf(buf, len, "exited with status %" PRId64, status);
}

static void maybe_finish_shutdown(struct procman *pm);

/* A predecessor's handle is closed: the handover may be complete. */
static void on_old_closed(uv_handle_t *h)
{
    struct pm_child *c = h->data;
    c->old_open = false;
    c->pm->open_procs--;
    if (c->pm->shutting_down)
        maybe_finish_shutdown(c->pm);
    else
        pm_handover_check(c, ctl_now_ns());
}

/* A predecessor exited: the slot, its pid and gauges are its successor's now. Timed from
 * handover_at_ns: a failed handover has cleared handover_ns before its predecessor is reaped. */
static void on_old_exit(struct pm_child *c, unsigned k, const char *why)
{
    c->old_alive = false;
    c->old_exit_ns = ctl_now_ns();
    (void)uv_timer_stop(&c->handover_timer);
    log_info("%s (pid %d) %s, %" PRIu64 " ms into its handover", c->label, pm_inst_pid(c, k), why,
             pm_ms_since(c->handover_at_ns, c->old_exit_ns));
    inst_close(c, k, on_old_closed);
}

/* Instance k of c exited (reaped by libuv, or by reap_adopted). */
static void child_exit(struct pm_child *c, unsigned k, int64_t status, int sig)
{
    struct ctl_child *s = pm_slot_of(c);
    uint64_t now = ctl_now_ns();
    int pid = pm_inst_pid(c, k);
    char why[96];

    describe_exit(why, sizeof(why), status, sig);
    if (k != c->cur) {
        on_old_exit(c, k, why);
        return;
    }
    if (c->handover_ns) {
        /* The successor died before it was up: the predecessor may still send, or may have
         * stopped already; either way it must go, and its table stays for the next start. */
        log_warn("%s: handover failed: the successor (pid %d) %s", c->label, pid, why);
        if (c->old_alive)
            pm_inst_kill(c, !c->cur, SIGKILL);
        c->handover_ns = 0;
        c->handover_failed = true;
    }
    c->alive = false;
    c->exit_ns = now;
    atomic_store(&s->last_exit, sig ? -sig : (int32_t)status);
    atomic_store(&s->pid, 0);
    /* A gauge of a dead process is no longer true; counters stay for the successor. */
    atomic_store(&s->counters.viewers, 0);
    (void)uv_timer_stop(&c->timer);

    uint64_t up_ms = pm_ms_since(c->spawn_ns, now);
    if (c->pm->shutting_down || c->next != PM_NEXT_BACKOFF) {
        log_info("%s (pid %d) %s after %" PRIu64 " ms", c->label, pid, why, up_ms);
    } else {
        if (up_ms >= PM_BACKOFF_RESET_MS)
            c->backoff_ms = PM_BACKOFF_MIN_MS;
        log_warn("%s (pid %d) %s%s after %" PRIu64 " ms up; restarting in %u ms", c->label, pid,
                 why, c->watchdog_killed ? " (heartbeat stalled)" : "", up_ms, c->backoff_ms);
    }
    inst_close(c, k, on_proc_closed);
}

static void on_child_exit(uv_process_t *p, int64_t status, int sig)
{
    struct pm_child *c = p->data;
    child_exit(c, p == &c->procs[0] ? 0u : 1u, status, sig);
}

static void release_child(struct pm_child *c)
{
    /* A path removed and added back by two quick reloads already has a new ingest writing
     * the same ring: leave the ring to it. */
    if (c->role == CTL_ROLE_INGEST && !pm_find_child(c->pm, CTL_ROLE_INGEST, 0, c->path))
        unlink_ring(c->pm, c->path);
    ctl_slot_release(pm_slot_of(c));
    log_info("%s removed", c->label);
    c->role = CTL_ROLE_NONE;
}

/* The process handle is closed: now it may be reused for the next spawn. */
static void on_proc_closed(uv_handle_t *h)
{
    struct pm_child *c = h->data;
    struct procman *pm = c->pm;

    c->proc_open = false;
    pm->open_procs--;
    if (pm->shutting_down) {
        pm_set_state(c, CTL_STATE_STOPPING);
        maybe_finish_shutdown(pm);
        return;
    }
    switch (c->next) {
    case PM_NEXT_REMOVE:
        release_child(c);
        break;
    case PM_NEXT_IDLE:
        go_idle(c);
        break;
    case PM_NEXT_NOW:
        c->next = PM_NEXT_BACKOFF;
        pm_spawn_child(c, 0);
        break;
    case PM_NEXT_BACKOFF:
        pm_set_state(c, CTL_STATE_BACKOFF);
        (void)uv_timer_start(&c->timer, on_child_timer, c->backoff_ms, 0);
        c->backoff_ms =
            c->backoff_ms * 2 > PM_BACKOFF_MAX_MS ? PM_BACKOFF_MAX_MS : c->backoff_ms * 2;
        break;
    }
}

/* ---- spawning ---- */

/* Starts the current instance; predecessor > 0 makes it a worker's successor in a handover. */
void pm_spawn_child(struct pm_child *c, int predecessor)
{
    struct procman *pm = c->pm;
    struct ctl_child *s = pm_slot_of(c);
    char file[PATH_MAX + 32], slot[16], index[16], pred[16];
    char *args[14];
    int n = 0;

    snprintf(file, sizeof(file), "%s/%s", pm->bindir,
             c->role == CTL_ROLE_INGEST ? "ringcast-ingest" : "ringcast-egress");
    snprintf(slot, sizeof(slot), "%u", c->slot);
    snprintf(index, sizeof(index), "%u", c->index);
    args[n++] = file;
    if (pm->cfg_file[0]) {
        args[n++] = "-c";
        args[n++] = pm->cfg_file;
    }
    if (c->role == CTL_ROLE_INGEST) {
        args[n++] = "--path";
        args[n++] = c->path;
    } else {
        args[n++] = "--index";
        args[n++] = index;
    }
    args[n++] = "--ctl-slot";
    args[n++] = slot;
    if (predecessor > 0) {
        snprintf(pred, sizeof(pred), "%d", predecessor);
        args[n++] = "--handover";
        args[n++] = pred;
    }
    args[n] = NULL;

    uv_stdio_container_t stdio[3] = {
        {.flags = UV_IGNORE},
        {.flags = UV_INHERIT_FD, .data.fd = STDOUT_FILENO},
        {.flags = UV_INHERIT_FD, .data.fd = STDERR_FILENO},
    };
    uv_process_options_t opts = {
        .exit_cb = on_child_exit, .file = file, .args = args, .stdio_count = 3, .stdio = stdio};

    if (c->exit_ns)
        atomic_fetch_add(&s->restarts, 1);
    atomic_store(&s->heartbeat_ns, 0);
    c->spawn_ns = ctl_now_ns();
    c->watchdog_killed = false;
    atomic_store(&s->start_ns, c->spawn_ns);
    pm_set_state(c, CTL_STATE_STARTING);
    uv_process_t *proc = proc_of(c);
    proc->data = c;
    c->proc_open = true;
    pm->open_procs++;
    int err = uv_spawn(pm->loop, proc, &opts);
    if (err < 0) {
        /* The handle is initialized even on failure and must be closed; the close path
         * schedules the retry with backoff like a crash. */
        log_error("%s: cannot start %s: %s; retrying in %u ms", c->label, file, uv_strerror(err),
                  c->backoff_ms);
        c->exit_ns = c->spawn_ns;
        uv_close((uv_handle_t *)proc, on_proc_closed);
        return;
    }
    c->alive = true;
    atomic_store(&s->pid, proc->pid);
    log_info("%s started (pid %d, slot %u%s%s)", c->label, proc->pid, c->slot,
             predecessor > 0 ? ", taking over from pid " : "", predecessor > 0 ? pred : "");
}

static void set_identity(struct pm_child *c, enum ctl_role role, unsigned index, const char *path)
{
    c->role = role;
    c->index = index;
    snprintf(c->path, sizeof(c->path), "%s", path ? path : "");
    if (role == CTL_ROLE_INGEST)
        snprintf(c->label, sizeof(c->label), "ingest %s", path);
    else
        snprintf(c->label, sizeof(c->label), "worker %u", index);
}

static struct pm_child *new_child(struct procman *pm, enum ctl_role role, unsigned index,
                                  const char *path)
{
    for (unsigned i = 0; i < CTL_MAX_CHILDREN; i++) {
        struct pm_child *c = &pm->children[i];
        if (c->role != CTL_ROLE_NONE)
            continue;
        set_identity(c, role, index, path);
        c->next = PM_NEXT_BACKOFF;
        c->backoff_ms = PM_BACKOFF_MIN_MS;
        c->exit_ns = 0;
        ctl_slot_assign(pm_slot_of(c), role, index, role == CTL_ROLE_INGEST ? path : c->label);
        return c;
    }
    log_error("no free control slot for %s %s (at most %d children)",
              role == CTL_ROLE_INGEST ? "path" : "worker", path ? path : "", CTL_MAX_CHILDREN);
    return NULL;
}

/* ---- sources on demand ---- */

/* The path of an ingest, if it is configured on demand. */
static const struct config_path *on_demand_path(const struct pm_child *c)
{
    const struct config_path *p =
        c->role == CTL_ROLE_INGEST ? config_find_path(c->pm->cfg, c->path) : NULL;
    return p && p->on_demand ? p : NULL;
}

static bool is_idle(const struct pm_child *c)
{
    return c->next == PM_NEXT_IDLE && !c->proc_open;
}

static bool demand_now(const struct pm_child *c, const struct config_path *p, uint64_t now)
{
    uint64_t wanted = atomic_load_explicit(&pm_slot_of(c)->wanted_ns, memory_order_relaxed);
    return ctl_demand_wanted(wanted, now, (uint64_t)p->on_demand_close_after * 1000000000ull);
}

/* No process, state idle: the ring stays, so that the next ingest continues it and workers
 * keep their mapping. The next start is a first start, not a restart. */
static void go_idle(struct pm_child *c)
{
    c->next = PM_NEXT_IDLE;
    c->exit_ns = 0;
    c->backoff_ms = PM_BACKOFF_MIN_MS;
    atomic_store(&pm_slot_of(c)->pid, 0);
    pm_set_state(c, CTL_STATE_IDLE);
    log_info("%s idle (source on demand, no viewer)", c->label);
}

/* Starts an idle ingest that workers want (or whose path is no longer on demand), and stops
 * a running or restarting one nobody wanted for on_demand_close_after. */
static void check_demand(struct pm_child *c, uint64_t now)
{
    const struct config_path *p = on_demand_path(c);
    bool want = !p || demand_now(c, p, now);
    if (want && is_idle(c)) {
        log_info("%s: %s; starting it", c->label,
                 p ? "a viewer asked for the source" : "no longer on demand");
        c->next = PM_NEXT_BACKOFF;
        pm_spawn_child(c, 0);
    } else if (!want && c->next == PM_NEXT_BACKOFF) {
        log_info("%s: no viewer for %u s; stopping the source", c->label, p->on_demand_close_after);
        pm_stop_child(c, PM_NEXT_IDLE);
    }
}

/* A new child: an on-demand ingest nobody wants yet stays idle, anything else starts. */
static void add_child(struct procman *pm, enum ctl_role role, unsigned index, const char *path)
{
    struct pm_child *c = new_child(pm, role, index, path);
    const struct config_path *p = c ? on_demand_path(c) : NULL;
    if (p && !demand_now(c, p, ctl_now_ns()))
        go_idle(c);
    else if (c)
        pm_spawn_child(c, 0);
}

/* ---- heartbeat watchdog ---- */

static void check_child(struct pm_child *c, uint64_t now)
{
    struct ctl_child *s = pm_slot_of(c);
    uint64_t hb = atomic_load_explicit(&s->heartbeat_ns, memory_order_acquire);
    bool beating = hb >= c->spawn_ns;

    /* During a handover the predecessor's heartbeats are in the slot too: pm_handover_check. */
    if (beating && !c->handover_ns && atomic_load(&s->state) == CTL_STATE_STARTING) {
        pm_set_state(c, CTL_STATE_RUNNING);
        if (c->exit_ns)
            log_info("%s (pid %d) heartbeating %" PRIu64 " ms after its predecessor exited",
                     c->label, pm_cur_pid(c), pm_ms_since(c->exit_ns, hb));
        else
            log_info("%s (pid %d) heartbeating %" PRIu64 " ms after spawn", c->label, pm_cur_pid(c),
                     pm_ms_since(c->spawn_ns, hb));
    }
    uint64_t last = beating ? hb : c->spawn_ns;
    if (!c->watchdog_killed && pm_ms_since(last, now) > PM_HEARTBEAT_MS) {
        log_warn("%s (pid %d): no heartbeat for %" PRIu64 " ms; killing it", c->label,
                 pm_cur_pid(c), pm_ms_since(last, now));
        c->watchdog_killed = true;
        pm_inst_kill(c, c->cur, SIGKILL);
    }
}

static void on_watchdog(uv_timer_t *t)
{
    struct procman *pm = t->data;
    uint64_t now = ctl_now_ns();
    for (unsigned i = 0; i < CTL_MAX_CHILDREN; i++) {
        struct pm_child *c = &pm->children[i];
        if (c->role != CTL_ROLE_NONE && c->alive && c->next == PM_NEXT_BACKOFF)
            check_child(c, now);
        if (c->handover_ns)
            pm_handover_check(c, now);
        if (c->role == CTL_ROLE_INGEST)
            check_demand(c, now);
    }
    pm_upgrade_step(pm);
}

void pm_start(struct procman *pm)
{
    for (size_t i = 0; i < pm->cfg->n_paths; i++)
        add_child(pm, CTL_ROLE_INGEST, (unsigned)i, pm->cfg->paths[i].name);
    for (unsigned i = 0; i < pm->cfg->workers; i++)
        add_child(pm, CTL_ROLE_EGRESS, i, NULL);
    pm->watchdog.data = pm;
    (void)uv_timer_start(&pm->watchdog, on_watchdog, 250, 250);
}

/* ---- re-exec of the supervisor ---- */

/* Whether c can cross an execve as it is: running, waiting in backoff, or idle; not between
 * two processes (being stopped, restarted, handed over; a handle still closing). */
static bool exportable(const struct pm_child *c)
{
    if (c->role == CTL_ROLE_NONE)
        return true;
    if (c->old_open || c->handover_ns || c->proc_open != c->alive)
        return false;
    return c->next == PM_NEXT_BACKOFF || (c->next == PM_NEXT_IDLE && !c->proc_open);
}

int pm_export(const struct procman *pm, struct reexec_state *st)
{
    if (pm->shutting_down)
        return -ESHUTDOWN;
    if (pm->upgrading)
        return -EBUSY;
    uint64_t now = ctl_now_ns();
    st->n_children = 0;
    for (unsigned i = 0; i < CTL_MAX_CHILDREN; i++) {
        const struct pm_child *c = &pm->children[i];
        if (!exportable(c))
            return -EBUSY;
        if (c->role == CTL_ROLE_NONE)
            continue;
        struct reexec_child *e = &st->children[st->n_children++];
        memset(e, 0, sizeof(*e));
        e->slot = c->slot;
        e->role = c->role;
        e->index = c->index;
        e->next = c->next;
        e->pid = c->alive ? pm_cur_pid(c) : 0;
        e->backoff_ms = c->backoff_ms;
        e->watchdog_killed = c->watchdog_killed;
        e->spawn_ns = c->spawn_ns;
        e->exit_ns = c->exit_ns;
        if (!c->alive && c->next == PM_NEXT_BACKOFF)
            e->restart_at_ns = now + uv_timer_get_due_in(&c->timer) * NS_PER_MS;
        snprintf(e->path, sizeof(e->path), "%s", c->path);
    }
    return 0;
}

/* SIGCHLD: libuv reaps the processes it spawned, each by its pid; the adopted ones are ours
 * to reap, by pid too, since waitpid(-1) would take the status of one of libuv's. */
static void reap_adopted(struct procman *pm)
{
    for (unsigned i = 0; i < CTL_MAX_CHILDREN && pm->adopted_procs; i++) {
        struct pm_child *c = &pm->children[i];
        for (unsigned k = 0; k < 2; k++) {
            int pid = c->adopted[k], status = 0;
            if (!pid)
                continue;
            pid_t r = waitpid(pid, &status, WNOHANG);
            if (r == 0 || (r < 0 && errno == EINTR))
                continue;
            if (r < 0) /* not our child: the state was wrong about it; it counts as gone */
                log_warn("%s: pid %d is not a child of this supervisor", c->label, pid);
            child_exit(c, k, r > 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                       r > 0 && WIFSIGNALED(status) ? WTERMSIG(status) : 0);
        }
    }
}

static void on_sigchld(uv_signal_t *h, int signum)
{
    (void)signum;
    reap_adopted(h->data);
}

unsigned pm_adopt(struct procman *pm, const struct reexec_state *st)
{
    uint64_t now = ctl_now_ns();
    unsigned running = 0;
    for (uint32_t i = 0; i < st->n_children; i++) {
        const struct reexec_child *e = &st->children[i];
        struct pm_child *c = &pm->children[e->slot];
        struct ctl_child *s = pm_slot_of(c);
        set_identity(c, e->role, e->index, e->path);
        c->next = e->next == PM_NEXT_IDLE ? PM_NEXT_IDLE : PM_NEXT_BACKOFF;
        c->backoff_ms = e->backoff_ms ? e->backoff_ms : PM_BACKOFF_MIN_MS;
        c->watchdog_killed = e->watchdog_killed;
        c->spawn_ns = e->spawn_ns;
        c->exit_ns = e->exit_ns;
        if (s->role != e->role || (e->pid && atomic_load(&s->pid) != e->pid))
            log_warn("%s: control slot %u says %s pid %d; keeping pid %d", c->label, c->slot,
                     ctl_role_name(s->role), atomic_load(&s->pid), e->pid);
        if (e->pid > 0) {
            c->cur = 0;
            c->adopted[0] = e->pid;
            c->procs[0].data = c;
            c->proc_open = c->alive = true;
            pm->open_procs++;
            pm->adopted_procs++;
            running++;
        } else if (c->next == PM_NEXT_BACKOFF) {
            uint64_t due = e->restart_at_ns > now ? (e->restart_at_ns - now) / NS_PER_MS : 0;
            (void)uv_timer_start(&c->timer, on_child_timer, due, 0);
        }
    }
    (void)uv_signal_start(&pm->sigchld, on_sigchld, SIGCHLD);
    pm->watchdog.data = pm;
    (void)uv_timer_start(&pm->watchdog, on_watchdog, 250, 250);
    /* A child that exited during the exec: its SIGCHLD went to the exec's default (ignore)
     * disposition, but it stays a zombie until reaped, so look at each once now. */
    reap_adopted(pm);
    return running;
}

/* ---- deliberate stops ---- */

/* The child's timer: restart after the backoff delay, or kill a child that ignored SIGTERM. */
static void on_child_timer(uv_timer_t *t)
{
    struct pm_child *c = t->data;
    if (c->alive) {
        log_warn("%s (pid %d) still running %d ms after SIGTERM; killing it", c->label,
                 pm_cur_pid(c), PM_STOP_GRACE_MS);
        pm_inst_kill(c, c->cur, SIGKILL);
    } else if (c->old_open && !c->pm->shutting_down) {
        /* A failed handover's predecessor is not reaped yet: its ports and table are busy. */
        (void)uv_timer_start(&c->timer, on_child_timer, PM_BACKOFF_MIN_MS, 0);
    } else if (!c->proc_open && !c->pm->shutting_down) {
        pm_spawn_child(c, 0);
    }
}

/* Ends the current instance and then does next: a running child gets SIGTERM (and SIGKILL
 * after the grace time); one waiting in backoff is handled at once. */
void pm_stop_child(struct pm_child *c, enum pm_next next)
{
    c->next = next;
    if (c->alive) {
        pm_set_state(c, CTL_STATE_STOPPING);
        pm_inst_kill(c, c->cur, SIGTERM);
        (void)uv_timer_start(&c->timer, on_child_timer, PM_STOP_GRACE_MS, 0);
    } else if (!c->proc_open) {
        (void)uv_timer_stop(&c->timer);
        if (next == PM_NEXT_REMOVE) {
            release_child(c);
        } else if (next == PM_NEXT_IDLE) {
            go_idle(c);
        } else {
            c->next = PM_NEXT_BACKOFF;
            pm_spawn_child(c, 0);
        }
    } /* else: exited, handle closing; on_proc_closed acts on next */
}

struct pm_child *pm_find_child(struct procman *pm, enum ctl_role role, unsigned index,
                               const char *path)
{
    for (unsigned i = 0; i < CTL_MAX_CHILDREN; i++) {
        struct pm_child *c = &pm->children[i];
        if (c->role != role || c->next == PM_NEXT_REMOVE)
            continue;
        if (role == CTL_ROLE_INGEST ? strcmp(c->path, path) == 0 : c->index == index)
            return c;
    }
    return NULL;
}

int pm_restart_path(struct procman *pm, const char *path)
{
    struct pm_child *c = pm_find_child(pm, CTL_ROLE_INGEST, 0, path);
    if (!c || pm->shutting_down)
        return -ENOENT;
    if (is_idle(c)) { /* its next start reads the config anew */
        log_info("%s: restart requested; idle, nothing to restart", c->label);
        return 0;
    }
    log_info("%s: restart requested", c->label);
    pm_stop_child(c, PM_NEXT_NOW);
    return 0;
}

/* ---- reload ---- */

/* Workers re-read the paths on SIGHUP: the set of names, and each path's keys marked for it. */
static bool paths_need_hup(const struct config *a, const struct config *b)
{
    if (a->n_paths != b->n_paths)
        return true;
    for (size_t i = 0; i < a->n_paths; i++) {
        const struct config_path *p = config_find_path(b, a->paths[i].name);
        if (!p || (config_path_changes(&a->paths[i], p) & CONFIG_CHANGE_HUP_WORKERS))
            return true;
    }
    return false;
}

void pm_apply_config(struct procman *pm, const struct config *newcfg)
{
    const struct config *old = pm->cfg;
    unsigned server = config_server_changes(old, newcfg); /* the table's change bits */
    bool restart_ingests = server & CONFIG_CHANGE_RESTART_INGESTS;
    bool restart_workers = server & CONFIG_CHANGE_RESTART_WORKERS;
    bool hup_workers = (server & CONFIG_CHANGE_HUP_WORKERS) || paths_need_hup(old, newcfg);

    pm->cfg = newcfg;
    for (unsigned i = 0; i < CTL_MAX_CHILDREN; i++) {
        struct pm_child *c = &pm->children[i];
        if (c->role == CTL_ROLE_NONE || c->next == PM_NEXT_REMOVE)
            continue;
        if (c->role == CTL_ROLE_INGEST) {
            const struct config_path *np = config_find_path(newcfg, c->path);
            const struct config_path *op = config_find_path(old, c->path);
            /* A path turned on demand keeps its ingest for close_after: its viewers' workers
             * publish their demand only once they have re-read the file. */
            if (np && np->on_demand && op && !op->on_demand)
                ctl_demand_bump(pm_slot_of(c), ctl_now_ns());
            if (!np) {
                log_info("reload: path %s removed", c->path);
                pm_stop_child(c, PM_NEXT_REMOVE);
            } else if (!is_idle(c) &&
                       (restart_ingests ||
                        (op && (config_path_changes(op, np) & CONFIG_CHANGE_RESTART_INGESTS)))) {
                log_info("reload: path %s changed; restarting its ingest", c->path);
                pm_stop_child(c, PM_NEXT_NOW);
            }
        } else if (c->index >= newcfg->workers) {
            log_info("reload: worker %u no longer configured", c->index);
            pm_stop_child(c, PM_NEXT_REMOVE);
        } else if (restart_workers) {
            log_info("reload: worker %u restarting for new server settings", c->index);
            pm_stop_child(c, PM_NEXT_NOW);
        } else if (c->alive && hup_workers) {
            /* A key workers copy on SIGHUP changed, or the paths did: re-read the file. */
            log_info("reload: worker %u told to re-read the config (SIGHUP)", c->index);
            pm_inst_kill(c, c->cur, SIGHUP);
        }
    }
    for (size_t i = 0; i < newcfg->n_paths; i++) {
        if (!pm_find_child(pm, CTL_ROLE_INGEST, 0, newcfg->paths[i].name)) {
            log_info("reload: path %s added", newcfg->paths[i].name);
            add_child(pm, CTL_ROLE_INGEST, (unsigned)i, newcfg->paths[i].name);
        }
    }
    for (unsigned i = 0; i < newcfg->workers; i++) {
        if (!pm_find_child(pm, CTL_ROLE_EGRESS, i, NULL)) {
            log_info("reload: worker %u added", i);
            add_child(pm, CTL_ROLE_EGRESS, i, NULL);
        }
    }
}

/* ---- shutdown ---- */

static void on_shutdown_timer(uv_timer_t *t)
{
    struct procman *pm = t->data;
    for (unsigned i = 0; i < CTL_MAX_CHILDREN; i++) {
        struct pm_child *c = &pm->children[i];
        if (c->alive) {
            log_warn("%s (pid %d) ignored SIGTERM for %d ms; killing it", c->label, pm_cur_pid(c),
                     PM_STOP_GRACE_MS);
            pm_inst_kill(c, c->cur, SIGKILL);
        }
        if (c->old_alive)
            pm_inst_kill(c, !c->cur, SIGKILL);
    }
}

static void maybe_finish_shutdown(struct procman *pm)
{
    if (pm->open_procs > 0 || !pm->on_stopped)
        return;
    for (unsigned i = 0; i < CTL_MAX_CHILDREN; i++) {
        struct pm_child *c = &pm->children[i];
        if (c->role == CTL_ROLE_INGEST)
            unlink_ring(pm, c->path);
        if (c->role != CTL_ROLE_NONE)
            ctl_slot_release(pm_slot_of(c));
        c->role = CTL_ROLE_NONE;
        uv_close((uv_handle_t *)&c->timer, NULL);
        uv_close((uv_handle_t *)&c->handover_timer, NULL);
    }
    /* Rings of paths that never got a child (no free slot) too. */
    for (size_t i = 0; i < pm->cfg->n_paths; i++)
        unlink_ring(pm, pm->cfg->paths[i].name);
    uv_close((uv_handle_t *)&pm->watchdog, NULL);
    uv_close((uv_handle_t *)&pm->shutdown_timer, NULL);
    uv_close((uv_handle_t *)&pm->sigchld, NULL);
    void (*done)(struct procman *) = pm->on_stopped;
    pm->on_stopped = NULL;
    done(pm);
}

void pm_shutdown(struct procman *pm, void (*on_stopped)(struct procman *))
{
    if (pm->shutting_down)
        return;
    pm->shutting_down = true;
    pm->on_stopped = on_stopped;
    (void)uv_timer_stop(&pm->watchdog);
    for (unsigned i = 0; i < CTL_MAX_CHILDREN; i++) {
        struct pm_child *c = &pm->children[i];
        (void)uv_timer_stop(&c->timer);
        (void)uv_timer_stop(&c->handover_timer);
        if (c->alive) {
            pm_set_state(c, CTL_STATE_STOPPING);
            pm_inst_kill(c, c->cur, SIGTERM);
        }
        if (c->old_alive) /* handing over already, or not yet asked: either way it stops */
            pm_inst_kill(c, !c->cur, SIGTERM);
    }
    pm->shutdown_timer.data = pm;
    (void)uv_timer_start(&pm->shutdown_timer, on_shutdown_timer, PM_STOP_GRACE_MS, 0);
    maybe_finish_shutdown(pm);
}
