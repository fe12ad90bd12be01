/* SPDX-License-Identifier: MIT */
/* ondemand.c: source_on_demand paths from a worker's side: demand published in the ingest's
 * control slot (each offer, each held offer every ONDEMAND_POLL_MS, each path with sessions
 * every worker tick), and offers held until the ingest the supervisor started for them has
 * put a keyframe in the ring, then answered by whep_offer, or refused at the deadline. */
#include "egress/ondemand.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "egress/whep.h"
#include "egress/worker.h"

#define NS_PER_S 1000000000ull

enum ondemand_verdict ondemand_judge(const struct ondemand_source *src, uint64_t now_ns,
                                     uint64_t deadline_ns)
{
    bool running = src->state == CTL_STATE_RUNNING || src->state == CTL_STATE_STARTING;
    if (running && src->pid > 0 && src->key_arrival_ns && src->key_arrival_ns >= src->start_ns)
        return ONDEMAND_LIVE;
    return now_ns >= deadline_ns ? ONDEMAND_LATE : ONDEMAND_WAIT;
}

/* The path's ingest slot with our demand stored in it; NULL when the supervisor has none. */
static struct ctl_child *ondemand_bump(struct worker *w, const char *path, uint64_t now)
{
    struct ctl_child *s = ctl_find_ingest(w->ctl.hdr, path);
    if (s)
        ctl_demand_bump(s, now);
    return s;
}

static enum ondemand_verdict ondemand_look(struct worker *w, const char *path, uint64_t now,
                                           uint64_t deadline)
{
    struct ondemand_source src = {0};
    struct ctl_child *s = ondemand_bump(w, path, now);
    if (s) {
        src.state = atomic_load_explicit(&s->state, memory_order_acquire);
        src.pid = atomic_load_explicit(&s->pid, memory_order_relaxed);
        src.start_ns = atomic_load_explicit(&s->start_ns, memory_order_relaxed);
        if (media_path_key_arrival(w->media, path, &src.key_arrival_ns) < 0)
            src.key_arrival_ns = 0;
    }
    return ondemand_judge(&src, now, deadline);
}

static void ondemand_release(struct ondemand *od, struct ondemand_pending *p)
{
    free(p->body);
    memset(p, 0, sizeof(*p));
    od->n_pending--;
}

/* Answers a held offer: the session (or whep_offer's refusal), or 503 past the deadline. A
 * client that has left gets nothing, and creates no session. */
static void ondemand_answer(struct worker *w, struct ondemand_pending *p,
                            const struct config_path *cp, enum ondemand_verdict v)
{
    struct httpd_response res = {0};
    if (!httpd_is_deferred(&w->http, p->req.token)) {
        log_info("whep %s: %s left before the source started", p->path, p->req.remote);
        return;
    }
    if (!cp) {
        log_info("whep %s: POST from %s: 404: path removed while it waited", p->path,
                 p->req.remote);
        httpd_set_text(&res, 404, "unknown path (removed from the config)\n");
    } else if (v == ONDEMAND_LIVE) {
        whep_offer(w, &p->req, cp, &res);
    } else {
        log_info("whep %s: POST from %s: 503: the source delivered no keyframe within %u s",
                 cp->name, p->req.remote, cp->on_demand_start_timeout);
        httpd_add_header(&res, "Retry-After", "%u", cp->on_demand_start_timeout);
        httpd_set_text(&res, 503,
                       "the on-demand source delivered no keyframe within "
                       "on_demand_start_timeout (camera down or unreachable?)\n");
    }
    (void)httpd_complete(&w->http, p->req.token, &res); /* gone meanwhile: nothing to do */
    free(res.owned);
}

static void ondemand_poll(uv_timer_t *t)
{
    struct worker *w = t->data;
    struct ondemand *od = &w->od;
    uint64_t now = ctl_now_ns();
    for (unsigned i = 0; i < ONDEMAND_PENDING_MAX && od->n_pending; i++) {
        struct ondemand_pending *p = &od->pending[i];
        if (!p->req.token)
            continue;
        const struct config_path *cp = config_find_path(&w->cfg, p->path);
        enum ondemand_verdict v = ONDEMAND_LATE;
        if (cp && httpd_is_deferred(&w->http, p->req.token))
            v = ondemand_look(w, p->path, now, p->deadline_ns);
        if (v == ONDEMAND_WAIT)
            continue;
        ondemand_answer(w, p, cp, v);
        ondemand_release(od, p);
    }
    if (!od->n_pending)
        (void)uv_timer_stop(t);
}

