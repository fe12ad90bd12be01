/* SPDX-License-Identifier: MIT */
/* health.h: whether this node takes new viewers, for the load balancer in front of it: the
 * capacity read from the control segment (running workers, their viewers, the drain flag),
 * the GET /v1/health answer (workers) and the HAProxy agent-check line (supervisor). */
#ifndef RINGCAST_SHM_HEALTH_H
#define RINGCAST_SHM_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shm/ctl.h"

struct health_capacity {
    unsigned workers_up;   /* egress workers running */
    unsigned workers_full; /* of those, holding max_viewers_per_worker sessions */
    uint64_t viewers;      /* on the running workers */
    uint64_t capacity;     /* workers_up x max_viewers_per_worker */
    bool draining;         /* ringcastctl drain, or the supervisor is stopping */
};

enum health_state {
    HEALTH_OK = 0,   /* takes viewers */
    HEALTH_FULL,     /* every running worker is full */
    HEALTH_DRAINING, /* refuses new viewers, the current ones keep playing */
    HEALTH_DOWN,     /* no worker running */
};

/* Reads ctl with relaxed loads. Each running worker counts its viewers gauge; self (a worker
 * asking about its own node, or NULL) counts self_viewers instead, its own exact figure
 * (sessions in set-up included, as its offers are refused by that number), and counts as
 * running while it is still starting. */
void health_capacity(const struct ctl_hdr *ctl, unsigned max_viewers_per_worker,
                     const struct ctl_child *self, uint64_t self_viewers,
                     struct health_capacity *out);

enum health_state health_state(const struct health_capacity *c);

/* Spare capacity in percent (0..100), rounded up: a node with one free place says 1 %. */
unsigned health_spare_pct(const struct health_capacity *c);

/* GET /v1/health's body: {"status":"ok|full|draining|down","reason":"one line",...} with a
 * trailing newline. Length written, or -ENOSPC. */
int health_json(char *buf, size_t len, const struct health_capacity *c);

/* The HAProxy agent-check answer, one line: "ready up 60%\n" (the weight from spare capacity;
 * "ready" undoes an earlier drain, HAProxy keeps an agent's state until the agent changes it),
 * "drain\n" while draining, "down#reason\n" with no worker running. Length, or -ENOSPC. */
int health_agent_line(char *buf, size_t len, const struct health_capacity *c);

#endif
