/* SPDX-License-Identifier: MIT */
/* test_config.c: config_load accepts the documented keys and names FILE:LINE: key on every
 * error; a table of broken files, each with the message it must produce. The key table's
 * defaults are README.md's, and its change bits drive reload decisions and the worker's copy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/config.h"

static char tmpdir[64];

static const char *write_conf(const char *text)
{
    static char path[128];
    snprintf(path, sizeof(path), "%s/test.conf", tmpdir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/rc-config-XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    char clip[128];
    snprintf(clip, sizeof(clip), "%s/clip.h264", tmpdir);
    FILE *f = fopen(clip, "w");
    assert_non_null(f);
    fclose(f);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    return system(cmd);
}

static void test_good_file(void **state)
{
    (void)state;
    static struct config cfg;
    char err[256] = "";
    const char *file = write_conf("; comment\n"
                                  "[server]\n"
                                  "http_listen = 127.0.0.1:18889\n"
                                  "workers = 3\n"
                                  "udp_port_base = 20000\n"
                                  "public_addresses = 192.0.2.1, 2001:db8::1\n"
                                  "mtu = 1100\n"
                                  "log_level = debug\n"
                                  "api_token = ops-t0ken\n"
                                  "[path cam-1]\n"
                                  "source = rtsp://user:pw@10.0.0.1:554/stream\n"
                                  "transport = udp\n"
                                  "read_token = s3cret\n"
                                  "[path demo]\n"
                                  "source = file:clip.h264\n"
                                  "transport = tcp\n"
                                  "[path cam-2]\n"
                                  "source = rtsp://10.0.0.2/stream\n"
                                  "source_on_demand = yes\n"
                                  "on_demand_start_timeout = 4\n"
                                  "on_demand_close_after = 30\n"
                                  "[path pub]\n"
                                  "source = publish\n"
                                  "publish_user = enc\n"
                                  "publish_password = pw\n"
                                  "publish_token = wh1p\n"
                                  "override_publisher = yes\n");
    assert_int_equal(config_load(&cfg, file, err, sizeof(err)), 0);
    assert_string_equal(cfg.http_host, "127.0.0.1");
    assert_int_equal(cfg.http_port, 18889);
    assert_int_equal(cfg.workers, 3);
    assert_int_equal(cfg.udp_port_base, 20000);
    assert_int_equal(cfg.n_public_addresses, 2);
    assert_string_equal(cfg.public_addresses[1], "2001:db8::1");
    assert_int_equal(cfg.mtu, 1100);
    assert_int_equal(cfg.log_level, LOG_DEBUG);
    assert_string_equal(cfg.api_token, "ops-t0ken");
    assert_int_equal(cfg.n_paths, 4);
    const struct config_path *cam = config_find_path(&cfg, "cam-1");
    assert_non_null(cam);
    assert_int_equal(cam->transport, TRANSPORT_UDP);
    assert_string_equal(cam->read_token, "s3cret");
    assert_string_equal(cam->source_redacted, "rtsp://10.0.0.1:554/stream");
    const struct config_path *demo = config_find_path(&cfg, "demo");
    assert_non_null(demo);
    char want[160];
    snprintf(want, sizeof(want), "file:%s/clip.h264", tmpdir);
    assert_string_equal(demo->source, want);
    assert_string_equal(demo->source_redacted, want);
    assert_int_equal(demo->transport, TRANSPORT_TCP);
    /* auto by default: TCP-interleaved, UDP when the camera refuses it (ingest/rtsp_lower.h) */
    const struct config_path *cam2 = config_find_path(&cfg, "cam-2");
    assert_int_equal(cam2->transport, TRANSPORT_AUTO);
    assert_int_equal(cam2->on_demand, 1);
    assert_int_equal(cam2->on_demand_start_timeout, 4);
    assert_int_equal(cam2->on_demand_close_after, 30);
    /* always pulling by default; the on-demand timeouts as MediaMTX's */
    assert_int_equal(cam->on_demand, 0);
    assert_int_equal(cam->on_demand_start_timeout, 10);
    assert_int_equal(cam->on_demand_close_after, 10);
    assert_null(config_find_path(&cfg, "nope"));
    const struct config_path *pub = config_find_path(&cfg, "pub");
    assert_true(config_path_is_publish(pub) && !config_path_is_publish(demo));
    assert_string_equal(pub->publish_user, "enc");
    assert_string_equal(pub->publish_password, "pw");
    assert_string_equal(pub->publish_token, "wh1p");
    assert_int_equal(pub->override_publisher, 1);
    assert_int_equal(config_find_path(&cfg, "cam-2")->override_publisher, 0);
}

