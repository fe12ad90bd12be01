/* SPDX-License-Identifier: MIT */
/* test_status.c: the reports built from a control segment and a config: status/paths/
 * workers JSON and tables (credentials never shown, absent children listed, -ENOSPC instead
 * of a truncated document, a publish path's publisher) and the Prometheus text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/rtsp_url.h"
#include "supervisor/metrics.h"
#include "shm/status.h"

static struct config cfg;
static struct ctl ctl;
static char buf[64 * 1024];

static int setup(void **state)
{
    (void)state;
    config_defaults(&cfg);
    snprintf(cfg.file, sizeof(cfg.file), "/etc/ringcast.conf");
    cfg.workers = 2;
    cfg.udp_port_base = 19050;
    cfg.n_paths = cfg.cap_paths = 2;
    cfg.paths = calloc(2, sizeof(*cfg.paths));
    if (!cfg.paths)
        return -1;
    snprintf(cfg.paths[0].name, sizeof(cfg.paths[0].name), "cam");
    snprintf(cfg.paths[0].source, sizeof(cfg.paths[0].source),
             "rtsp://admin:hunter2@10.0.0.5:554/live\"x");
    snprintf(cfg.paths[1].name, sizeof(cfg.paths[1].name), "demo");
    snprintf(cfg.paths[1].source, sizeof(cfg.paths[1].source), "file:/srv/demo.h264");
    for (size_t i = 0; i < cfg.n_paths; i++) /* what config_load does */
        rtsp_url_source_redact(cfg.paths[i].source, cfg.paths[i].source_redacted,
                               sizeof(cfg.paths[i].source_redacted));
    if (ctl_init_private(&ctl) < 0)
        return -1;
    atomic_store(&ctl.hdr->supervisor_pid, 4242);
    atomic_store(&ctl.hdr->start_ns, ctl_now_ns() - 3000000000ull);
    struct ctl_child *s = ctl_slot(&ctl, 0);
    ctl_slot_assign(s, CTL_ROLE_INGEST, 0, "cam");
    atomic_store(&s->state, CTL_STATE_RUNNING);
    atomic_store(&s->pid, 100);
    atomic_store(&s->start_ns, ctl_now_ns());
    ctl_heartbeat(s);
    ctl_count(&s->counters.frames_written, 250);
    s = ctl_slot(&ctl, 7); /* worker 1 only: worker 0 is absent */
    ctl_slot_assign(s, CTL_ROLE_EGRESS, 1, "worker 1");
    atomic_store(&s->state, CTL_STATE_BACKOFF);
    atomic_store(&s->restarts, 2);
    atomic_store(&s->last_exit, -9);
    ctl_count(&s->counters.viewers, 5);
    ctl_count(&s->counters.sessions_total, 6);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ctl_free(&ctl);
    return 0;
}

static void test_json_status(void **state)
{
    (void)state;
    int n = status_json(buf, sizeof(buf), ctl.hdr, &cfg, STATUS_VIEW_STATUS);
    assert_true(n > 0);
    assert_int_equal((size_t)n, strlen(buf));
    assert_non_null(strstr(buf, "\"supervisor_pid\":4242,\"uptime_s\":3,"));
    assert_non_null(strstr(buf, "\"totals\":{\"viewers\":5,\"sessions_total\":6,"));
    assert_non_null(strstr(buf, "\"frames_written\":250"));
    /* Credentials stripped, the quote escaped. */
    assert_null(strstr(buf, "hunter2"));
    assert_non_null(strstr(buf, "\"source\":\"rtsp://10.0.0.5:554/live\\\"x\""));
    assert_non_null(strstr(buf, "{\"name\":\"demo\",\"source\":\"file:/srv/demo.h264\","
                                "\"state\":\"absent\""));
    assert_non_null(strstr(buf, "{\"index\":0,\"udp_port\":19050,\"state\":\"absent\""));
    assert_non_null(strstr(buf, "{\"index\":1,\"udp_port\":19051,\"state\":\"backoff\",\"pid\":0,"
                                "\"restarts\":2,\"last_exit\":-9"));
    assert_string_equal(buf + n - 3, "]}\n");
    /* Ingest objects carry ingest counters only. */
    const char *cam = strstr(buf, "{\"name\":\"cam\"");
    const char *demo = strstr(buf, "{\"name\":\"demo\"");
    assert_true(cam && demo && cam < demo);
    const char *pk = strstr(cam, "pkts_sent");
    assert_true(pk == NULL || pk > demo);
}

/* The ingest takes the userinfo to the last '@' of the authority (a raw '@' or space in a
 * password works there), so the reports must strip exactly that much: GET /v1/status serves
 * them on the viewers' HTTP port. config_load redacts each source once, as here. */
