/* SPDX-License-Identifier: MIT */
/* health.c: the node's capacity for new viewers from the control segment, and the two ways a
 * load balancer asks for it: GET /v1/health (a status code and a JSON line) and HAProxy's
 * agent-check (a weight and an administrative state). */
#include "shm/health.h"

#include <inttypes.h>
#include <stdio.h>

#include "common/sbuf.h"

void health_capacity(const struct ctl_hdr *ctl, unsigned max_viewers_per_worker,
                     const struct ctl_child *self, uint64_t self_viewers,
                     struct health_capacity *out)
{
    *out = (struct health_capacity){.draining = atomic_load(&ctl->draining) != 0};
    for (unsigned i = 0; i < CTL_MAX_CHILDREN; i++) {
        const struct ctl_child *s = &ctl->children[i];
        uint32_t st = atomic_load_explicit(&s->state, memory_order_relaxed);
        if (s->role != CTL_ROLE_EGRESS || st == CTL_STATE_EMPTY ||
            (s != self && st != CTL_STATE_RUNNING))
            continue;
        uint64_t v = s == self ? self_viewers
                               : atomic_load_explicit(&s->counters.viewers, memory_order_relaxed);
        out->workers_up++;
        out->viewers += v;
        out->workers_full += v >= max_viewers_per_worker;
    }
    out->capacity = (uint64_t)out->workers_up * max_viewers_per_worker;
}

enum health_state health_state(const struct health_capacity *c)
{
    if (c->draining)
        return HEALTH_DRAINING;
    if (c->workers_up == 0)
        return HEALTH_DOWN;
    return c->workers_full == c->workers_up ? HEALTH_FULL : HEALTH_OK;
}

unsigned health_spare_pct(const struct health_capacity *c)
{
    if (c->viewers >= c->capacity)
        return 0;
    uint64_t spare = c->capacity - c->viewers;
    return (unsigned)((spare * 100 + c->capacity - 1) / c->capacity);
}

int health_json(char *buf, size_t len, const struct health_capacity *c)
{
    static const char *const names[] = {"ok", "full", "draining", "down"};
    enum health_state st = health_state(c);
    char reason[128];
    switch (st) {
    case HEALTH_OK:
        snprintf(reason, sizeof(reason), "taking viewers: %" PRIu64 " of %" PRIu64, c->viewers,
                 c->capacity);
        break;
    case HEALTH_FULL:
        snprintf(reason, sizeof(reason), "full: every worker holds max_viewers_per_worker");
        break;
    case HEALTH_DRAINING:
        snprintf(reason, sizeof(reason),
                 "draining: current viewers keep playing, new ones are "
                 "refused");
        break;
    case HEALTH_DOWN:
        snprintf(reason, sizeof(reason), "no egress worker running");
        break;
    }
    struct sbuf b;
    sbuf_init(&b, buf, len);
    sbuf_printf(&b,
                "{\"status\":\"%s\",\"reason\":\"%s\",\"viewers\":%" PRIu64 ",\"capacity\":%" PRIu64
                ",\"workers\":%u,\"workers_full\":%u}\n",
                names[st], reason, c->viewers, c->capacity, c->workers_up, c->workers_full);
    return sbuf_result(&b);
}

int health_agent_line(char *buf, size_t len, const struct health_capacity *c)
{
    struct sbuf b;
    sbuf_init(&b, buf, len);
    switch (health_state(c)) {
    case HEALTH_DRAINING:
        sbuf_printf(&b, "drain\n");
        break;
    case HEALTH_DOWN:
        sbuf_printf(&b, "down#no egress worker running\n");
        break;
    case HEALTH_OK:
    case HEALTH_FULL: /* 0 %: weight 0, which HAProxy treats as drained until room returns */
        sbuf_printf(&b, "ready up %u%%\n", health_spare_pct(c));
        break;
    }
    return sbuf_result(&b);
}