static void test_defaults(void **state)
{
    (void)state;
    static struct config cfg;
    char err[256] = "";
    assert_int_equal(config_load(&cfg, write_conf("[server]\n"), err, sizeof(err)), 0);
    assert_int_equal(cfg.http_port, 8889);
    assert_int_equal(cfg.metrics_port, 9998);
    assert_string_equal(cfg.metrics_host, "127.0.0.1");
    assert_int_equal(cfg.udp_port_base, 8189);
    assert_int_equal(cfg.mtu, 1200);
    assert_true(cfg.workers >= 1);
    assert_string_equal(cfg.api_token, "");    /* the JSON reports stay open by default */
    assert_int_equal(cfg.consent_timeout, 30); /* RFC 7675 5.1 */
    assert_int_equal(cfg.n_paths, 0);
}

/* Every key has a row in the tables of README.md's "Configuration", and the default there is the
 * table's: "| `key` | `default` |". */
/* The README.md row whose first cell names key, alone or in a list ("`username`, `password`"). */
static const char *readme_row(char rows[][256], size_t nrows, const char *key)
{
    char name[80];
    snprintf(name, sizeof(name), "`%s`", key);
    for (size_t r = 0; r < nrows; r++) {
        char cell[256], *save;
        const char *end = strstr(rows[r] + 1, " |");
        snprintf(cell, sizeof(cell), "%.*s", end ? (int)(end - rows[r] - 2) : 0, rows[r] + 2);
        for (char *tok = strtok_r(cell, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save))
            if (strcmp(tok, name) == 0)
                return rows[r];
    }
    return NULL;
}

/* Every key has a row in the tables of README.md's "Configuration", and the default there is the
 * table's: "| `key` | `default` |". */
static void test_readme_defaults(void **state)
{
    (void)state;
    const char *top = getenv("RINGCAST_TOP");
    char file[512], line[1024];
    snprintf(file, sizeof(file), "%s/README.md", top ? top : ".");
    FILE *f = fopen(file, "r");
    if (!f)
        fail_msg("cannot open %s: run from the repository root or set RINGCAST_TOP", file);
    static char rows[64][256];
    size_t nrows = 0, n;
    int in_section = 0; /* the rows of "## Configuration" only */
    while (fgets(line, sizeof(line), f) && nrows < 64) {
        if (strncmp(line, "## ", 3) == 0)
            in_section = strcmp(line, "## Configuration\n") == 0;
        else if (in_section && strncmp(line, "| `", 3) == 0)
            snprintf(rows[nrows++], sizeof(rows[0]), "%s", line);
    }
    fclose(f);
    const struct config_key *keys = config_keys(&n);
    for (size_t i = 0; i < n; i++) {
        const char *row = readme_row(rows, nrows, keys[i].name);
        char want[160];
        if (!row)
            fail_msg("README.md has no configuration row for %s", keys[i].name);
        snprintf(want, sizeof(want), " | `%s` |", keys[i].dflt ? keys[i].dflt : "");
        if (keys[i].dflt && !strstr(row, want))
            fail_msg("README.md: %s defaults to `%s`, not as its row says: %s", keys[i].name,
                     keys[i].dflt, row);
    }
}

static const char *const reload_conf =
    "[server]\nmtu = %u\nconsent_timeout = %u\napi_token = %s\ntrusted_proxies = %s\n"
    "shm_prefix = %s\nice_servers = turn:%s\nturn_secret = %s\n[path cam]\nsource = "
    "file:clip.h264\nread_token = %s\nfps = %u\n";

/* What a reload needs follows from the table's change bits; a worker's SIGHUP copies the
 * reloadable keys and the paths, and keeps what it read at start. */
