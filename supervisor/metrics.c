/* metrics.c: the /metrics endpoint. Families are written whole (all children's samples
 * under one # TYPE line), as the exposition format requires. */
#include "supervisor/metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/sbuf.h"

#define METRICS_BUF (512u * 1024u) /* 128 children x 17 families fit with room to spare */

static int is_tchar(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* End of the head: the byte after "\r\n\r\n" (or a bare "\n\n"), or 0. */
static size_t head_end(const uint8_t *p, size_t len)
{
    for (size_t i = 1; i < len; i++) {
        if (p[i] != '\n')
            continue;
        if (p[i - 1] == '\n')
            return i + 1;
        if (i >= 3 && p[i - 1] == '\r' && p[i - 2] == '\n' && p[i - 3] == '\r')
            return i + 1;
    }
    return 0;
}

int metrics_http_parse(const uint8_t *p, size_t len, struct metrics_req *out)
{
    size_t end = head_end(p, len);
    if (!end)
        return len >= ONESHOT_MAX_REQUEST ? -E2BIG : 0;

    /* Request line (RFC 9112 3): method SP request-target SP HTTP-version CRLF. */
    size_t i = 0;
    while (i < end && is_tchar(p[i]))
        i++;
    if (i == 0 || i >= end || p[i] != ' ')
        return -EBADMSG;
    out->get = (i == 3 && memcmp(p, "GET", 3) == 0) || (i == 4 && memcmp(p, "HEAD", 4) == 0);
    out->head = i == 4 && memcmp(p, "HEAD", 4) == 0;
    size_t t = ++i;
    while (i < end && p[i] > ' ' && p[i] < 0x7f)
        i++;
    size_t tlen = i - t;
    if (tlen == 0 || i >= end || p[i] != ' ')
        return -EBADMSG;
    const uint8_t *q = memchr(p + t, '?', tlen);
    if (q)
        tlen = (size_t)(q - (p + t));
    if (tlen >= sizeof(out->target))
        return -EBADMSG;
    memcpy(out->target, p + t, tlen);
    out->target[tlen] = '\0';
    i++;
    if (end - i < 10 || memcmp(p + i, "HTTP/1.", 7) != 0 || p[i + 7] < '0' || p[i + 7] > '9')
        return -EBADMSG;
    i += 8;
    if (p[i] == '\r')
        i++;
    if (p[i] != '\n')
        return -EBADMSG;
    return (int)end;
}

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

/* Builds the whole HTTP response: status line, headers, and the body unless HEAD. */
static int http_response(char **out, size_t *outlen, int code, const char *reason, const char *body,
                         size_t body_len, bool head)
{
    size_t cap = body_len + 256;
    char *r = malloc(cap);
    if (!r)
        return -ENOMEM;
    int n = snprintf(r, cap,
                     "HTTP/1.1 %d %s\r\nContent-Type: text/plain; version=0.0.4; "
                     "charset=utf-8\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                     code, reason, body_len);
    if (!head)
        memcpy(r + n, body, body_len);
    *out = r;
    *outlen = (size_t)n + (head ? 0 : body_len);
    return 1;
}

static int metrics_respond(void *arg, const uint8_t *req, size_t len, char **out, size_t *outlen)
{
    struct metrics_server *m = arg;
    struct metrics_req r;
    int rc = metrics_http_parse(req, len, &r);
    if (rc == 0)
        return 0;
    if (rc < 0) {
        static const char msg[] = "bad request\n";
        return http_response(out, outlen, 400, "Bad Request", msg, sizeof(msg) - 1, false);
    }
    if (!r.get) {
        static const char msg[] = "only GET and HEAD\n";
        return http_response(out, outlen, 405, "Method Not Allowed", msg, sizeof(msg) - 1, false);
    }
    if (strcmp(r.target, "/metrics") != 0) {
        static const char msg[] = "not found: try /metrics\n";
        return http_response(out, outlen, 404, "Not Found", msg, sizeof(msg) - 1, r.head);
    }
    char *body = malloc(METRICS_BUF);
    if (!body)
        return -ENOMEM;
    int n = metrics_text(body, METRICS_BUF, m->ctl);
    if (n < 0)
        rc = http_response(out, outlen, 500, "Internal Server Error", "", 0, r.head);
    else
        rc = http_response(out, outlen, 200, "OK", body, (size_t)n, r.head);
    free(body);
    return rc;
}

int metrics_listen(struct metrics_server *m, uv_loop_t *loop, const struct ctl_hdr *ctl,
                   const char *host, uint16_t port)
{
    memset(m, 0, sizeof(*m));
    m->ctl = ctl;
    m->srv.name = "metrics";
    m->srv.respond = metrics_respond;
    m->srv.arg = m;
    return oneshot_listen_tcp(&m->srv, loop, host, port);
}

void metrics_close(struct metrics_server *m)
{
    oneshot_close(&m->srv, NULL);
}