int ondemand_admit(struct worker *w, const struct httpd_request *req, const struct config_path *cp,
                   struct httpd_response *res)
{
    struct ondemand *od = &w->od;
    uint64_t now = ctl_now_ns();
    uint64_t wait_ns = (uint64_t)cp->on_demand_start_timeout * NS_PER_S;
    if (ondemand_look(w, cp->name, now, now + wait_ns) == ONDEMAND_LIVE)
        return 1;
    struct ondemand_pending *p = NULL;
    for (unsigned i = 0; i < ONDEMAND_PENDING_MAX && !p; i++)
        if (!od->pending[i].req.token)
            p = &od->pending[i];
    uint8_t *body = p && req->body_len ? malloc(req->body_len) : NULL;
    if (!p || (req->body_len && !body)) {
        free(body);
        log_info("whep %s: POST from %s: 503: %u offers already wait for sources", cp->name,
                 req->remote, od->n_pending);
        httpd_add_header(res, "Retry-After", "2");
        httpd_set_text(res, 503, "too many offers wait for on-demand sources on this worker\n");
        return 0;
    }
    if (req->body_len)
        memcpy(body, req->body, req->body_len);
    snprintf(p->path, sizeof(p->path), "%s", cp->name);
    p->req = *req;
    p->req.body = p->body = body;
    p->deadline_ns = now + wait_ns;
    if (od->n_pending++ == 0)
        (void)uv_timer_start(&od->timer, ondemand_poll, ONDEMAND_POLL_MS, ONDEMAND_POLL_MS);
    log_info("whep %s: POST from %s waits for the on-demand source (at most %u s)", cp->name,
             req->remote, cp->on_demand_start_timeout);
    res->status = HTTPD_DEFERRED;
    /* The server's own 503 only backs ours up: it comes a second after the deadline. */
    res->defer_ms = (cp->on_demand_start_timeout + 1) * 1000;
    return 0;
}

void ondemand_publish(struct worker *w, uint64_t now_ns)
{
    size_t n = 0;
    if (w->ctl.private_copy)
        return;
    for (size_t i = 0; i < w->cfg.n_paths; i++)
        n += w->cfg.paths[i].on_demand != 0;
    /* Twice a second, not per packet; a failure skips one round (the next one bumps). */
    const struct config_path **od = n ? malloc(n * sizeof(*od)) : NULL;
    bool *seen = n ? calloc(n, sizeof(*seen)) : NULL;
    if (!od || !seen) {
        free(od);
        free(seen);
        return;
    }
    n = 0;
    for (size_t i = 0; i < w->cfg.n_paths; i++)
        if (w->cfg.paths[i].on_demand)
            od[n++] = &w->cfg.paths[i];
    for (uint32_t i = 0; i < w->viewers.cap; i++) {
        const struct viewer *v = &w->viewers.v[i];
        if (v->state == VIEWER_FREE)
            continue;
        for (size_t k = 0; k < n; k++) {
            if (!seen[k] && strcmp(v->path, od[k]->name) == 0) {
                seen[k] = true;
                (void)ondemand_bump(w, od[k]->name, now_ns);
            }
        }
    }
    free(od);
    free(seen);
}

void ondemand_left(struct worker *w, const char *path)
{
    const struct config_path *cp = config_find_path(&w->cfg, path);
    if (cp && cp->on_demand && !w->ctl.private_copy)
        (void)ondemand_bump(w, path, ctl_now_ns());
}

void ondemand_init(struct worker *w)
{
    (void)uv_timer_init(w->loop, &w->od.timer); /* cannot fail for a valid loop */
    w->od.timer.data = w;
}

void ondemand_shutdown(struct worker *w)
{
    struct ondemand *od = &w->od;
    for (unsigned i = 0; i < ONDEMAND_PENDING_MAX && od->n_pending; i++)
        if (od->pending[i].req.token)
            ondemand_release(od, &od->pending[i]);
    uv_close((uv_handle_t *)&od->timer, NULL);
}
