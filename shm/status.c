/* SPDX-License-Identifier: MIT */
/* status.c: the status/paths/workers reports built from the control segment and the
 * config alone (JSON and text tables); shared by the supervisor's control socket and the
 * workers' GET /v1/status. Sources appear as config_load redacted them: no credentials. */
#include "shm/status.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/sbuf.h"

static const uint64_t NS_PER_S = 1000000000, NS_PER_MS = 1000000;

static const struct ctl_child *find_ingest(const struct ctl_hdr *ctl, const char *path)
{
    return ctl_find_ingest((struct ctl_hdr *)ctl, path); /* only read here */
}

static const struct ctl_child *find_worker(const struct ctl_hdr *ctl, unsigned index)
{
    for (unsigned i = 0; i < CTL_MAX_CHILDREN; i++) {
        const struct ctl_child *s = &ctl->children[i];
        if (atomic_load(&s->state) != CTL_STATE_EMPTY && s->role == CTL_ROLE_EGRESS &&
            s->index == index)
            return s;
    }
    return NULL;
}

/* Workers to list: the configured ones, and any still stopping past that count. */
static unsigned worker_span(const struct ctl_hdr *ctl, const struct config *cfg)
{
    unsigned n = cfg->workers;
    for (unsigned i = 0; i < CTL_MAX_CHILDREN; i++) {
        const struct ctl_child *s = &ctl->children[i];
        if (atomic_load(&s->state) != CTL_STATE_EMPTY && s->role == CTL_ROLE_EGRESS &&
            s->index >= n && s->index < CTL_MAX_CHILDREN)
            n = s->index + 1;
    }
    return n;
}

static uint64_t uptime_s(const struct ctl_child *s, uint64_t now)
{
    uint32_t st = atomic_load(&s->state);
    uint64_t start = atomic_load(&s->start_ns);
    if ((st != CTL_STATE_RUNNING && st != CTL_STATE_STARTING) || !start || start > now)
        return 0;
    return (now - start) / NS_PER_S;
}

static void json_child(struct sbuf *b, const struct ctl_child *s, uint64_t now)
{
    if (!s) {
        sbuf_printf(b, "\"state\":\"absent\",\"pid\":0,\"restarts\":0");
        return;
    }
    uint64_t hb = atomic_load(&s->heartbeat_ns);
    sbuf_printf(
        b, "\"state\":\"%s\",\"pid\":%d,\"restarts\":%u,\"last_exit\":%d,\"uptime_s\":%" PRIu64,
        ctl_state_name(atomic_load(&s->state)), (int)atomic_load(&s->pid),
        (unsigned)atomic_load(&s->restarts), (int)atomic_load(&s->last_exit), uptime_s(s, now));
    if (hb && hb <= now)
        sbuf_printf(b, ",\"heartbeat_age_ms\":%" PRIu64, (now - hb) / NS_PER_MS);
    else
        sbuf_printf(b, ",\"heartbeat_age_ms\":null");
    for (size_t i = 0; i < ctl_counter_count; i++) {
        const struct ctl_counter_info *ci = &ctl_counter_info[i];
        if (ci->roles & (1u << s->role))
            sbuf_printf(b, ",\"%s\":%" PRIu64, ci->name, ctl_counter_get(&s->counters, ci));
    }
}

/* The live publisher of a publish path's running ingest into out; false if there is none. */
static bool live_publisher(const struct ctl_child *s, struct ctl_publisher *out)
{
    if (!s || atomic_load(&s->state) != CTL_STATE_RUNNING || atomic_load(&s->pid) == 0)
        return false;
    ctl_pub_read(&s->publisher, out);
    return atomic_load(&out->proto) != CTL_PUB_NONE;
}

/* "publisher": null, or the one that publishes: protocol, address, since (UTC) and for how
 * long, what it sent and lost, the NACKs it got. */
