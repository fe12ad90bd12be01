/* SPDX-License-Identifier: MIT */
/* config.c: parses and validates ringcast.conf with libinih. The stream reader counts
 * lines so that every error names FILE:LINE and the key; the first error stops parsing. */
#include "common/config.h"
#include "common/rtsp_url.h"
#include "common/text.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct config_parser {
    struct config *cfg;
    FILE *fp;
    int line;                 /* line last handed to inih */
    char dir[512];            /* the config file's folder, for relative sources */
    struct config_path *path; /* current [path NAME] section, NULL in [server] */
    char section[96];
    char *err;
    size_t errlen;
    int failed;
};

void config_defaults(struct config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    snprintf(cfg->http_host, sizeof(cfg->http_host), "0.0.0.0");
    cfg->http_port = 8889;
    snprintf(cfg->metrics_host, sizeof(cfg->metrics_host), "127.0.0.1");
    cfg->metrics_port = 9998;
    snprintf(cfg->control_socket, sizeof(cfg->control_socket), "/tmp/ringcast.sock");
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    cfg->workers = n > 0 ? (unsigned)n : 1;
    cfg->udp_port_base = 8189;
    cfg->max_viewers_per_worker = 5000;
    cfg->max_setups_per_address = 64;
    cfg->mtu = 1200;
    cfg->log_level = LOG_INFO;
    snprintf(cfg->shm_prefix, sizeof(cfg->shm_prefix), "ringcast");
    cfg->ring_mb = 16;
}

int config_path_name_valid(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len >= CONFIG_NAME_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!isalnum(c) && c != '_' && c != '-')
            return 0;
    }
    return 1;
}

const struct config_path *config_find_path(const struct config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n_paths; i++)
        if (strcmp(cfg->paths[i].name, name) == 0)
            return &cfg->paths[i];
    return NULL;
}

static int fail(struct config_parser *p, const char *key, const char *fmt, const char *arg)
{
    int n = snprintf(p->err, p->errlen, "%s:%d: %s%s", p->cfg->file, p->line, key ? key : "",
                     key ? ": " : "");
    if (n >= 0 && (size_t)n < p->errlen)
        snprintf(p->err + n, p->errlen - (size_t)n, fmt, arg);
    p->failed = 1;
    return 0; /* tells inih to stop */
}

/* "host:port", "[v6]:port" or ":port" (all addresses). */
static int parse_listen(const char *s, char *host, size_t hostlen, uint16_t *port)
{
    const char *colon = strrchr(s, ':');
    unsigned long v;
    if (!colon || text_parse_uint(colon + 1, 1, 65535, &v) < 0)
        return -EINVAL;
    size_t hl = (size_t)(colon - s);
    if (hl >= 2 && s[0] == '[' && s[hl - 1] == ']') {
        s++;
        hl -= 2;
    }
    if (hl >= hostlen)
        return -EINVAL;
    if (hl == 0)
        snprintf(host, hostlen, "0.0.0.0");
    else
        snprintf(host, hostlen, "%.*s", (int)hl, s);
    *port = (uint16_t)v;
    return 0;
}

static int copy_value(struct config_parser *p, const char *key, char *dst, size_t dstlen,
                      const char *value)
{
    if (strlen(value) >= dstlen)
        return fail(p, key, "value too long (at most %s bytes)",
                    dstlen > 1000  ? "1023"
                    : dstlen > 200 ? "255"
                                   : "63");
    snprintf(dst, dstlen, "%s", value);
    return 1;
}

/* A comma-separated list of IPv4/IPv6 addresses (public_addresses, trusted_proxies). */
static int address_list(struct config_parser *p, const char *key, const char *value,
                        char out[CONFIG_MAX_ADDRESSES][64], size_t *n)
{
    char buf[1024];
    snprintf(buf, sizeof(buf), "%s", value);
    *n = 0;
    for (char *save, *tok = strtok_r(buf, ", \t", &save); tok;
         tok = strtok_r(NULL, ", \t", &save)) {
        struct in6_addr a;
        if (*n == CONFIG_MAX_ADDRESSES)
            return fail(p, key, "at most 16 addresses%s", "");
        if (strlen(tok) >= 64 ||
            (inet_pton(AF_INET, tok, &a) != 1 && inet_pton(AF_INET6, tok, &a) != 1))
            return fail(p, key, "not an IPv4 or IPv6 address: \"%s\"", tok);
        snprintf(out[(*n)++], 64, "%s", tok);
    }
    return 1;
}

