/* SPDX-License-Identifier: MIT */
/* app.h: what ringcast-ingest (file: and rtsp:// sources) and ringcast-ingest-publish (publish
 * paths: RTSP ANNOUNCE/RECORD and WHIP) share: options, config, the control slot, the ring and
 * the run loop with its orderly exit. Each program passes its own sources, so that the first
 * links neither rtc/ nor OpenSSL. */
#ifndef RINGCAST_INGEST_APP_H
#define RINGCAST_INGEST_APP_H

#include <stdbool.h>
#include <uv.h>

#include "common/config.h"
#include "ingest/ingest.h"
#include "ingest/source.h"
#include "shm/ctl.h"

/* One ingest process's settings: the server keys and its own path (the rest of the config's
 * path table is freed). */
struct ingest_app {
    struct config cfg;
    struct config_path path;
    const char *cfg_file; /* -c, or NULL */
    bool supervised;      /* --ctl-slot given */
    unsigned long slot_no;
};

/* The source for path p, created on loop for ing. ctl: the supervisor's control segment, NULL
 * when standalone. 0 or -errno (-EPROTONOSUPPORT: not a source of this program). */
typedef int (*ingest_app_source_fn)(const struct ingest_app *a, uv_loop_t *loop, struct ingest *ing,
                                    const struct ctl_hdr *ctl, struct source **out);

/* Parses argv and reads the config into a (a large struct: keep it static). true when the
 * ingest is to run; false when the process is to exit with *status (usage, bad options or
 * config: already reported). */
bool ingest_app_setup(struct ingest_app *a, int argc, char **argv, int *status);

/* Attaches the control slot, opens the ring, runs the source until SIGTERM/SIGINT; the exit
 * status. */
int ingest_app_run(struct ingest_app *a, ingest_app_source_fn source_for);

#endif