static void json_publisher(struct sbuf *b, const struct ctl_child *s, uint64_t now)
{
    struct ctl_publisher p;
    if (!live_publisher(s, &p)) {
        sbuf_printf(b, ",\"publisher\":null");
        return;
    }
    uint64_t since = atomic_load(&p.since_ns), age = since && since <= now ? now - since : 0;
    time_t start = time(NULL) - (time_t)(age / NS_PER_S);
    struct tm tm;
    char when[32] = "";
    if (gmtime_r(&start, &tm))
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    sbuf_printf(b, ",\"publisher\":{\"protocol\":\"%s\",\"address\":\"",
                ctl_pub_proto_name(atomic_load(&p.proto)));
    sbuf_json_str(b, p.addr);
    sbuf_printf(b,
                "\",\"since\":\"%s\",\"publishing_s\":%" PRIu64 ",\"bytes\":%" PRIu64
                ",\"bitrate\":%" PRIu64 ",\"packets_lost\":%" PRIu64 ",\"nacks_sent\":%" PRIu64 "}",
                when, age / NS_PER_S, atomic_load(&p.bytes), atomic_load(&p.bitrate),
                atomic_load(&p.packets_lost), atomic_load(&p.nacks));
}

static void json_paths(struct sbuf *b, const struct ctl_hdr *ctl, const struct config *cfg,
                       uint64_t now)
{
    sbuf_printf(b, "\"paths\":[");
    for (size_t i = 0; i < cfg->n_paths; i++) {
        const struct config_path *p = &cfg->paths[i];
        sbuf_printf(b, "%s{\"name\":\"", i ? "," : "");
        sbuf_json_str(b, p->name);
        sbuf_printf(b, "\",\"source\":\"");
        sbuf_json_str(b, p->source_redacted);
        sbuf_printf(b, "\",");
        const struct ctl_child *s = find_ingest(ctl, p->name);
        json_child(b, s, now);
        if (config_path_is_publish(p))
            json_publisher(b, s, now);
        sbuf_printf(b, "}");
    }
    sbuf_printf(b, "]");
}

static void json_workers(struct sbuf *b, const struct ctl_hdr *ctl, const struct config *cfg,
                         uint64_t now)
{
    sbuf_printf(b, "\"workers\":[");
    unsigned n = worker_span(ctl, cfg);
    for (unsigned i = 0; i < n; i++) {
        sbuf_printf(b, "%s{\"index\":%u,\"udp_port\":%u,", i ? "," : "", i,
                    (unsigned)cfg->udp_port_base + i);
        json_child(b, find_worker(ctl, i), now);
        sbuf_printf(b, "}");
    }
    sbuf_printf(b, "]");
}

static void json_totals(struct sbuf *b, const struct ctl_hdr *ctl)
{
    sbuf_printf(b, "\"totals\":{");
    for (size_t i = 0; i < ctl_counter_count; i++) {
        const struct ctl_counter_info *ci = &ctl_counter_info[i];
        uint64_t sum = 0;
        for (unsigned k = 0; k < CTL_MAX_CHILDREN; k++)
            if (atomic_load(&ctl->children[k].state) != CTL_STATE_EMPTY)
                sum += ctl_counter_get(&ctl->children[k].counters, ci);
        sbuf_printf(b, "%s\"%s\":%" PRIu64, i ? "," : "", ci->name, sum);
    }
    sbuf_printf(b, "}");
}