static void test_credentials_with_at_sign(void **state)
{
    (void)state;
    static const char *const sources[] = {"rtsp://admin:p@ss@10.0.0.6/live",
                                          "rtsp://admin:pa ss@10.0.0.6/live"};
    char saved[sizeof(cfg.paths[0].source_redacted)];
    memcpy(saved, cfg.paths[0].source_redacted, sizeof(saved));
    for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++) {
        rtsp_url_source_redact(sources[i], cfg.paths[0].source_redacted,
                               sizeof(cfg.paths[0].source_redacted));
        assert_true(status_json(buf, sizeof(buf), ctl.hdr, &cfg, STATUS_VIEW_PATHS) > 0);
        assert_null(strstr(buf, "ss@"));
        assert_non_null(strstr(buf, "\"source\":\"rtsp://10.0.0.6:554/live\""));
        assert_true(status_text(buf, sizeof(buf), ctl.hdr, &cfg, STATUS_VIEW_PATHS) > 0);
        assert_null(strstr(buf, "ss@"));
        assert_null(strstr(buf, "admin"));
    }
    memcpy(cfg.paths[0].source_redacted, saved, sizeof(saved));
}

static void test_json_views(void **state)
{
    (void)state;
    int n = status_json(buf, sizeof(buf), ctl.hdr, &cfg, STATUS_VIEW_PATHS);
    assert_true(n > 0);
    assert_memory_equal(buf, "{\"paths\":[", 10);
    assert_null(strstr(buf, "workers"));
    n = status_json(buf, sizeof(buf), ctl.hdr, &cfg, STATUS_VIEW_WORKERS);
    assert_true(n > 0);
    assert_memory_equal(buf, "{\"workers\":[", 12);
    assert_null(strstr(buf, "\"paths\""));
}

static void test_too_small(void **state)
{
    (void)state;
    int full = status_json(buf, sizeof(buf), ctl.hdr, &cfg, STATUS_VIEW_STATUS);
    assert_true(full > 0);
    for (size_t len = 0; len <= (size_t)full; len += 37)
        assert_int_equal(status_json(buf, len, ctl.hdr, &cfg, STATUS_VIEW_STATUS), -ENOSPC);
    assert_int_equal(status_json(buf, (size_t)full + 1, ctl.hdr, &cfg, STATUS_VIEW_STATUS), full);
    assert_int_equal(status_text(buf, 10, ctl.hdr, &cfg, STATUS_VIEW_STATUS), -ENOSPC);
}

static void test_text(void **state)
{
    (void)state;
    int n = status_text(buf, sizeof(buf), ctl.hdr, &cfg, STATUS_VIEW_STATUS);
    assert_true(n > 0);
    assert_non_null(strstr(buf, "supervisor pid 4242"));
    assert_non_null(strstr(buf, "2 path(s), 2 worker(s), 5 viewer(s)"));
    assert_non_null(strstr(buf, "PATH "));
    assert_non_null(strstr(buf, "WORKER "));
    assert_non_null(strstr(buf, "rtsp://10.0.0.5:554/live"));
    assert_null(strstr(buf, "hunter2"));
    assert_non_null(strstr(buf, "backoff"));
}

/* ringcastctl paths: rows sorted by name whatever the config's order, and a summary line. */
static void test_paths_sorted(void **state)
{
    (void)state;
    struct config_path first = cfg.paths[0];
    cfg.paths[0] = cfg.paths[1];
    cfg.paths[1] = first; /* the config lists demo, then cam */
    int n = status_text(buf, sizeof(buf), ctl.hdr, &cfg, STATUS_VIEW_PATHS);
    cfg.paths[1] = cfg.paths[0];
    cfg.paths[0] = first;
    assert_true(n > 0);
    const char *cam = strstr(buf, "\ncam "), *demo = strstr(buf, "\ndemo ");
    assert_non_null(cam);
    assert_non_null(demo);
    assert_true(cam < demo);
    assert_non_null(strstr(buf, "\n2 path(s): 1 running, 1 absent; 0 restart(s)\n"));
}

/* A publish path's publisher: null while nobody publishes, else its protocol, address, age,
 * bytes, bit rate (over the interval since the last update), lost packets and NACKs, in JSON
 * and as a second line of the paths table; gone with its ingest's running state. */