static void test_reload_changes(void **state)
{
    (void)state;
    static struct config a, b, w;
    char text[512], err[256] = "";
    snprintf(text, sizeof(text), reload_conf, 1200, 30, "t1", "192.0.2.1", "rc", "a", "s1", "r1",
             25);
    assert_int_equal(config_load(&a, write_conf(text), err, sizeof(err)), 0);
    assert_int_equal(config_load(&b, write_conf(text), err, sizeof(err)), 0);
    assert_int_equal(config_server_changes(&a, &b), 0);
    assert_int_equal(config_path_changes(&a.paths[0], &b.paths[0]), 0);

    snprintf(text, sizeof(text), reload_conf, 1000, 8, "t2", "192.0.2.2", "rc", "b", "s2", "r2",
             25);
    assert_int_equal(config_load(&b, write_conf(text), err, sizeof(err)), 0);
    assert_int_equal(config_server_changes(&a, &b), CONFIG_CHANGE_HUP_WORKERS |
                                                        CONFIG_CHANGE_RESTART_INGESTS |
                                                        CONFIG_CHANGE_RESTART_WORKERS);
    assert_int_equal(config_path_changes(&a.paths[0], &b.paths[0]), CONFIG_CHANGE_HUP_WORKERS);
    assert_int_equal(config_copy(&w, &a), 0);
    assert_int_equal(config_apply_reloadable(&w, &b), 0);
    assert_string_equal(a.paths[0].read_token, "r1"); /* w has its own table */
    assert_int_equal(w.consent_timeout, 8);
    assert_string_equal(w.api_token, "t2");
    assert_int_equal(w.n_trusted_proxies, 1);
    assert_string_equal(w.trusted_proxies[0], "192.0.2.2");
    assert_string_equal(w.paths[0].read_token, "r2");
    assert_int_equal(w.n_ice_servers, 1); /* the TURN server and its secret change by SIGHUP */
    assert_string_equal(w.ice_servers[0], "turn:b");
    assert_string_equal(w.turn_secret, "s2");
    assert_int_equal(w.mtu, 1200); /* a worker restart applies it, not SIGHUP */

    snprintf(text, sizeof(text), reload_conf, 1200, 30, "t1", "192.0.2.1", "other", "a", "s1", "r1",
             30);
    assert_int_equal(config_load(&b, write_conf(text), err, sizeof(err)), 0);
    assert_int_equal(config_server_changes(&a, &b), CONFIG_CHANGE_REFUSED);
    assert_int_equal(config_path_changes(&a.paths[0], &b.paths[0]), CONFIG_CHANGE_RESTART_INGESTS);
}

/* No fixed cap on paths: 300 load in order; a copy owns its own table; freeing empties it. */
static void test_many_paths(void **state)
{
    (void)state;
    static struct config a, b;
    static char text[300 * 48];
    size_t n = 0;
    for (int i = 0; i < 300; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "[path cam%d]\nsource = file:clip.h264\n",
                              i);
    char err[256] = "";
    if (config_load(&a, write_conf(text), err, sizeof(err)) != 0)
        fail_msg("%s", err);
    assert_int_equal(a.n_paths, 300);
    assert_string_equal(a.paths[299].name, "cam299");
    assert_non_null(config_find_path(&a, "cam150"));
    assert_int_equal(config_copy(&b, &a), 0);
    assert_ptr_not_equal(b.paths, a.paths);
    snprintf(b.paths[0].name, sizeof(b.paths[0].name), "other");
    assert_string_equal(a.paths[0].name, "cam0");
    config_free(&b);
    assert_int_equal(b.n_paths, 0);
    assert_null(b.paths);
    assert_int_equal(config_load(&a, write_conf("[server]\n"), err, sizeof(err)), 0);
    assert_int_equal(a.n_paths, 0);
}

/* api_token takes any value up to what a config line holds (198 bytes less "api_token = "),
 * whole; one byte more is the line-length error at that line, never a token cut short. */
static void test_api_token_length(void **state)
{
    (void)state;
    static struct config cfg;
    char text[400], token[200], err[512] = "";
    size_t max = 198 - strlen("api_token = ");
    memset(token, 'a', max);
    token[max] = '\0';
    snprintf(text, sizeof(text), "[server]\napi_token = %s\n", token);
    const char *file = write_conf(text);
    if (config_load(&cfg, file, err, sizeof(err)) != 0)
        fail_msg("%zu-byte api_token refused: %s", max, err);
    assert_string_equal(cfg.api_token, token);

    snprintf(text, sizeof(text), "[server]\n; comment\napi_token = %sb\n", token);
    file = write_conf(text);
    assert_true(config_load(&cfg, file, err, sizeof(err)) < 0);
    char want[256];
    snprintf(want, sizeof(want), "%s:3: line longer than 198 bytes (the limit of libinih)", file);
    assert_string_equal(err, want);
    assert_null(strstr(err, token)); /* the rejected value is not echoed either */
}

struct bad_case {
    const char *text;
    const char *message; /* expected after "FILE:" */
};

