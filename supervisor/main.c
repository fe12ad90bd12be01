/* SPDX-License-Identifier: MIT */
/* main.c: `ringcast [-c FILE] [--check]`, the supervisor. Creates the control segment,
 * serves the control socket, /metrics and the load balancer's agent check, runs the children
 * through procman, reloads on SIGHUP or `ringcastctl reload`, drains on `ringcastctl drain`,
 * re-executes itself on `ringcastctl upgrade` (reexec.h), and on SIGTERM/SIGINT stops
 * everything and exits 0. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "common/config.h"
#include "common/fdlimit.h"
#include "common/httpd.h"
#include "common/log.h"
#include "shm/ctl.h"
#include "shm/health.h"
#include "supervisor/cfgsnap.h"
#include "supervisor/control.h"
#include "supervisor/metrics.h"
#include "supervisor/oneshot.h"
#include "supervisor/previous.h"
#include "supervisor/procman.h"
#include "supervisor/reexec.h"
#include "shm/status.h"

#define EXIT_CONFIG       2               /* bad usage or config: nothing was started */
#define CONTROL_REPLY_MAX (2048u * 1024u) /* status of 1024 children fits with room */
#define CONTROL_MODE      0660
#define SV_FDS_FIXED      64 /* open files beside /metrics: the loop, listeners, shm, spawning */

struct supervisor {
    uv_loop_t *loop;
    struct config *cfg;   /* the running config; replaced by a successful reload */
    const char *cfg_file; /* as given with -c; NULL runs on the defaults */
    char snap[PATH_MAX];  /* the running config as the children read it; "" without -c */
    struct ctl ctl;
    struct procman pm;
    struct oneshot_server control;
    struct oneshot_server agent; /* agent_listen; loop NULL while off */
    struct metrics_server metrics;
    uv_signal_t sig[3]; /* SIGTERM, SIGINT, SIGHUP */
    bool stopping;
    char exe[PATH_MAX]; /* what `upgrade` executes: our path at the first start */
    char **argv;        /* as we were started, for that execve */
};

static void usage(FILE *f)
{
    fprintf(f, "usage: ringcast [-c FILE] [--check]\n"
               "  -c FILE   configuration (default: built-in defaults, no paths)\n"
               "  --check   validate the configuration and exit (0 if valid, 2 if not)\n"
               "  " REEXEC_PROBE_ARG " print the state version this build takes over (used by\n"
               "            ringcastctl upgrade before it re-executes a supervisor)\n");
}

static void on_children_stopped(struct procman *pm)
{
    struct supervisor *sv = (struct supervisor *)((char *)pm - offsetof(struct supervisor, pm));
    oneshot_close(&sv->control, sv->cfg->control_socket);
    if (sv->agent.loop)
        oneshot_close(&sv->agent, NULL);
    metrics_close(&sv->metrics);
    for (size_t i = 0; i < sizeof(sv->sig) / sizeof(sv->sig[0]); i++)
        if (sv->sig[i].data)
            uv_close((uv_handle_t *)&sv->sig[i], NULL);
    log_info("stopped");
}

static void sv_stop(struct supervisor *sv, const char *why)
{
    if (sv->stopping)
        return;
    sv->stopping = true;
    atomic_store(&sv->ctl.hdr->draining, 1); /* the balancer moves on while workers stop */
    log_info("%s: stopping children", why);
    pm_shutdown(&sv->pm, on_children_stopped);
}

/* The first key the supervisor itself holds open (the table's CONFIG_CHANGE_REFUSED) that
 * differs between a and b: changing it needs a restart. NULL if none. */
static const char *immutable_change(const struct config *a, const struct config *b)
{
    size_t n;
    const struct config_key *keys = config_keys(&n);
    for (size_t i = 0; i < n; i++)
        if (keys[i].section == CONFIG_SECTION_SERVER && (keys[i].change & CONFIG_CHANGE_REFUSED) &&
            config_key_differs(&keys[i], a, b))
            return keys[i].name;
    return NULL;
}

/* Re-reads the file; on any error the running config stays. 0 or -errno, reason in err. */
static void sv_config_free(struct config *cfg)
{
    config_free(cfg);
    free(cfg);
}

