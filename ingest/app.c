/* SPDX-License-Identifier: MIT */
/* app.c: one path's ingest process, whichever program runs it: options and config, the
 * control slot (pid, heartbeat, counters), the ring via the pipeline, the program's source, and
 * an orderly exit on SIGTERM/SIGINT that leaves the ring for its readers. */
#include "ingest/app.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "common/log.h"
#include "common/text.h"

#define HEARTBEAT_MS 500

struct app {
    uv_loop_t *loop;
    struct ingest *ing;
    struct source *src;
    uv_timer_t heartbeat;
    uv_signal_t sigterm, sigint;
    bool stopping;
};

static void usage(FILE *to)
{
    fprintf(to,
            "usage: ringcast-ingest --path NAME [--source URL] [-c FILE] [--ctl-slot N] "
            "[--fps N]\n"
            "  URL: file:PATH (H.264 Annex-B, looped), rtsp://[user:pass@]host[:port]/path, or\n"
            "       publish (RTSP and WHIP publishers handed over by the node's workers; run by\n"
            "       ringcast-ingest-publish, which ringcast-ingest becomes for such a path)\n");
}

static void on_close_handle(uv_handle_t *h)
{
    (void)h;
}

static void on_source_closed(void *arg)
{
    struct app *a = arg;
    uv_close((uv_handle_t *)&a->heartbeat, on_close_handle);
    uv_close((uv_handle_t *)&a->sigterm, on_close_handle);
    uv_close((uv_handle_t *)&a->sigint, on_close_handle);
}

static void on_signal(uv_signal_t *s, int signum)
{
    struct app *a = s->data;
    if (a->stopping)
        return;
    a->stopping = true;
    log_info("%s: stopping", strsignal(signum));
    source_close(a->src, on_source_closed, a);
}

static void on_heartbeat(uv_timer_t *t)
{
    struct app *a = t->data;
    ingest_tick(a->ing);
}

/* The most payload bytes a ring grows to: ring_mb MiB rounded up to a power of two, as the ring
 * requires. */
static uint64_t ring_bytes(unsigned mb)
{
    uint64_t want = (uint64_t)mb << 20, b = 1u << 20;
    while (b < want)
        b <<= 1;
    return b;
}

static int run(const struct ingest_app *app, ingest_app_source_fn source_for,
               struct ctl_child *slot, struct ctl_hdr *ctl)
{
    const struct config *cfg = &app->cfg;
    const struct config_path *path = &app->path;
    struct app a = {.loop = uv_default_loop()};
    char ring_name[128], err[256];
    snprintf(ring_name, sizeof(ring_name), "%s.%s", cfg->shm_prefix, path->name);
    struct ingest_opts o = {.path = path->name,
                            .ring_name = ring_name,
                            .mtu = cfg->mtu,
                            .ring_bytes = ring_bytes(cfg->ring_mb),
                            .ring_seconds = cfg->ring_seconds,
                            .slot = slot,
                            .ctl_doorbell = ctl ? &ctl->doorbell : NULL};
    int e = ingest_open(&a.ing, &o, err, sizeof(err));
    if (e < 0) {
        log_error("ring /%s: %s", ring_name, err);
        return 1;
    }
    /* The source string may hold RTSP credentials: name only the scheme in errors. */
    const char *what = strncmp(path->source, "file:", 5) == 0     ? path->source
                       : strncmp(path->source, "rtsp://", 7) == 0 ? "rtsp source"
                       : config_path_is_publish(path)             ? "publish source"
                                                      : "source (file:, rtsp:// or publish)";
    e = source_for(app, a.loop, a.ing, ctl, &a.src);
    if (e == 0)
        e = source_start(a.src);
    if (e < 0) {
        log_error("%s: %s", what, strerror(-e));
        if (a.src)
            source_close(a.src, NULL, NULL);
        (void)uv_run(a.loop, UV_RUN_DEFAULT);
        ingest_discard(a.ing);
        return 1;
    }
    (void)uv_timer_init(a.loop, &a.heartbeat);
    a.heartbeat.data = &a;
    (void)uv_timer_start(&a.heartbeat, on_heartbeat, 0, HEARTBEAT_MS);
    (void)uv_signal_init(a.loop, &a.sigterm);
    (void)uv_signal_init(a.loop, &a.sigint);
    a.sigterm.data = a.sigint.data = &a;
    if ((e = uv_signal_start(&a.sigterm, on_signal, SIGTERM)) < 0 ||
        (e = uv_signal_start(&a.sigint, on_signal, SIGINT)) < 0)
        log_warn("signal handlers: %s (SIGTERM kills without closing the ring)", uv_strerror(e));
    if (slot)
        atomic_store(&slot->pid, (int32_t)getpid());
    (void)uv_run(a.loop, UV_RUN_DEFAULT);
    log_info("%llu frames written, %llu dropped", (unsigned long long)ingest_frames_written(a.ing),
             (unsigned long long)ingest_frames_dropped(a.ing));
    ingest_close(a.ing); /* not unlinked: readers keep the ring, the supervisor removes it */
    (void)uv_loop_close(a.loop);
    return 0;
}