static int server_key(struct config_parser *p, const char *key, const char *value)
{
    struct config *cfg = p->cfg;
    unsigned long v;

    if (strcmp(key, "http_listen") == 0) {
        if (parse_listen(value, cfg->http_host, sizeof(cfg->http_host), &cfg->http_port) < 0)
            return fail(p, key, "expected HOST:PORT, got \"%s\"", value);
    } else if (strcmp(key, "metrics_listen") == 0) {
        if (parse_listen(value, cfg->metrics_host, sizeof(cfg->metrics_host), &cfg->metrics_port) <
            0)
            return fail(p, key, "expected HOST:PORT, got \"%s\"", value);
    } else if (strcmp(key, "control_socket") == 0) {
        if (value[0] == '\0')
            return fail(p, key, "must not be empty%s", "");
        return copy_value(p, key, cfg->control_socket, sizeof(cfg->control_socket), value);
    } else if (strcmp(key, "workers") == 0) {
        if (strcmp(value, "auto") == 0) {
            long n = sysconf(_SC_NPROCESSORS_ONLN);
            cfg->workers = n > 0 ? (unsigned)n : 1;
        } else if (text_parse_uint(value, 1, 64, &v) == 0) {
            cfg->workers = (unsigned)v;
        } else {
            return fail(p, key, "expected auto or 1..64, got \"%s\"", value);
        }
    } else if (strcmp(key, "udp_port_base") == 0) {
        if (text_parse_uint(value, 1, 65535 - 64, &v) < 0)
            return fail(p, key, "expected a port 1..65471, got \"%s\"", value);
        cfg->udp_port_base = (uint16_t)v;
    } else if (strcmp(key, "public_addresses") == 0) {
        return address_list(p, key, value, cfg->public_addresses, &cfg->n_public_addresses);
    } else if (strcmp(key, "trusted_proxies") == 0) {
        return address_list(p, key, value, cfg->trusted_proxies, &cfg->n_trusted_proxies);
    } else if (strcmp(key, "max_viewers_per_worker") == 0) {
        if (text_parse_uint(value, 1, 100000, &v) < 0)
            return fail(p, key, "expected 1..100000, got \"%s\"", value);
        cfg->max_viewers_per_worker = (unsigned)v;
    } else if (strcmp(key, "max_setups_per_address") == 0) {
        if (text_parse_uint(value, 1, 100000, &v) < 0)
            return fail(p, key, "expected 1..100000, got \"%s\"", value);
        cfg->max_setups_per_address = (unsigned)v;
    } else if (strcmp(key, "mtu") == 0) {
        if (text_parse_uint(value, 400, 8900, &v) < 0)
            return fail(p, key, "expected RTP payload bytes 400..8900, got \"%s\"", value);
        cfg->mtu = (unsigned)v;
    } else if (strcmp(key, "log_level") == 0) {
        if (log_level_parse(value, &cfg->log_level) < 0)
            return fail(p, key, "expected debug, info, warn or error, got \"%s\"", value);
    } else if (strcmp(key, "api_token") == 0) {
        return copy_value(p, key, cfg->api_token, sizeof(cfg->api_token), value);
    } else if (strcmp(key, "shm_prefix") == 0) {
        if (!config_path_name_valid(value) || strlen(value) >= sizeof(cfg->shm_prefix))
            return fail(p, key, "expected up to 31 characters [A-Za-z0-9_-], got \"%s\"", value);
        snprintf(cfg->shm_prefix, sizeof(cfg->shm_prefix), "%s", value);
    } else if (strcmp(key, "ring_mb") == 0) {
        if (text_parse_uint(value, 1, 1024, &v) < 0)
            return fail(p, key, "expected MiB 1..1024, got \"%s\"", value);
        cfg->ring_mb = (unsigned)v;
    } else {
        return fail(p, key, "unknown key in [server]%s", "");
    }
    return 1;
}