static int sv_reload(struct supervisor *sv, char *err, size_t errlen)
{
    if (!sv->cfg_file) {
        snprintf(err, errlen, "no config file to re-read (started without -c)");
        return -EINVAL;
    }
    if (sv->stopping) {
        snprintf(err, errlen, "shutting down");
        return -ESHUTDOWN;
    }
    struct config *n = calloc(1, sizeof(*n));
    if (!n) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    int rc = config_load(n, sv->cfg_file, err, errlen);
    const char *key = rc < 0 ? NULL : immutable_change(sv->cfg, n);
    if (key) {
        snprintf(err, errlen, "%s: %s changed; restart ringcast to apply it", sv->cfg_file, key);
        rc = -EINVAL;
    }
    if (rc < 0) {
        log_error("reload refused, keeping the running config: %s", err);
        sv_config_free(n);
        return rc;
    }
    rc = cfgsnap_write(n, sv->snap);
    if (rc < 0) {
        snprintf(err, errlen, "cannot write %s: %s", sv->snap, strerror(-rc));
        log_error("reload refused, keeping the running config: %s", err);
        sv_config_free(n);
        return rc;
    }
    log_set_level(n->log_level);
    pm_apply_config(&sv->pm, n);
    sv_config_free(sv->cfg);
    sv->cfg = n;
    snprintf(err, errlen, "reloaded %s: %zu path(s), %u worker(s)", sv->cfg_file, n->n_paths,
             n->workers);
    log_info("%s", err);
    return 0;
}

/* ringcastctl drain: the workers refuse new offers (they read the flag on each one), GET
 * /v1/health says 503 and the agent check "drain", while the current viewers keep playing.
 * undrain takes viewers again; a drain ends with the supervisor (stop, restart). */
static int sv_drain(struct supervisor *sv, bool on, char *buf, size_t len)
{
    if (sv->stopping) {
        snprintf(buf, len, "shutting down");
        return -ESHUTDOWN;
    }
    uint32_t was = atomic_exchange(&sv->ctl.hdr->draining, on);
    uint64_t viewers = 0;
    for (unsigned i = 0; i < CTL_MAX_CHILDREN; i++) {
        const struct ctl_child *c = &sv->ctl.hdr->children[i];
        if (atomic_load(&c->state) != CTL_STATE_EMPTY && c->role == CTL_ROLE_EGRESS)
            viewers += atomic_load_explicit(&c->counters.viewers, memory_order_relaxed);
    }
    char msg[128];
    if (on)
        snprintf(msg, sizeof(msg),
                 "%s: new viewers are refused, %llu current viewer(s) keep playing",
                 was ? "already draining" : "draining", (unsigned long long)viewers);
    else
        snprintf(msg, sizeof(msg), "%s", was ? "taking new viewers again" : "was not draining");
    if (!was != !on)
        log_info("ringcastctl %s: %s", on ? "drain" : "undrain", msg);
    snprintf(buf, len, "%s\n", msg);
    return 0;
}

/* The agent check (HAProxy agent-check): one line as the connection opens, nothing read. */
static int agent_respond(void *arg, int fd, const uint8_t *req, size_t len, char **out,
                         size_t *outlen)
{
    struct supervisor *sv = arg;
    (void)fd;
    (void)req;
    (void)len;
    struct health_capacity c;
    health_capacity(sv->ctl.hdr, sv->cfg->max_viewers_per_worker, NULL, 0, &c);
    char line[64];
    int n = health_agent_line(line, sizeof(line), &c);
    if (n < 0 || !(*out = malloc((size_t)n)))
        return -ENOMEM;
    memcpy(*out, line, (size_t)n);
    *outlen = (size_t)n;
    return 1;
}

/* ringcastctl upgrade, first step: the supervisor re-executes the binary now at sv->exe. The
 * pid stays, so the children stay ours; the listening sockets and ringcastctl's connection
 * (fd) cross the exec open, with the children's state in a memfd. The new process adopts the
 * children, starts the worker handovers (pm_upgrade) and answers ringcastctl itself. Returns
 * only if no exec happened: the old supervisor keeps running, nothing was upgraded. */