static const struct bad_case bad_cases[] = {
    {"[server]\nhttp_listen = 8889\n", "2: http_listen: expected HOST:PORT"},
    {"[path x]\nsource = file:clip.h264\nsource_on_demand = maybe\n",
     "3: source_on_demand: expected yes or no, got \"maybe\""},
    {"[path x]\nsource = file:clip.h264\non_demand_start_timeout = 0\n",
     "3: on_demand_start_timeout: expected seconds 1..60"},
    {"[path x]\nsource = file:clip.h264\non_demand_close_after = 0\n",
     "3: on_demand_close_after: expected seconds 1..86400"},
    {"[server]\nworkers = 0\n", "2: workers: expected auto or 1..64"},
    {"[server]\nworkers = many\n", "2: workers: expected auto or 1..64"},
    {"[server]\nmtu = 99999\n", "2: mtu: expected RTP payload bytes"},
    {"[server]\nlog_level = loud\n", "2: log_level: expected debug"},
    {"[server]\n\nbogus = 1\n", "3: bogus: unknown key in [server]"},
    {"[sever]\nworkers = 1\n", "1: unknown section [sever]"},
    {"workers = 1\n", "1: workers: key outside a section"},
    {"[server]\nthis line is not ini\n", "2: syntax error"},
    {"[path a/b]\nsource = file:clip.h264\n", "1: invalid path name \"a/b\""},
    {"[path x]\nsource = http://example/\n", "2: source: expected file:PATH, rtsp://"},
    /* A mistyped scheme: the message must not echo the credentials after it. */
    {"[path x]\nsource = RTSPS://admin:secret@cam/live\n",
     "2: source: expected file:PATH, rtsp://HOST/PATH or publish, got \"RTSPS://...\""},
    {"[path x]\nsource = file:missing.h264\n", "2: source: cannot read"},
    {"[path x]\ntransport = sctp\n", "2: transport: expected auto, tcp or udp, got \"sctp\""},
    /* api_token guards the server's JSON reports; per path there is read_token. */
    {"[path x]\nsource = file:clip.h264\napi_token = t\n", "3: api_token: unknown key in [path]"},
    {"[server]\nread_token = t\n", "2: read_token: unknown key in [server]"},
    {"[path x]\nfps = 0\nsource = file:clip.h264\n", "2: fps: expected 1..240"},
    {"[path x]\nsource = publish\noverride_publisher = maybe\n",
     "3: override_publisher: expected yes or no"},
    {"[server]\npublish_user = u\n", "2: publish_user: unknown key in [server]"},
    {"[server]\nconsent_timeout = 4\n", "2: consent_timeout: expected seconds 5..30, got \"4\""},
    {"[server]\nconsent_timeout = 31\n", "2: consent_timeout: expected seconds 5..30"},
    {"[server]\ncontrol_socket =\n", "2: control_socket: must not be empty"},
    /* The limit named is the field's: 127 bytes of a 128-byte password. */
    {"[path x]\npassword = "
     "pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp"
     "pppppppppppppppppppppppppppppppppppppppppppppppp\n",
     "2: password: value too long (at most 127 bytes)"},
    {"[server]\n[path x]\ntransport = tcp\n[path y]\nsource = file:clip.h264\n",
     "2: source: missing in [path x]"},
    {"[path x]\nsource = file:clip.h264\n[path y]\nsource = file:clip.h264\n[path x]\n"
     "source = file:clip.h264\n",
     "5: path \"x\" defined twice"},
    {"[path x]\nsource = file:clip.h264\n[path x]\nfps = 25\n", "3: path \"x\" defined twice"},
    {"[server]\n[bogus]\n", "2: unknown section [bogus]"},
    {"[path empty]\n; no keys\n[server]\n", "1: source: missing in [path empty]"},
    {"[path last]\n", "1: source: missing in [path last]"},
    /* libinih reads at most 199 bytes a line: a longer one (a long rtsp:// URL) is named at its
     * own line, not cut in two with a syntax error at a line the file does not have. */
    {"[path x]\n; a comment\nsource = rtsp://user:pw@camera.example/"
     "stream-with-a-very-long-token-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
     "3: line longer than 198 bytes"},
    /* ice_servers: a mistyped URL is echoed up to its scheme, never its user:password@. */
    {"[server]\nice_servers = stun:192.0.2.1, turn:admin:secret@turn.example\n",
     "2: ice_servers: \"turn:...\": no user@ in the URL"},
    {"[server]\nice_servers = https://turn.example\n",
     "2: ice_servers: \"https:...\": expected a stun:, turn: or turns: URL"},
    {"[server]\nice_servers = stun:a, stun:b, stun:c, stun:d, stun:e\n",
     "2: ice_servers: at most 4 URLs"},
    {"[server]\nturn_secret = se\001cret\n", "2: turn_secret: control characters are not allowed"},
    {"[server]\nturn_ttl = 10\n", "2: turn_ttl: expected seconds 60..86400"},
    /* public_url becomes a Location header: a scheme, a host, a port and a path, nothing else. */
    {"[server]\npublic_url = edge3.example.net\n", "2: public_url: expected http://HOST"},
    {"[server]\npublic_url = ftp://edge3.example.net\n", "2: public_url: expected http://HOST"},
    {"[server]\npublic_url = https://\n", "2: public_url: no host"},
    {"[server]\npublic_url = http://[::1\n", "2: public_url: no host"},
    {"[server]\npublic_url = http://edge3:0\n", "2: public_url: bad port"},
    {"[server]\npublic_url = http://edge3:65536/\n", "2: public_url: bad port"},
    {"[server]\npublic_url = http://user@edge3\n", "2: public_url: expected a path after the "},
    {"[server]\npublic_url = https://edge3/a?b=c\n", "2: public_url: '?' in "},
    {"[server]\npublic_url = https://edge3/a#top\n", "2: public_url: '#' in "},
    {"[server]\npublic_url = https://edge3/a%2\n", "2: public_url: '%' in "},
    {"[server]\nagent_listen = 9999\n", "2: agent_listen: expected HOST:PORT"},
    /* rtsp_udp_ports must hold an even RTP port and the odd RTCP one after it. */
    {"[server]\nrtsp_udp_ports = 20000\n", "2: rtsp_udp_ports: expected LO-HI, got"},
    {"[server]\nrtsp_udp_ports = 20001-20002\n", "2: rtsp_udp_ports: expected LO-HI (ports"},
    {"[server]\nrtsp_udp_ports = 20000-20000\n", "2: rtsp_udp_ports: expected LO-HI (ports"},
    {"[server]\nrtsp_udp_ports = 80-81\n", "2: rtsp_udp_ports: expected LO-HI (ports"},
    {"[server]\nrtsp_udp_ports = 20000-70000\n", "2: rtsp_udp_ports: expected LO-HI (ports"},
    {"[server]\nrtsp_udp_ports = -20001\n", "2: rtsp_udp_ports: expected LO-HI, got"},
    /* The TURN credentials come from one source, whole, and a turn: URL needs them. */
    {"[server]\nice_servers = turn:turn.example\n",
     " ice_servers: a turn: URL needs turn_secret or ice_username and ice_credential"},
    {"[server]\nice_servers = turn:turn.example\nice_username = u\n",
     " ice_username: ice_username and ice_credential go together"},
    {"[server]\nice_username = u\nice_credential = c\nturn_secret = s\n",
     " turn_secret: set either turn_secret or ice_username and ice_credential, not both"},
};

