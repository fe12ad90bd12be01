/* SPDX-License-Identifier: MIT */
/* test_ctl_cfgsnap.c: the children's copy of the running config reads back into exactly the
 * settings it was written from (every key, IPv6 listen addresses, credentials), is written
 * atomically with mode 0600, and a too small buffer gives -ENOSPC, not half a file. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "supervisor/cfgsnap.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/rc-cfgsnap-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[96];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd);
}

static void load(struct config *cfg, const char *file)
{
    char err[512] = "";
    if (config_load(cfg, file, err, sizeof(err)) != 0)
        fail_msg("%s", err);
}

static void test_round_trip(void **state)
{
    (void)state;
    static struct config a, b;
    char orig[128], clip[128], snap[128];
    snprintf(clip, sizeof(clip), "%s/clip.h264", dir);
    FILE *f = fopen(clip, "w");
    assert_non_null(f);
    fclose(f);
    snprintf(orig, sizeof(orig), "%s/orig.conf", dir);
    f = fopen(orig, "w");
    assert_non_null(f);
    fprintf(f,
            "[server]\nhttp_listen = [::1]:19003\nmetrics_listen = 127.0.0.1:19104\n"
            "control_socket = %s/ctl.sock\nworkers = 3\nudp_port_base = 19070\n"
            "public_addresses = 192.0.2.7, 2001:db8::7\nmax_viewers_per_worker = 77\n"
            "trusted_proxies = 198.51.100.1\nmax_setups_per_address = 5\nconsent_timeout = 9\n"
            "mtu = 1000\nlog_level = warn\nshm_prefix = rct-snap\nring_mb = 8\n"
            "api_token = apitok\n"
            "[path cam]\nsource = rtsp://10.1.2.3:8554/live?x=1\ntransport = udp\n"
            "username = op\npassword = p@ss=w0rd!\nread_token = tok\n"
            "[path demo]\nsource = file:clip.h264\nfps = 25\n",
            dir);
    fclose(f);
    load(&a, orig);
    assert_int_equal(cfgsnap_path(snap, sizeof(snap), &a), 0);
    char want[128];
    snprintf(want, sizeof(want), "%s/ctl.sock.conf", dir);
    assert_string_equal(snap, want);
    assert_int_equal(cfgsnap_write(&a, snap), 0);
    struct stat st;
    assert_int_equal(stat(snap, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    load(&b, snap);

    /* Same settings; only the file name and section lines differ. */
    assert_string_equal(b.file, snap);
    memcpy(b.file, a.file, sizeof(a.file));
    for (size_t i = 0; i < b.n_paths; i++)
        b.paths[i].line = a.paths[i].line;
    assert_string_equal(b.http_host, "::1");
    assert_string_equal(b.paths[0].password, "p@ss=w0rd!");
    assert_string_equal(b.paths[1].source, a.paths[1].source);
    assert_int_equal(b.consent_timeout, 9);
    assert_int_equal(b.n_trusted_proxies, 1);
    assert_int_equal(b.n_paths, a.n_paths);
    assert_memory_equal(b.paths, a.paths, a.n_paths * sizeof(*a.paths));
    struct config_path *own = b.paths; /* each owns its table: the rest must be equal */
    size_t cap = b.cap_paths;
    b.paths = a.paths;
    b.cap_paths = a.cap_paths;
    assert_memory_equal(&a, &b, sizeof(a));
    b.paths = own;
    b.cap_paths = cap;
}

static void test_too_small(void **state)
{
    (void)state;
    static struct config cfg;
    char buf[4096];
    config_defaults(&cfg);
    int n = cfgsnap_format(buf, sizeof(buf), &cfg);
    assert_true(n > 0);
    assert_int_equal(cfgsnap_format(buf, (size_t)n, &cfg), -ENOSPC);
    assert_int_equal(cfgsnap_format(buf, (size_t)n + 1, &cfg), n);
    assert_int_equal(cfgsnap_write(&cfg, "/nonexistent-dir/x.conf"), -ENOENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_too_small),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