static void test_publisher(void **state)
{
    (void)state;
    struct config_path saved = cfg.paths[0];
    snprintf(cfg.paths[0].source, sizeof(cfg.paths[0].source), "publish");
    snprintf(cfg.paths[0].source_redacted, sizeof(cfg.paths[0].source_redacted), "publish");
    struct ctl_child *s = ctl_slot(&ctl, 0);
    assert_true(status_json(buf, sizeof(buf), ctl.hdr, &cfg, STATUS_VIEW_PATHS) > 0);
    assert_non_null(strstr(buf, "\"publisher\":null"));
    uint64_t t0 = ctl_now_ns() - 2000000000ull;
    ctl_pub_set(&s->publisher, CTL_PUB_RTSP_UDP, "127.0.0.1:5000", t0);
    ctl_pub_update(&s->publisher, 250000, 3, 0, t0 + 2000000000ull);
    assert_true(status_json(buf, sizeof(buf), ctl.hdr, &cfg, STATUS_VIEW_PATHS) > 0);
    assert_non_null(strstr(buf, "\"publisher\":{\"protocol\":\"rtsp-udp\",\"address\":"
                                "\"127.0.0.1:5000\",\"since\":\"20"));
    assert_non_null(strstr(buf, "Z\",\"publishing_s\":2,\"bytes\":250000,\"bitrate\":1000000,"
                                "\"packets_lost\":3,\"nacks_sent\":0}"));
    assert_true(status_text(buf, sizeof(buf), ctl.hdr, &cfg, STATUS_VIEW_PATHS) > 0);
    assert_non_null(strstr(buf, "\n  publisher rtsp-udp 127.0.0.1:5000 for 2s: 250000 bytes, 1000 "
                                "kbit/s, 3 lost, 0 NACKs\n"));
    atomic_store(&s->state, CTL_STATE_BACKOFF); /* its ingest died: so did the publisher */
    assert_true(status_json(buf, sizeof(buf), ctl.hdr, &cfg, STATUS_VIEW_PATHS) > 0);
    assert_non_null(strstr(buf, "\"publisher\":null"));
    atomic_store(&s->state, CTL_STATE_RUNNING);
    ctl_pub_set(&s->publisher, CTL_PUB_NONE, "", t0);
    assert_true(status_text(buf, sizeof(buf), ctl.hdr, &cfg, STATUS_VIEW_PATHS) > 0);
    assert_null(strstr(buf, "publisher"));
    cfg.paths[0] = saved;
}

static void test_metrics_text(void **state)
{
    (void)state;
    int n = metrics_text(buf, sizeof(buf), ctl.hdr);
    assert_true(n > 0);
    assert_non_null(strstr(buf, "# TYPE ringcast_up gauge\n"
                                "ringcast_up{role=\"ingest\",path=\"cam\"} 1\n"
                                "ringcast_up{role=\"egress\",worker=\"1\"} 0\n"));
    assert_non_null(strstr(buf, "ringcast_restarts_total{role=\"egress\",worker=\"1\"} 2\n"));
    assert_non_null(strstr(buf, "# TYPE ringcast_viewers gauge\n"
                                "ringcast_viewers{role=\"egress\",worker=\"1\"} 5\n"));
    /* sessions_total keeps its name; other counters get _total. */
    assert_non_null(strstr(buf, "ringcast_sessions_total{role=\"egress\",worker=\"1\"} 6\n"));
    assert_null(strstr(buf, "sessions_total_total"));
    assert_non_null(
        strstr(buf, "ringcast_frames_written_total{role=\"ingest\",path=\"cam\"} 250\n"));
    /* Each family's TYPE appears exactly once. */
    const char *p = strstr(buf, "# TYPE ringcast_pkts_sent_total counter");
    assert_non_null(p);
    assert_null(strstr(p + 1, "# TYPE ringcast_pkts_sent_total"));
    assert_int_equal(metrics_text(buf, 100, ctl.hdr), -ENOSPC);
}

/* ringcastctl drain: status, its table and /metrics say so. */
static void test_draining(void **state)
{
    (void)state;
    assert_true(status_json(buf, sizeof(buf), ctl.hdr, &cfg, STATUS_VIEW_STATUS) > 0);
    assert_non_null(strstr(buf, "\"draining\":false,"));
    assert_true(metrics_text(buf, sizeof(buf), ctl.hdr) > 0);
    assert_non_null(strstr(buf, "# TYPE ringcast_draining gauge\nringcast_draining 0\n"));
    atomic_store(&ctl.hdr->draining, 1);
    assert_true(status_json(buf, sizeof(buf), ctl.hdr, &cfg, STATUS_VIEW_STATUS) > 0);
    assert_non_null(strstr(buf, "\"draining\":true,"));
    assert_true(status_text(buf, sizeof(buf), ctl.hdr, &cfg, STATUS_VIEW_STATUS) > 0);
    assert_non_null(strstr(buf, "\ndraining: new viewers are refused"));
    assert_true(metrics_text(buf, sizeof(buf), ctl.hdr) > 0);
    assert_non_null(strstr(buf, "ringcast_draining 1\n"));
    atomic_store(&ctl.hdr->draining, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_status),  cmocka_unit_test(test_credentials_with_at_sign),
        cmocka_unit_test(test_json_views),   cmocka_unit_test(test_too_small),
        cmocka_unit_test(test_text),         cmocka_unit_test(test_paths_sorted),
        cmocka_unit_test(test_metrics_text), cmocka_unit_test(test_draining),
        cmocka_unit_test(test_publisher),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