static int sv_upgrade(struct supervisor *sv, int fd, char *buf, size_t len)
{
    if (sv->stopping || sv->pm.upgrading) {
        snprintf(buf, len, "%s", sv->stopping ? "shutting down" : "an upgrade is under way");
        return sv->stopping ? -ESHUTDOWN : -EBUSY;
    }
    struct reexec_state *st = calloc(1, sizeof(*st));
    if (!st) {
        snprintf(buf, len, "out of memory");
        return -ENOMEM;
    }
    char err[PATH_MAX + 256];
    int rc = pm_export(&sv->pm, st);
    if (rc < 0)
        snprintf(err, sizeof(err), "a child is being stopped, restarted or handed over; try again");
    else
        rc = reexec_probe(sv->exe, sv->cfg_file ? sv->snap : NULL, err, sizeof(err));
    if (rc == 0) {
        st->fd_control = oneshot_fd(&sv->control);
        st->fd_metrics = metrics_fd(&sv->metrics);
        st->fd_agent = sv->agent.loop ? oneshot_fd(&sv->agent) : -1;
        st->fd_reply = fd;
        st->upgrade = 1;
        snprintf(st->exe, sizeof(st->exe), "%s", sv->exe);
        snprintf(st->cfg_snap, sizeof(st->cfg_snap), "%s", sv->cfg_file ? sv->snap : "");
        log_info("upgrade: re-executing the supervisor (pid %d) from %s, keeping its %u "
                 "child(ren)",
                 (int)getpid(), sv->exe, st->n_children);
        rc = reexec_exec(st, sv->argv, err, sizeof(err));
    }
    free(st);
    snprintf(buf, len, "cannot re-execute the supervisor: %s; nothing was upgraded", err);
    log_error("upgrade: %s", buf);
    return rc;
}

/* The re-executed supervisor is up: it tells ringcastctl, then starts the handovers. */
static void sv_resumed(struct supervisor *sv, const struct reexec_state *st, unsigned running)
{
    char msg[PATH_MAX + 512]; /* st->exe is shorter than PATH_MAX (validated): no truncation */
    int n = snprintf(msg, sizeof(msg),
                     "ok\nsupervisor re-executed: pid %d runs %s, %u child(ren) adopted (%u "
                     "running)\n",
                     (int)getpid(), st->exe, st->n_children, running);
    log_info("%.*s", n - 4, msg + 3);
    if (st->upgrade && pm_upgrade(&sv->pm, msg + n, sizeof(msg) - (size_t)n) == 0)
        strncat(msg, "\n", sizeof(msg) - strlen(msg) - 1);
    if (st->fd_reply < 0)
        return;
    size_t len = strlen(msg);
    if (write(st->fd_reply, msg, len) != (ssize_t)len)
        log_warn("upgrade: could not answer ringcastctl: %s", strerror(errno));
    close(st->fd_reply);
}

/* Runs one command; writes the reply body after "ok\n", or the reason after "error: ". fd is
 * the client's connection. */
