/* SPDX-License-Identifier: MIT */
/* ondemand.h: a worker's side of source_on_demand paths. It publishes its demand for a path
 * (viewers, offers waiting) in the path's ingest slot of the control segment, which the
 * supervisor watches to start and stop the ingest, and holds an offer to a path whose source
 * is not delivering yet (a deferred HTTP answer) until its first keyframe or the deadline. */
#ifndef RINGCAST_EGRESS_ONDEMAND_H
#define RINGCAST_EGRESS_ONDEMAND_H

#include <stdint.h>
#include <uv.h>

#include "common/config.h"
#include "common/httpd.h"
#include "shm/ctl.h"

#define ONDEMAND_PENDING_MAX 64 /* offers one worker holds for starting sources */
#define ONDEMAND_POLL_MS     50 /* how often a held offer looks at its ring */

/* What a held offer does now. */
enum ondemand_verdict {
    ONDEMAND_WAIT = 0, /* the source has not delivered since its ingest started */
    ONDEMAND_LIVE,     /* a keyframe arrived from the running ingest: answer the offer */
    ONDEMAND_LATE,     /* past the deadline: 503 */
};

/* What the verdict is made of: the path's ingest slot as read from the control segment, and
 * the arrival of the ring's latest keyframe (0: none). */
struct ondemand_source {
    uint32_t state;    /* enum ctl_state */
    int32_t pid;       /* 0: no process */
    uint64_t start_ns; /* when the supervisor spawned it */
    uint64_t key_arrival_ns;
};

/* LIVE when the ingest runs and the ring's latest keyframe came from it (arrived after its
 * spawn: a keyframe a stopped instance left behind does not count), else LATE once now has
 * passed deadline_ns, else WAIT. Pure. */
enum ondemand_verdict ondemand_judge(const struct ondemand_source *src, uint64_t now_ns,
                                     uint64_t deadline_ns);

/* An offer held for its source. */
struct ondemand_pending {
    char path[CONFIG_NAME_MAX];
    uint64_t deadline_ns;
    struct httpd_request req; /* a copy: token 0 = free; body points at body */
    uint8_t *body;
};

struct ondemand {
    uv_timer_t timer; /* runs while offers are held */
    unsigned n_pending;
    struct ondemand_pending pending[ONDEMAND_PENDING_MAX];
};

struct worker;

/* Prepares w->od (its timer, closed with the worker's other base handles). */
void ondemand_init(struct worker *w);
/* Drops the held offers (their connections are closed by httpd_server_stop) and closes the
 * timer; run the loop afterwards. */
void ondemand_shutdown(struct worker *w);

/* For whep's POST on path cp (supervised, source_on_demand): publishes the demand and returns
 * 1 when the source delivers, so the offer is answered now; else holds a copy of req and
 * sets res to HTTPD_DEFERRED (or to a 503 when too many are held) and returns 0. */
int ondemand_admit(struct worker *w, const struct httpd_request *req, const struct config_path *cp,
                   struct httpd_response *res);

/* The worker's tick: publishes the demand of every on-demand path with a session here. */
void ondemand_publish(struct worker *w, uint64_t now_ns);
/* A session of path ended: its demand lasts until now, so that the ingest stops
 * on_demand_close_after from here, not from the last tick. */
void ondemand_left(struct worker *w, const char *path);

#endif