static void test_bad_files(void **state)
{
    (void)state;
    static struct config cfg;
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        char err[512] = "";
        const char *file = write_conf(bad_cases[i].text);
        int rc = config_load(&cfg, file, err, sizeof(err));
        char want[512];
        snprintf(want, sizeof(want), "%s:%s", file, bad_cases[i].message);
        if (rc == 0 || strncmp(err, want, strlen(want)) != 0 ||
            strstr(err, ":secret")) /* the userinfo above */
            fail_msg("case %zu: rc=%d err=\"%s\", want prefix \"%s\"", i, rc, err, want);
    }
}

/* ice_servers keeps its URLs in order; a stun: URL alone needs no credentials. */
static void test_ice_servers(void **state)
{
    (void)state;
    static struct config cfg;
    char err[256] = "";
    const char *file =
        write_conf("[server]\n"
                   "ice_servers = stun:192.0.2.1:3478, turn:[2001:db8::3]?transport=tcp,"
                   "turns:turn.example:443\n"
                   "turn_secret = north\n"
                   "turn_ttl = 600\n");
    assert_int_equal(config_load(&cfg, file, err, sizeof(err)), 0);
    assert_int_equal(cfg.n_ice_servers, 3);
    assert_string_equal(cfg.ice_servers[0], "stun:192.0.2.1:3478");
    assert_string_equal(cfg.ice_servers[1], "turn:[2001:db8::3]?transport=tcp");
    assert_string_equal(cfg.ice_servers[2], "turns:turn.example:443");
    assert_string_equal(cfg.turn_secret, "north");
    assert_int_equal(cfg.turn_ttl, 600);
    assert_int_equal(
        config_load(&cfg, write_conf("[server]\nice_servers = stun:a.example\n"), err, sizeof(err)),
        0);
    assert_int_equal(cfg.turn_ttl, 3600);
    assert_int_equal(cfg.n_ice_servers, 1);
}

