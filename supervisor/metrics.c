/* SPDX-License-Identifier: MIT */
/* metrics.c: the /metrics endpoint. Families are written whole (all children's samples
 * under one # TYPE line), as the exposition format requires. */
#include "supervisor/metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/sbuf.h"

#define METRICS_BUF (4096u * 1024u) /* 1024 children x 17 families fit with room to spare */

static bool child_present(const struct ctl_child *s)
{
    return atomic_load(&s->state) != CTL_STATE_EMPTY &&
           (s->role == CTL_ROLE_INGEST || s->role == CTL_ROLE_EGRESS);
}

static void labels(struct sbuf *b, const struct ctl_child *s)
{
    if (s->role == CTL_ROLE_INGEST) {
        char name[sizeof(s->name) + 1];
        snprintf(name, sizeof(name), "%.*s", (int)sizeof(s->name), s->name);
        /* Path names are [A-Za-z0-9_-] (config.c), so they need no label escaping. */
        sbuf_printf(b, "{role=\"ingest\",path=\"%s\"}", name);
    } else {
        sbuf_printf(b, "{role=\"egress\",worker=\"%u\"}", s->index);
    }
}

static void family(struct sbuf *b, const char *name, const char *type, const char *help)
{
    sbuf_printf(b, "# HELP ringcast_%s %s\n# TYPE ringcast_%s %s\n", name, help, name, type);
}

int metrics_text(char *buf, size_t len, const struct ctl_hdr *ctl)
{
    struct sbuf b;
    uint64_t now = ctl_now_ns();
    uint64_t start = atomic_load(&ctl->start_ns);
    sbuf_init(&b, buf, len);

    family(&b, "supervisor_uptime_seconds", "gauge", "Seconds since the supervisor started.");
    sbuf_printf(&b, "ringcast_supervisor_uptime_seconds %.3f\n",
                start && start <= now ? (double)(now - start) / 1e9 : 0.0);

    family(&b, "draining", "gauge",
           "1 while new viewers are refused (ringcastctl drain, shutdown).");
    sbuf_printf(&b, "ringcast_draining %d\n", atomic_load(&ctl->draining) != 0);

    family(&b, "up", "gauge", "1 if the child process is running and heartbeating.");
    for (unsigned k = 0; k < CTL_MAX_CHILDREN; k++) {
        const struct ctl_child *s = &ctl->children[k];
        if (!child_present(s))
            continue;
        sbuf_printf(&b, "ringcast_up");
        labels(&b, s);
        sbuf_printf(&b, " %d\n", atomic_load(&s->state) == CTL_STATE_RUNNING);
    }
    family(&b, "restarts_total", "counter", "Times the child was restarted.");
    for (unsigned k = 0; k < CTL_MAX_CHILDREN; k++) {
        const struct ctl_child *s = &ctl->children[k];
        if (!child_present(s))
            continue;
        sbuf_printf(&b, "ringcast_restarts_total");
        labels(&b, s);
        sbuf_printf(&b, " %u\n", (unsigned)atomic_load(&s->restarts));
    }
    family(&b, "heartbeat_age_seconds", "gauge", "Seconds since the child's last heartbeat.");
    for (unsigned k = 0; k < CTL_MAX_CHILDREN; k++) {
        const struct ctl_child *s = &ctl->children[k];
        uint64_t hb = atomic_load(&s->heartbeat_ns);
        if (!child_present(s) || !hb || hb > now)
            continue;
        sbuf_printf(&b, "ringcast_heartbeat_age_seconds");
        labels(&b, s);
        sbuf_printf(&b, " %.3f\n", (double)(now - hb) / 1e9);
    }

    for (size_t i = 0; i < ctl_counter_count; i++) {
        const struct ctl_counter_info *ci = &ctl_counter_info[i];
        size_t n = strlen(ci->name);
        bool has_total = n > 6 && strcmp(ci->name + n - 6, "_total") == 0;
        char name[64];
        snprintf(name, sizeof(name), "%s%s", ci->name, ci->gauge || has_total ? "" : "_total");
        family(&b, name, ci->gauge ? "gauge" : "counter", ci->help);
        for (unsigned k = 0; k < CTL_MAX_CHILDREN; k++) {
            const struct ctl_child *s = &ctl->children[k];
            if (!child_present(s) || !(ci->roles & (1u << s->role)))
                continue;
            sbuf_printf(&b, "ringcast_%s", name);
            labels(&b, s);
            sbuf_printf(&b, " %" PRIu64 "\n", ctl_counter_get(&s->counters, ci));
        }
    }
    return sbuf_result(&b);
}

/* GET /metrics (HEAD too: the server answers it as GET without the body). */
static void metrics_handle(void *arg, const struct httpd_request *req, struct httpd_response *res)
{
    struct metrics_server *m = arg;
    if (strcmp(req->method, "GET") != 0) {
        httpd_add_header(res, "Allow", "GET, HEAD");
        httpd_set_text(res, 405, "only GET and HEAD\n");
        return;
    }
    if (strcmp(req->path, "/metrics") != 0) {
        httpd_set_text(res, 404, "not found: try /metrics\n");
        return;
    }
    char *body = malloc(METRICS_BUF);
    int n = body ? metrics_text(body, METRICS_BUF, m->ctl) : -ENOMEM;
    if (n < 0) {
        free(body);
        httpd_set_text(res, 500, "metrics unavailable\n");
        return;
    }
    res->status = 200;
    res->content_type = "text/plain; version=0.0.4; charset=utf-8";
    res->body = body;
    res->body_len = (size_t)n;
    res->owned = body;
}

int metrics_listen(struct metrics_server *m, uv_loop_t *loop, const struct ctl_hdr *ctl,
                   const char *host, uint16_t port)
{
    m->ctl = ctl;
    return httpd_server_start_exclusive(&m->srv, loop, host, port, metrics_handle, m);
}

int metrics_open(struct metrics_server *m, uv_loop_t *loop, const struct ctl_hdr *ctl, int fd)
{
    m->ctl = ctl;
    return httpd_server_open(&m->srv, loop, fd, metrics_handle, m);
}

int metrics_fd(const struct metrics_server *m)
{
    uv_os_fd_t fd;
    return m->srv.listening && uv_fileno((const uv_handle_t *)&m->srv.listener, &fd) == 0 ? fd : -1;
}

void metrics_close(struct metrics_server *m)
{
    httpd_server_stop(&m->srv);
}