static int sv_command(struct supervisor *sv, const struct control_cmd *cmd, int fd, char *buf,
                      size_t len)
{
    int rc;
    switch (cmd->verb) {
    case CONTROL_STATUS:
    case CONTROL_PATHS:
    case CONTROL_WORKERS: {
        enum status_view v = cmd->verb == CONTROL_STATUS  ? STATUS_VIEW_STATUS
                             : cmd->verb == CONTROL_PATHS ? STATUS_VIEW_PATHS
                                                          : STATUS_VIEW_WORKERS;
        rc = cmd->json ? status_json(buf, len, sv->ctl.hdr, sv->cfg, v)
                       : status_text(buf, len, sv->ctl.hdr, sv->cfg, v);
        if (rc < 0)
            snprintf(buf, len, "report too large");
        return rc < 0 ? rc : 0;
    }
    case CONTROL_RESTART_WORKER:
        rc = pm_restart_worker(&sv->pm, cmd->worker);
        if (rc == -EBUSY)
            snprintf(buf, len, "worker %u is still starting or handing over", cmd->worker);
        else if (rc < 0)
            snprintf(buf, len, "no worker %u (workers = %u)", cmd->worker, sv->cfg->workers);
        else
            snprintf(buf, len, "restarting worker %u (its sessions are handed over)\n",
                     cmd->worker);
        return rc;
    case CONTROL_RESTART_PATH:
        rc = pm_restart_path(&sv->pm, cmd->path);
        if (rc < 0)
            snprintf(buf, len, "no path %s", cmd->path);
        else
            snprintf(buf, len, "restarting the ingest of path %s\n", cmd->path);
        return rc;
    case CONTROL_RELOAD:
        rc = sv_reload(sv, buf, len);
        if (rc == 0 && strlen(buf) + 1 < len)
            strcat(buf, "\n");
        return rc;
    case CONTROL_STOP:
        snprintf(buf, len, "stopping\n");
        sv_stop(sv, "ringcastctl stop");
        return 0;
    case CONTROL_DRAIN:
    case CONTROL_UNDRAIN:
        return sv_drain(sv, cmd->verb == CONTROL_DRAIN, buf, len);
    case CONTROL_UPGRADE:
        return sv_upgrade(sv, fd, buf, len);
    }
    snprintf(buf, len, "unknown command");
    return -EINVAL;
}