int status_json(char *buf, size_t len, const struct ctl_hdr *ctl, const struct config *cfg,
                enum status_view view)
{
    struct sbuf b;
    uint64_t now = ctl_now_ns();
    sbuf_init(&b, buf, len);
    sbuf_printf(&b, "{");
    if (view == STATUS_VIEW_STATUS) {
        uint64_t start = atomic_load(&ctl->start_ns);
        sbuf_printf(&b,
                    "\"supervisor_pid\":%d,\"uptime_s\":%" PRIu64 ",\"draining\":%s,\"config\":\"",
                    (int)atomic_load(&ctl->supervisor_pid),
                    start && start <= now ? (now - start) / NS_PER_S : 0,
                    atomic_load(&ctl->draining) ? "true" : "false");
        sbuf_json_str(&b, cfg->file);
        sbuf_printf(&b, "\",\"shm_prefix\":\"%s\",\"http_port\":%u,\"workers_configured\":%u,",
                    cfg->shm_prefix, (unsigned)cfg->http_port, cfg->workers);
        json_totals(&b, ctl);
        sbuf_printf(&b, ",");
    }
    if (view != STATUS_VIEW_WORKERS)
        json_paths(&b, ctl, cfg, now);
    if (view == STATUS_VIEW_STATUS)
        sbuf_printf(&b, ",");
    if (view != STATUS_VIEW_PATHS)
        json_workers(&b, ctl, cfg, now);
    sbuf_printf(&b, "}\n");
    return sbuf_result(&b);
}

/* One table row's common columns: state, pid, restarts, uptime, heartbeat age. */
static void text_child(struct sbuf *b, const struct ctl_child *s, uint64_t now)
{
    if (!s) {
        sbuf_printf(b, "%-9s %7s %8s %8s %6s", "absent", "-", "-", "-", "-");
        return;
    }
    uint64_t hb = atomic_load(&s->heartbeat_ns);
    char age[24] = "-";
    if (hb && hb <= now)
        snprintf(age, sizeof(age), "%.1fs", (double)(now - hb) / 1e9);
    sbuf_printf(b, "%-9s %7d %8u %7" PRIu64 "s %6s", ctl_state_name(atomic_load(&s->state)),
                (int)atomic_load(&s->pid), (unsigned)atomic_load(&s->restarts), uptime_s(s, now),
                age);
}

static uint64_t counter(const struct ctl_child *s, const char *name)
{
    if (!s)
        return 0;
    for (size_t i = 0; i < ctl_counter_count; i++)
        if (strcmp(ctl_counter_info[i].name, name) == 0)
            return ctl_counter_get(&s->counters, &ctl_counter_info[i]);
    return 0;
}

static int path_by_name(const void *a, const void *b)
{
    return strcmp((*(const struct config_path *const *)a)->name,
                  (*(const struct config_path *const *)b)->name);
}

/* One row per path, sorted by name, then a summary line: hundreds of cameras stay readable. */
static void text_paths(struct sbuf *b, const struct ctl_hdr *ctl, const struct config *cfg,
                       uint64_t now)
{
    sbuf_printf(b, "%-16s %-9s %7s %8s %8s %6s %10s %10s  %s\n", "PATH", "STATE", "PID", "RESTARTS",
                "UPTIME", "BEAT", "FRAMES", "RECONNECTS", "SOURCE");
    /* Sorted through an index; without memory for one, in the config's order. */
    const struct config_path **order = malloc((cfg->n_paths ? cfg->n_paths : 1) * sizeof(*order));
    for (size_t i = 0; order && i < cfg->n_paths; i++)
        order[i] = &cfg->paths[i];
    if (order)
        qsort(order, cfg->n_paths, sizeof(*order), path_by_name);
    unsigned states[CTL_STATE_IDLE + 2] = {0}; /* the last: absent */
    uint64_t restarts = 0;
    for (size_t i = 0; i < cfg->n_paths; i++) {
        const struct config_path *p = order ? order[i] : &cfg->paths[i];
        const struct ctl_child *s = find_ingest(ctl, p->name);
        uint32_t st = s ? atomic_load(&s->state) : CTL_STATE_IDLE + 1;
        states[st <= CTL_STATE_IDLE ? st : CTL_STATE_IDLE + 1]++;
        restarts += s ? atomic_load(&s->restarts) : 0;
        sbuf_printf(b, "%-16s ", p->name);
        text_child(b, s, now);
        sbuf_printf(b, " %10" PRIu64 " %10" PRIu64 "  %s\n", counter(s, "frames_written"),
                    counter(s, "source_reconnects"), p->source_redacted);
        struct ctl_publisher pub;
        if (config_path_is_publish(p) && live_publisher(s, &pub)) {
            uint64_t since = atomic_load(&pub.since_ns);
            sbuf_printf(b,
                        "  publisher %s %s for %" PRIu64 "s: %" PRIu64 " bytes, %" PRIu64
                        " kbit/s, %" PRIu64 " lost, %" PRIu64 " NACKs\n",
                        ctl_pub_proto_name(atomic_load(&pub.proto)), pub.addr,
                        since && since <= now ? (now - since) / NS_PER_S : 0,
                        atomic_load(&pub.bytes), atomic_load(&pub.bitrate) / 1000,
                        atomic_load(&pub.packets_lost), atomic_load(&pub.nacks));
        }
    }
    free(order);
    sbuf_printf(b, "%zu path(s):", cfg->n_paths);
    const char *sep = " ";
    for (uint32_t st = CTL_STATE_STARTING; st <= CTL_STATE_IDLE + 1; st++) {
        if (!states[st])
            continue;
        sbuf_printf(b, "%s%u %s", sep, states[st],
                    st <= CTL_STATE_IDLE ? ctl_state_name(st) : "absent");
        sep = ", ";
    }
    sbuf_printf(b, "%s%" PRIu64 " restart(s)\n", *sep == ',' ? "; " : " ", restarts);
}