bool ingest_app_setup(struct ingest_app *a, int argc, char **argv, int *status)
{
    static const struct option opts[] = {
        {"path", required_argument, NULL, 'p'},     {"source", required_argument, NULL, 's'},
        {"ctl-slot", required_argument, NULL, 'n'}, {"fps", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    const char *name = NULL, *source = NULL;
    unsigned long fps = 0;
    int c;
    *status = 2;
    a->cfg_file = NULL;
    a->supervised = false;
    a->slot_no = 0;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'p':
            name = optarg;
            break;
        case 's':
            source = optarg;
            break;
        case 'c':
            a->cfg_file = optarg;
            break;
        case 'n':
            if (text_parse_uint(optarg, 0, CTL_MAX_CHILDREN - 1, &a->slot_no) < 0) {
                fprintf(stderr, "ringcast-ingest: bad --ctl-slot %s\n", optarg);
                return false;
            }
            a->supervised = true;
            break;
        case 'f':
            if (text_parse_uint(optarg, 1, 240, &fps) < 0) {
                fprintf(stderr, "ringcast-ingest: bad --fps %s (1..240)\n", optarg);
                return false;
            }
            break;
        case 'h':
            usage(stdout);
            *status = 0;
            return false;
        default:
            usage(stderr);
            return false;
        }
    }
    if (!name || optind < argc) {
        usage(stderr);
        return false;
    }
    char role[96];
    snprintf(role, sizeof(role), "ingest %s", name);
    log_init(role);
    signal(SIGPIPE, SIG_IGN); /* a dropped RTSP connection is an error return, not a signal */
    /* Its config is read at start and the supervisor restarts it when its path changes, so
     * there is nothing to reload; a SIGHUP meant for the others (`pkill -HUP ringcast`, a
     * closed terminal) must not end it. */
    signal(SIGHUP, SIG_IGN);

    char err[512];
    config_defaults(&a->cfg);
    if (a->cfg_file && config_load(&a->cfg, a->cfg_file, err, sizeof(err)) < 0) {
        log_error("%s", err);
        *status = 1;
        return false;
    }
    log_set_level(a->cfg.log_level);
    const struct config_path *found = config_find_path(&a->cfg, name);
    bool configured = found != NULL;
    a->path = found ? *found : (struct config_path){0};
    /* Only its own [path] matters here: the table of a config with hundreds goes. */
    config_free(&a->cfg);
    if (!configured && !config_path_name_valid(name)) {
        log_error("ingest: bad path name '%s' (letters, digits, _ and -)", name);
        return false;
    }
    snprintf(a->path.name, sizeof(a->path.name), "%s", name);
    if (source)
        snprintf(a->path.source, sizeof(a->path.source), "%s", source);
    if (fps)
        a->path.fps = fps;
    if (!a->path.source[0]) {
        log_error("no source (no [path %s] in %s and no --source)", name,
                  a->cfg_file ? a->cfg_file : "the defaults");
        return false;
    }
    return true;
}

int ingest_app_run(struct ingest_app *a, ingest_app_source_fn source_for)
{
    struct ctl ctl;
    int e = a->supervised ? ctl_attach(&ctl, a->cfg.shm_prefix) : ctl_init_private(&ctl);
    if (e < 0) {
        log_error("control segment /%s.ctl: %s", a->cfg.shm_prefix, strerror(-e));
        return 1;
    }
    struct ctl_child *slot = ctl_slot(&ctl, a->slot_no);
    int rc = run(a, source_for, slot, a->supervised ? ctl.hdr : NULL);
    ctl_free(&ctl);
    return rc;
}
