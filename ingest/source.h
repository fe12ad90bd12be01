/* SPDX-License-Identifier: MIT */
/* source.h: what a source (file loop, RTSP pull) implements so ingest/main.c can run any
 * of them on its uv loop. A source is created by its own constructor, e.g.
 *   int file_source_create(struct source **out, uv_loop_t *loop, struct ingest *ing,
 *                          const struct config_path *path);
 *   int rtsp_source_create(struct source **out, uv_loop_t *loop, struct ingest *ing,
 *                          const struct config_path *path);
 * and then only driven through these ops. It declares its tracks with ingest_add_track
 * (after ingest_restart on each (re)connect) and feeds ingest_rtp or ingest_au. Runtime
 * failures (unreachable, stall, bad data) are the source's to log and retry with backoff;
 * it never exits the process. */
#ifndef RINGCAST_SOURCE_H
#define RINGCAST_SOURCE_H

#include <uv.h>

#include "common/config.h"
#include "ingest/ingest.h"

struct source;

struct source_ops {
    const char *kind; /* "file", "rtsp": for log lines */
    /* Starts producing on the loop. 0, or -errno for a configuration error that retrying
     * cannot fix (bad URL, unreadable file): the process then exits with that error. */
    int (*start)(struct source *s);
    /* Stops all activity (an RTSP source may send TEARDOWN first, bounded in time), closes
     * its handles, frees itself, then calls done(arg) from the loop. Called once. */
    void (*close)(struct source *s, void (*done)(void *arg), void *arg);
};

/* Every source struct starts with this. */
struct source {
    const struct source_ops *ops;
};

typedef int (*source_create_fn)(struct source **out, uv_loop_t *loop, struct ingest *ing,
                                const struct config_path *path);

static inline int source_start(struct source *s)
{
    return s->ops->start(s);
}

static inline void source_close(struct source *s, void (*done)(void *arg), void *arg)
{
    s->ops->close(s, done, arg);
}

#endif