static void text_workers(struct sbuf *b, const struct ctl_hdr *ctl, const struct config *cfg,
                         uint64_t now)
{
    sbuf_printf(b, "%-6s %-9s %7s %8s %8s %6s %8s %9s %12s %8s %8s %8s %8s\n", "WORKER", "STATE",
                "PID", "RESTARTS", "UPTIME", "BEAT", "VIEWERS", "SESSIONS", "PACKETS", "NACKS",
                "RETX", "REFUSED", "DROPS");
    unsigned n = worker_span(ctl, cfg);
    for (unsigned i = 0; i < n; i++) {
        const struct ctl_child *s = find_worker(ctl, i);
        sbuf_printf(b, "%-6u ", i);
        text_child(b, s, now);
        sbuf_printf(b,
                    " %8" PRIu64 " %9" PRIu64 " %12" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64
                    " %8" PRIu64 "\n",
                    counter(s, "viewers"), counter(s, "sessions_total"), counter(s, "pkts_sent"),
                    counter(s, "nacks_received"), counter(s, "retransmits"),
                    counter(s, "nack_refused"), counter(s, "send_drops"));
    }
}

int status_text(char *buf, size_t len, const struct ctl_hdr *ctl, const struct config *cfg,
                enum status_view view)
{
    struct sbuf b;
    uint64_t now = ctl_now_ns();
    sbuf_init(&b, buf, len);
    if (view == STATUS_VIEW_STATUS) {
        uint64_t start = atomic_load(&ctl->start_ns);
        uint64_t viewers = 0;
        for (unsigned k = 0; k < CTL_MAX_CHILDREN; k++)
            if (atomic_load(&ctl->children[k].state) != CTL_STATE_EMPTY)
                viewers += counter(&ctl->children[k], "viewers");
        sbuf_printf(&b,
                    "ringcast: supervisor pid %d, up %" PRIu64 "s, config %s%s\n"
                    "%zu path(s), %u worker(s), %" PRIu64 " viewer(s), HTTP port %u\n\n",
                    (int)atomic_load(&ctl->supervisor_pid),
                    start && start <= now ? (now - start) / NS_PER_S : 0, cfg->file,
                    atomic_load(&ctl->draining)
                        ? "\ndraining: new viewers are refused, current ones keep playing"
                        : "",
                    cfg->n_paths, cfg->workers, viewers, (unsigned)cfg->http_port);
    }
    if (view != STATUS_VIEW_WORKERS)
        text_paths(&b, ctl, cfg, now);
    if (view == STATUS_VIEW_STATUS)
        sbuf_printf(&b, "\n");
    if (view != STATUS_VIEW_PATHS)
        text_workers(&b, ctl, cfg, now);
    return sbuf_result(&b);
}