static int path_source(struct config_parser *p, const char *key, const char *value)
{
    struct config_path *path = p->path;
    if (strncmp(value, "rtsp://", 7) == 0) {
        if (value[7] == '\0')
            return fail(p, key, "rtsp:// URL without a host%s", "");
        return copy_value(p, key, path->source, sizeof(path->source), value);
    }
    if (strncmp(value, "file:", 5) != 0) {
        /* Only the scheme of a URL: what follows it may be user:password. */
        const char *sep = strstr(value, "://");
        char shown[64];
        if (sep)
            snprintf(shown, sizeof(shown), "%.*s://...", (int)(sep - value), value);
        return fail(p, key, "expected file:PATH or rtsp://HOST/PATH, got \"%s\"",
                    sep ? shown : value);
    }
    const char *file = value + 5;
    char resolved[1024];
    if (file[0] == '\0')
        return fail(p, key, "file: without a file name%s", "");
    if (file[0] == '/')
        snprintf(resolved, sizeof(resolved), "%s", file);
    else if ((size_t)snprintf(resolved, sizeof(resolved), "%s/%s", p->dir, file) >=
             sizeof(resolved))
        return fail(p, key, "file name too long%s", "");
    if (access(resolved, R_OK) != 0)
        return fail(p, key, "cannot read \"%s\"", resolved);
    if ((size_t)snprintf(path->source, sizeof(path->source), "file:%s", resolved) >=
        sizeof(path->source))
        return fail(p, key, "file name too long%s", "");
    return 1;
}

static int path_key(struct config_parser *p, const char *key, const char *value)
{
    struct config_path *path = p->path;
    unsigned long v;

    if (strcmp(key, "source") == 0)
        return path_source(p, key, value);
    if (strcmp(key, "transport") == 0) {
        if (strcmp(value, "tcp") == 0)
            path->transport = TRANSPORT_TCP;
        else if (strcmp(value, "udp") == 0)
            path->transport = TRANSPORT_UDP;
        else
            return fail(p, key, "expected tcp or udp, got \"%s\"", value);
        return 1;
    }
    if (strcmp(key, "username") == 0)
        return copy_value(p, key, path->username, sizeof(path->username), value);
    if (strcmp(key, "password") == 0)
        return copy_value(p, key, path->password, sizeof(path->password), value);
    if (strcmp(key, "read_token") == 0)
        return copy_value(p, key, path->read_token, sizeof(path->read_token), value);
    if (strcmp(key, "fps") == 0) {
        if (text_parse_uint(value, 1, 240, &v) < 0)
            return fail(p, key, "expected 1..240, got \"%s\"", value);
        path->fps = (unsigned)v;
        return 1;
    }
    return fail(p, key, "unknown key in [path]%s", "");
}

/* A [path] section must have a source (reported at the section's line); the reports show
 * it redacted. */
static int close_path_section(struct config_parser *p)
{
    if (p->path && p->path->source[0] == '\0') {
        p->line = p->path->line;
        return fail(p, "source", "missing in [path %s]", p->path->name);
    }
    if (p->path)
        rtsp_url_source_redact(p->path->source, p->path->source_redacted,
                               sizeof(p->path->source_redacted));
    return 1;
}