/* public_url keeps its scheme, host, port and prefix, without a trailing slash, and changes by
 * SIGHUP; agent_listen is off unless set, and the supervisor holds it (a change is refused). */
static void test_public_url(void **state)
{
    (void)state;
    static struct config a, b;
    char err[256] = "";
    static const char *const good[][2] = {
        {"https://edge3.example.net", "https://edge3.example.net"},
        {"http://127.0.0.11:8889/", "http://127.0.0.11:8889"},
        {"https://[2001:db8::3]:443/eu/edge-3%20a//", "https://[2001:db8::3]:443/eu/edge-3%20a"},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        char text[256];
        snprintf(text, sizeof(text), "[server]\npublic_url = %s\n", good[i][0]);
        if (config_load(&a, write_conf(text), err, sizeof(err)) != 0)
            fail_msg("%s refused: %s", good[i][0], err);
        assert_string_equal(a.public_url, good[i][1]);
    }
    assert_int_equal(config_load(&a, write_conf("[server]\n"), err, sizeof(err)), 0);
    assert_string_equal(a.public_url, "");
    assert_int_equal(a.agent_port, 0);
    assert_int_equal(
        config_load(&b, write_conf("[server]\npublic_url = http://e1\n"), err, sizeof(err)), 0);
    assert_int_equal(config_server_changes(&a, &b), CONFIG_CHANGE_HUP_WORKERS);
    config_apply_reloadable(&a, &b);
    assert_string_equal(a.public_url, "http://e1");
    assert_int_equal(
        config_load(&b, write_conf("[server]\nagent_listen = 127.0.0.1:9999\n"), err, sizeof(err)),
        0);
    assert_string_equal(b.agent_host, "127.0.0.1");
    assert_int_equal(b.agent_port, 9999);
    assert_int_equal(config_load(&a, write_conf("[server]\n"), err, sizeof(err)), 0);
    assert_int_equal(config_server_changes(&a, &b), CONFIG_CHANGE_REFUSED);
}

/* rtsp_udp_ports: unset is the kernel's choice (0); a range keeps its ends (an odd LO is allowed:
 * the server starts at the next even port), prints back as written, and restarts the workers. */
static void test_rtsp_udp_ports(void **state)
{
    (void)state;
    static struct config a, b;
    char err[256] = "", out[32];
    assert_int_equal(config_load(&a, write_conf("[server]\n"), err, sizeof(err)), 0);
    assert_int_equal(a.rtsp_udp_lo, 0);
    assert_int_equal(a.rtsp_udp_hi, 0);
    assert_int_equal(
        config_load(&b, write_conf("[server]\nrtsp_udp_ports = 20001-20003\n"), err, sizeof(err)),
        0);
    assert_int_equal(b.rtsp_udp_lo, 20001);
    assert_int_equal(b.rtsp_udp_hi, 20003);
    assert_int_equal(config_server_changes(&a, &b), CONFIG_CHANGE_RESTART_WORKERS);
    size_t n;
    const struct config_key *k = config_keys(&n);
    while (strcmp(k->name, "rtsp_udp_ports"))
        k++;
    assert_true(k->format(k, &b, out, sizeof(out)) > 0);
    assert_string_equal(out, "20001-20003");
    assert_int_equal(k->format(k, &a, out, sizeof(out)), 0);
    assert_string_equal(out, "");
}

static void test_missing_file(void **state)
{
    (void)state;
    static struct config cfg;
    char err[256] = "";
    assert_true(config_load(&cfg, "/nonexistent/ringcast.conf", err, sizeof(err)) < 0);
    assert_non_null(strstr(err, "No such file"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_file),        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_api_token_length), cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_missing_file),     cmocka_unit_test(test_readme_defaults),
        cmocka_unit_test(test_reload_changes),   cmocka_unit_test(test_ice_servers),
        cmocka_unit_test(test_public_url),       cmocka_unit_test(test_rtsp_udp_ports),
        cmocka_unit_test(test_many_paths),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