static int control_respond(void *arg, int fd, const uint8_t *req, size_t len, char **out,
                           size_t *outlen)
{
    struct supervisor *sv = arg;
    struct control_cmd cmd;
    char err[256];
    int rc = control_parse(req, len, &cmd, err, sizeof(err));
    if (rc == 0)
        return 0;
    char *buf = malloc(CONTROL_REPLY_MAX);
    if (!buf)
        return -ENOMEM;
    if (rc < 0) {
        log_warn("control: refused request: %s", err);
        *outlen = (size_t)snprintf(buf, CONTROL_REPLY_MAX, "error: %s\n", err);
    } else {
        const size_t hdr = 3; /* "ok\n" */
        rc = sv_command(sv, &cmd, fd, buf + hdr, CONTROL_REPLY_MAX - hdr);
        if (rc == 0) {
            memcpy(buf, "ok\n", hdr);
            *outlen = hdr + strlen(buf + hdr);
        } else {
            char reason[512];
            snprintf(reason, sizeof(reason), "%s", buf + hdr);
            *outlen = (size_t)snprintf(buf, CONTROL_REPLY_MAX, "error: %s\n", reason);
        }
    }
    *out = buf;
    return 1;
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct supervisor *sv = h->data;
    if (signum == SIGHUP) {
        char msg[512];
        (void)sv_reload(sv, msg, sizeof(msg)); /* logged there, either way */
        return;
    }
    sv_stop(sv, signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

/* The control segment: a new one, or (st: re-executed) the one our children write. */
static int sv_open_ctl(struct supervisor *sv, const struct reexec_state *st)
{
    const struct config *cfg = sv->cfg;
    if (st) {
        int err = ctl_attach(&sv->ctl, cfg->shm_prefix);
        if (err == 0 && atomic_load(&sv->ctl.hdr->supervisor_pid) != getpid())
            err = -ESRCH;
        if (err < 0)
            log_error("re-exec: control segment /%s.ctl: %s", cfg->shm_prefix, strerror(-err));
        return err;
    }
    int pid = previous_take_over(cfg->shm_prefix);
    if (pid) {
        log_error("shm prefix %s is in use by a running supervisor (pid %d)", cfg->shm_prefix, pid);
        return -EADDRINUSE;
    }
    int err = ctl_create(&sv->ctl, cfg->shm_prefix);
    if (err < 0)
        log_error("cannot create control segment /%s.ctl: %s", cfg->shm_prefix, strerror(-err));
    return err;
}

/* Binds the control socket, /metrics and the agent check, or (st: re-executed) serves the
 * listening sockets the previous binary handed over, so no client finds them closed. */
static int sv_listen(struct supervisor *sv, const struct reexec_state *st)
{
    const struct config *cfg = sv->cfg;
    sv->control.name = "control";
    sv->control.respond = control_respond;
    sv->control.arg = sv;
    int err = st ? oneshot_open(&sv->control, sv->loop, st->fd_control)
                 : oneshot_listen_unix(&sv->control, sv->loop, cfg->control_socket, CONTROL_MODE);
    if (err < 0) {
        log_error("control socket %s: %s%s", cfg->control_socket, uv_strerror(err),
                  err == UV_EADDRINUSE ? " (another ringcast is running)" : "");
        return err;
    }
    err = st ? metrics_open(&sv->metrics, sv->loop, sv->ctl.hdr, st->fd_metrics)
             : metrics_listen(&sv->metrics, sv->loop, sv->ctl.hdr, cfg->metrics_host,
                              cfg->metrics_port);
    if (err < 0) {
        log_error("metrics_listen %s:%u: %s", cfg->metrics_host, cfg->metrics_port,
                  uv_strerror(err));
        return err;
    }
    if (cfg->agent_port) {
        sv->agent.name = "agent";
        sv->agent.respond = agent_respond;
        sv->agent.arg = sv;
        err = st && st->fd_agent >= 0
                  ? oneshot_open(&sv->agent, sv->loop, st->fd_agent)
                  : oneshot_listen_tcp(&sv->agent, sv->loop, cfg->agent_host, cfg->agent_port);
        if (err < 0) {
            log_error("agent_listen %s:%u: %s", cfg->agent_host, cfg->agent_port, uv_strerror(err));
            return err;
        }
    }
    return 0;
}

/* Starts the supervisor; st (a re-exec) adopts the running children instead of starting them. */
static int sv_start(struct supervisor *sv, const struct reexec_state *st)
{
    const struct config *cfg = sv->cfg;
    int err = sv_open_ctl(sv, st);
    if (err == 0)
        err = sv_listen(sv, st);
    if (err < 0)
        return err;
    if (sv->cfg_file) {
        err = cfgsnap_path(sv->snap, sizeof(sv->snap), cfg);
        if (err == 0)
            err = cfgsnap_write(cfg, sv->snap);
        if (err < 0) {
            log_error("cannot write the children's config %s: %s", sv->snap, strerror(-err));
            return err;
        }
    }
    err = pm_init(&sv->pm, sv->loop, &sv->ctl, cfg, sv->cfg_file ? sv->snap : NULL);
    if (err < 0) {
        log_error("cannot locate the child programs or %s: %s", sv->cfg_file, strerror(-err));
        return err;
    }
    static const int signums[] = {SIGTERM, SIGINT, SIGHUP};
    for (size_t i = 0; i < sizeof(signums) / sizeof(signums[0]); i++) {
        /* Fails only when the loop's signal pipe cannot be made (out of descriptors): the
         * supervisor then runs without that handler, stopped by ringcastctl stop. */
        err = uv_signal_init(sv->loop, &sv->sig[i]);
        if (err < 0) {
            log_error("signal %d: %s", signums[i], uv_strerror(err));
            continue;
        }
        sv->sig[i].data = sv;
        (void)uv_signal_start(&sv->sig[i], on_signal, signums[i]);
    }
    char agent[96] = "";
    if (cfg->agent_port)
        snprintf(agent, sizeof(agent), ", agent check on %s:%u", cfg->agent_host, cfg->agent_port);
    log_info("control socket %s, metrics on %s:%u%s, %zu path(s), %u worker(s)",
             cfg->control_socket, cfg->metrics_host, cfg->metrics_port, agent, cfg->n_paths,
             cfg->workers);
    if (st) {
        /* Ours to unlink at exit from now on; until here a failure leaves it, so that the
         * next start finds the children it must end (previous.h). */
        sv->ctl.owner = true;
        sv_resumed(sv, st, pm_adopt(&sv->pm, st));
    } else
        pm_start(&sv->pm);
    return 0;
}

/* Closes whatever sv_start opened before it failed, so the loop can be closed. procman is
 * the last step that can fail and leaves nothing open when it does. */
static void sv_abort(struct supervisor *sv)
{
    oneshot_close(&sv->control, sv->control.loop ? sv->cfg->control_socket : NULL);
    if (sv->agent.loop)
        oneshot_close(&sv->agent, NULL);
    if (sv->metrics.srv.loop)
        metrics_close(&sv->metrics);
    (void)uv_run(sv->loop, UV_RUN_DEFAULT);
}

/* Loads the running config: the file, or after a re-exec the snapshot the previous binary ran
 * (the upgrade is about code: the file on disk is read only by a reload). */
static int sv_load_config(struct supervisor *sv, const char *file, bool quiet)
{
    char err[512];
    sv->cfg = calloc(1, sizeof(*sv->cfg));
    if (!sv->cfg)
        return -ENOMEM;
    if (!file) {
        config_defaults(sv->cfg);
        return 0;
    }
    int rc = config_load(sv->cfg, file, err, sizeof(err));
    if (rc < 0) {
        if (quiet)
            fprintf(stderr, "ringcast: %s\n", err);
        else
            log_error("%s", err);
        sv_config_free(sv->cfg);
        sv->cfg = NULL;
    }
    return rc;
}

int main(int argc, char **argv)
{
    static struct supervisor sv;
    static struct reexec_state st; /* what a re-executing supervisor handed us */
    bool check = false, probe = false;

    log_init("supervisor");
    for (int i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc) {
            sv.cfg_file = argv[++i];
        } else if (strcmp(argv[i], "--check") == 0) {
            check = true;
        } else if (strcmp(argv[i], REEXEC_PROBE_ARG) == 0) {
            probe = true;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "ringcast: unknown argument \"%s\"\n", argv[i]);
            usage(stderr);
            return EXIT_CONFIG;
        }
    }
    char err[512];
    int resumed = check || probe ? 0 : reexec_load(&st, err, sizeof(err));
    if (resumed < 0) {
        log_error("re-exec: %s; the children keep running unsupervised (the next ringcast "
                  "start ends them)",
                  err);
        return 1;
    }
    const char *file = resumed ? (st.cfg_snap[0] ? st.cfg_snap : NULL) : sv.cfg_file;
    if (sv_load_config(&sv, file, check || probe) < 0)
        return resumed ? 1 : EXIT_CONFIG;
    if (resumed && sv.cfg_file) /* status names the file the running config was read from */
        snprintf(sv.cfg->file, sizeof(sv.cfg->file), "%s", sv.cfg_file);
    if (check || probe) {
        if (probe)
            (void)reexec_probe_line(err, sizeof(err));
        else
            snprintf(err, sizeof(err), "%s: ok (%zu path(s), %u worker(s))\n",
                     sv.cfg_file ? sv.cfg_file : "(defaults)", sv.cfg->n_paths, sv.cfg->workers);
        fputs(err, stdout);
        sv_config_free(sv.cfg);
        return 0;
    }
    log_set_level(sv.cfg->log_level);
    signal(SIGPIPE, SIG_IGN); /* a ringcastctl that hangs up must not kill us */
    /* The children inherit the raised limit; each worker checks it against its own caps. */
    (void)fdlimit_raise(SV_FDS_FIXED + HTTPD_MAX_CONNS, "the supervisor's /metrics connections");
    /* Our path at the first start (symlinks resolved): `upgrade` executes whatever file is
     * there then, and keeps executing that path however often it is replaced. */
    ssize_t n = resumed ? -1 : readlink("/proc/self/exe", sv.exe, sizeof(sv.exe) - 1);
    if (resumed)
        snprintf(sv.exe, sizeof(sv.exe), "%s", st.exe);
    else if (n > 0)
        sv.exe[n] = '\0';
    sv.argv = argv;

    sv.loop = uv_default_loop();
    int rc = sv_start(&sv, resumed ? &st : NULL);
    if (rc < 0)
        sv_abort(&sv);
    else
        (void)uv_run(sv.loop, UV_RUN_DEFAULT);
    ctl_free(&sv.ctl); /* unlinks /<prefix>.ctl */
    if (sv.snap[0])
        unlink(sv.snap);
    if (uv_loop_close(sv.loop) != 0)
        log_warn("event loop closed with handles still open");
    sv_config_free(sv.cfg);
    return rc < 0 ? 1 : 0;
}
