/* SPDX-License-Identifier: MIT */
/* main.c: ringcast-egress, one egress worker process: parses the command line, loads the
 * config and runs the worker's loop until SIGINT/SIGTERM.
 *   ringcast-egress --index I [-c FILE] [--ctl-slot N] [--handover PID]
 * --handover: the supervisor replaces worker PID of the same index (egress/adopt.h). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "common/config.h"
#include "common/fdlimit.h"
#include "common/log.h"
#include "common/text.h"
#include "egress/worker.h"

static void usage(void)
{
    fprintf(stderr, "usage: ringcast-egress --index I [-c FILE] [--ctl-slot N] [--handover PID]\n");
}

int main(int argc, char **argv)
{
    const char *file = NULL;
    unsigned long index = 0, slot = 0, predecessor = 0;
    int have_slot = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        if ((strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) && next) {
            file = argv[++i];
        } else if (strcmp(a, "--index") == 0 && next && text_parse_uint(next, 0, 63, &index) == 0) {
            i++;
        } else if (strcmp(a, "--ctl-slot") == 0 && next &&
                   text_parse_uint(next, 0, CTL_MAX_CHILDREN - 1, &slot) == 0) {
            have_slot = 1;
            i++;
        } else if (strcmp(a, "--handover") == 0 && next &&
                   text_parse_uint(next, 1, INT32_MAX, &predecessor) == 0) {
            i++;
        } else {
            usage();
            return 2;
        }
    }
    char role[32];
    snprintf(role, sizeof(role), "egress %lu", index);
    log_init(role);

    static struct config cfg;
    char err[512];
    if (file) {
        if (config_load(&cfg, file, err, sizeof(err)) < 0) {
            log_error("%s", err);
            return 1;
        }
    } else {
        config_defaults(&cfg);
    }
    log_set_level(cfg.log_level);
    if (index >= cfg.workers && have_slot) {
        log_error("--index %lu but the config has %u worker(s)", index, cfg.workers);
        return 1;
    }
    /* Standalone, this raises the limit; under the supervisor it inherited the raised one. */
    (void)fdlimit_raise(worker_fd_need(&cfg), "a worker's connection caps (HTTP, ICE-TCP, RTSP)");
    /* The SIGPIPE default would kill us on a peer that closes an HTTP connection mid-write. */
    signal(SIGPIPE, SIG_IGN);

    uv_loop_t *loop = uv_default_loop();
    static struct worker w;
    int rc = worker_init(&w, loop, &cfg, (unsigned)index, have_slot ? (int)slot : -1,
                         (int32_t)predecessor, err, sizeof(err));
    if (rc < 0) {
        log_error("%s", err);
        worker_shutdown(&w);
        (void)uv_run(loop, UV_RUN_DEFAULT);
        worker_free(&w);
        return 1;
    }
    (void)uv_run(loop, UV_RUN_DEFAULT);
    worker_free(&w);
    (void)uv_loop_close(loop);
    log_info("stopped");
    return 0;
}