/* A new section: [server] or [path NAME]. */
static int enter_section(struct config_parser *p, const char *section)
{
    if (!close_path_section(p))
        return 0;
    snprintf(p->section, sizeof(p->section), "%s", section);
    p->path = NULL;
    if (strcmp(section, "server") == 0)
        return 1;
    if (strncmp(section, "path ", 5) != 0)
        return fail(p, NULL, "unknown section [%s] (expected [server] or [path NAME])", section);
    const char *name = section + 5;
    while (*name == ' ')
        name++;
    if (!config_path_name_valid(name))
        return fail(p, NULL, "invalid path name \"%s\" (use A-Z a-z 0-9 _ -)", name);
    if (config_find_path(p->cfg, name))
        return fail(p, NULL, "path \"%s\" defined twice", name);
    if (p->cfg->n_paths == CONFIG_MAX_PATHS)
        return fail(p, NULL, "too many paths (at most 64)%s", "");
    struct config_path *path = &p->cfg->paths[p->cfg->n_paths++];
    memset(path, 0, sizeof(*path));
    snprintf(path->name, sizeof(path->name), "%s", name);
    path->line = p->line;
    p->path = path;
    return 1;
}

static int on_entry(void *user, const char *section, const char *key, const char *value)
{
    struct config_parser *p = user;
    if (p->failed)
        return 0;
    if (section[0] == '\0')
        return fail(p, key, "key outside a section (start with [server] or [path NAME])%s", "");
    if (p->path)
        return path_key(p, key, value);
    return server_key(p, key, value);
}

/* The line-counting reader behind ini_parse_stream. Section headers are handled here, as
 * they are read, because inih reports a section only with its first key: an empty or
 * repeated section would otherwise go unnoticed. */
static char *read_line(char *str, int num, void *stream)
{
    struct config_parser *p = stream;
    char *s = fgets(str, num, p->fp);
    if (!s || p->failed)
        return NULL;
    p->line++;
    /* inih hands a buffer of its compiled-in INI_MAX_LINE: a longer line would come back in
     * pieces, the rest parsed as a line of its own. */
    if (!strchr(s, '\n') && getc(p->fp) != EOF) { /* EOF: a last line without newline */
        char limit[16];
        snprintf(limit, sizeof(limit), "%d", num - 2);
        fail(p, NULL, "line longer than %s bytes (the limit of libinih)", limit);
        return NULL;
    }
    const char *open = s + strspn(s, " \t");
    const char *close = *open == '[' ? strchr(open, ']') : NULL;
    if (close) {
        char name[sizeof(p->section)];
        snprintf(name, sizeof(name), "%.*s", (int)(close - open - 1), open + 1);
        if (!enter_section(p, name))
            return NULL;
    }
    return s;
}

int config_load(struct config *cfg, const char *file, char *err, size_t errlen)
{
    struct config_parser p = {.cfg = cfg, .err = err, .errlen = errlen};

    config_defaults(cfg);
    snprintf(cfg->file, sizeof(cfg->file), "%s", file);
    const char *slash = strrchr(file, '/');
    if (slash)
        snprintf(p.dir, sizeof(p.dir), "%.*s", (int)(slash - file), file);
    else
        snprintf(p.dir, sizeof(p.dir), ".");
    if (p.dir[0] == '\0')
        snprintf(p.dir, sizeof(p.dir), "/");
    char absdir[PATH_MAX];
    if (realpath(p.dir, absdir) && strlen(absdir) < sizeof(p.dir))
        memcpy(p.dir, absdir, strlen(absdir) + 1);

    p.fp = fopen(file, "r");
    if (!p.fp) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", file, strerror(e));
        return -e;
    }
    int rc = ini_parse_stream(read_line, &p, on_entry, &p);
    if (!p.failed && rc == 0)
        close_path_section(&p);
    fclose(p.fp);
    if (p.failed)
        return -EINVAL;
    if (rc > 0) {
        snprintf(err, errlen, "%s:%d: syntax error (expected [section], key = value or ;comment)",
                 file, rc);
        return -EINVAL;
    }
    if (rc < 0) {
        snprintf(err, errlen, "%s: cannot parse (out of memory)", file);
        return -ENOMEM;
    }
    if ((unsigned)cfg->udp_port_base + cfg->workers > 65535) {
        snprintf(err, errlen, "%s: udp_port_base: %u + %u workers exceeds 65535", file,
                 cfg->udp_port_base, cfg->workers);
        return -EINVAL;
    }
    return 0;
}
