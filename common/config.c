/* SPDX-License-Identifier: MIT */
/* config.c: the table of ringcast.conf's keys (parser, printer, default, what a change needs on
 * reload) and the libinih reader that parses through it. The stream reader counts lines so
 * that every error names FILE:LINE and the key; the first error stops parsing. */
#include "common/config.h"
#include "common/iceservers.h"
#include "common/rtsp_url.h"
#include "common/text.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
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

int config_path_is_publish(const struct config_path *p)
{
    return strcmp(p->source, "publish") == 0;
}

const struct config_path *config_find_path(const struct config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n_paths; i++)
        if (strcmp(cfg->paths[i].name, name) == 0)
            return &cfg->paths[i];
    return NULL;
}

static int fail(struct config_parser *p, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct config_parser *p, const char *key, const char *fmt, ...)
{
    int n = snprintf(p->err, p->errlen, "%s:%d: %s%s", p->cfg->file, p->line, key ? key : "",
                     key ? ": " : "");
    if (n >= 0 && (size_t)n < p->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    p->failed = 1;
    return 0; /* tells inih to stop */
}

static void *field(const struct config_key *k, void *base)
{
    return (char *)base + k->offset;
}

static const void *cfield(const struct config_key *k, const void *base)
{
    return (const char *)base + k->offset;
}

/* The length snprintf reported, or -ENOSPC when out did not hold it. */
static int printed(int n, size_t len)
{
    return n < 0 || (size_t)n >= len ? -ENOSPC : n;
}

/* ---- value types: a parser and a printer each ---- */

/* "host:port", "[v6]:port" or ":port" (all addresses); the port is the aux field. */
static int parse_listen(struct config_parser *p, const struct config_key *k, void *base,
                        const char *value)
{
    char *host = field(k, base);
    const char *s = value;
    const char *colon = strrchr(s, ':');
    unsigned long v;
    if (!colon || text_parse_uint(colon + 1, 1, 65535, &v) < 0)
        return fail(p, k->name, "expected HOST:PORT, got \"%s\"", value);
    size_t hl = (size_t)(colon - s);
    if (hl >= 2 && s[0] == '[' && s[hl - 1] == ']') {
        s++;
        hl -= 2;
    }
    if (hl >= k->size)
        return fail(p, k->name, "expected HOST:PORT, got \"%s\"", value);
    if (hl == 0)
        snprintf(host, k->size, "0.0.0.0");
    else
        snprintf(host, k->size, "%.*s", (int)hl, s);
    *(uint16_t *)((char *)base + k->aux) = (uint16_t)v;
    return 1;
}

/* Port 0 is an optional listener left off (agent_listen): printed as unset. */
static int format_listen(const struct config_key *k, const void *base, char *out, size_t len)
{
    const char *host = cfield(k, base);
    unsigned port = *(const uint16_t *)((const char *)base + k->aux);
    if (port == 0) {
        out[0] = '\0';
        return 0;
    }
    /* An IPv6 literal needs brackets to keep its colons apart from the port's. */
    return printed(snprintf(out, len, strchr(host, ':') ? "[%s]:%u" : "%s:%u", host, port), len);
}

/* rtsp_listen: a listen address, or off (or empty) for none: port 0. */
static int parse_listen_or_off(struct config_parser *p, const struct config_key *k, void *base,
                               const char *value)
{
    if (value[0] && strcmp(value, "off") != 0)
        return parse_listen(p, k, base, value);
    *(char *)field(k, base) = '\0';
    *(uint16_t *)((char *)base + k->aux) = 0;
    return 1;
}

static int format_listen_or_off(const struct config_key *k, const void *base, char *out, size_t len)
{
    if (*(const uint16_t *)((const char *)base + k->aux) == 0)
        return printed(snprintf(out, len, "off"), len);
    return format_listen(k, base, out, len);
}

/* rtsp_udp_ports: "LO-HI" holding at least one even/odd pair, or empty (the kernel's choice);
 * the high end is the aux field. */
static int parse_port_range(struct config_parser *p, const struct config_key *k, void *base,
                            const char *value)
{
    uint16_t *lo = field(k, base), *hi = (uint16_t *)((char *)base + k->aux);
    if (!value[0]) {
        *lo = *hi = 0;
        return 1;
    }
    char a[8];
    unsigned long l, h;
    size_t n = strcspn(value, "-");
    if (n == 0 || n >= sizeof(a) || !value[n])
        return fail(p, k->name, "expected LO-HI, got \"%s\"", value);
    snprintf(a, sizeof(a), "%.*s", (int)n, value);
    if (text_parse_uint(a, k->min, k->max, &l) < 0 ||
        text_parse_uint(value + n + 1, k->min, k->max, &h) < 0 || h < ((l + 1) & ~1ul) + 1)
        return fail(p, k->name,
                    "expected LO-HI (ports %lu..%lu holding an even RTP port and the odd one "
                    "after it), got \"%s\"",
                    k->min, k->max, value);
    *lo = (uint16_t)l;
    *hi = (uint16_t)h;
    return 1;
}

static int format_port_range(const struct config_key *k, const void *base, char *out, size_t len)
{
    unsigned lo = *(const uint16_t *)cfield(k, base);
    unsigned hi = *(const uint16_t *)((const char *)base + k->aux);
    if (!lo) {
        out[0] = '\0';
        return 0;
    }
    return printed(snprintf(out, len, "%u-%u", lo, hi), len);
}

static int parse_string(struct config_parser *p, const struct config_key *k, void *base,
                        const char *value)
{
    if (strlen(value) < k->min)
        return fail(p, k->name, "must not be empty");
    if (strlen(value) >= k->size)
        return fail(p, k->name, "value too long (at most %zu bytes)", k->size - 1);
    snprintf(field(k, base), k->size, "%s", value);
    return 1;
}

static int format_string(const struct config_key *k, const void *base, char *out, size_t len)
{
    return printed(snprintf(out, len, "%s", (const char *)cfield(k, base)), len);
}

/* A name that becomes part of shm object names: [A-Za-z0-9_-]. */
static int parse_name(struct config_parser *p, const struct config_key *k, void *base,
                      const char *value)
{
    if (!config_path_name_valid(value) || strlen(value) >= k->size)
        return fail(p, k->name, "expected up to %zu characters [A-Za-z0-9_-], got \"%s\"",
                    k->size - 1, value);
    snprintf(field(k, base), k->size, "%s", value);
    return 1;
}

static void store_uint(const struct config_key *k, void *base, unsigned long v)
{
    if (k->size == sizeof(uint16_t))
        *(uint16_t *)field(k, base) = (uint16_t)v;
    else
        *(unsigned *)field(k, base) = (unsigned)v;
}

static int parse_uint(struct config_parser *p, const struct config_key *k, void *base,
                      const char *value)
{
    unsigned long v;
    if (text_parse_uint(value, k->min, k->max, &v) < 0)
        return fail(p, k->name, "expected %s%lu..%lu, got \"%s\"", k->unit, k->min, k->max, value);
    store_uint(k, base, v);
    return 1;
}

/* A number below its range (0) is unset: fps then comes from the SPS. */
static int format_uint(const struct config_key *k, const void *base, char *out, size_t len)
{
    unsigned v = k->size == sizeof(uint16_t) ? *(const uint16_t *)cfield(k, base)
                                             : *(const unsigned *)cfield(k, base);
    if (v < k->min) {
        out[0] = '\0';
        return 0;
    }
    return printed(snprintf(out, len, "%u", v), len);
}

/* workers: a number, or auto for one per online CPU. */
static int parse_workers(struct config_parser *p, const struct config_key *k, void *base,
                         const char *value)
{
    unsigned long v;
    if (strcmp(value, "auto") == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        v = n > 0 ? (unsigned long)n : 1;
    } else if (text_parse_uint(value, k->min, k->max, &v) < 0) {
        return fail(p, k->name, "expected auto or %lu..%lu, got \"%s\"", k->min, k->max, value);
    }
    store_uint(k, base, v);
    return 1;
}

/* tcp_port_base: a port, 0 (off), or the literal udp_port_base (the same numbers as UDP,
 * whatever that key says). */
static int parse_tcp_port(struct config_parser *p, const struct config_key *k, void *base,
                          const char *value)
{
    unsigned long v;
    if (strcmp(value, "udp_port_base") == 0)
        v = CONFIG_TCP_PORT_SAME;
    else if (text_parse_uint(value, k->min, k->max, &v) < 0)
        return fail(p, k->name, "expected udp_port_base, 0 (off) or a port %lu..%lu, got \"%s\"",
                    k->min, k->max, value);
    store_uint(k, base, v);
    return 1;
}

static int format_tcp_port(const struct config_key *k, const void *base, char *out, size_t len)
{
    if (*(const uint16_t *)cfield(k, base) == CONFIG_TCP_PORT_SAME)
        return printed(snprintf(out, len, "udp_port_base"), len);
    return format_uint(k, base, out, len);
}

/* A comma-separated list into an array of k->max strings of k->size / k->max bytes; the count
 * is the aux field. check vets each item: 1 = ok, else it has reported why (fail()). */
static int parse_list(struct config_parser *p, const struct config_key *k, void *base,
                      const char *value, const char *what,
                      int (*check)(struct config_parser *p, const struct config_key *k,
                                   const char *item))
{
    size_t stride = k->size / k->max, *n = (size_t *)((char *)base + k->aux);
    char buf[1024];
    snprintf(buf, sizeof(buf), "%s", value);
    *n = 0;
    for (char *save, *tok = strtok_r(buf, ", \t", &save); tok;
         tok = strtok_r(NULL, ", \t", &save)) {
        if (*n == k->max)
            return fail(p, k->name, "at most %lu %s", k->max, what);
        if (!check(p, k, tok))
            return 0;
        snprintf((char *)field(k, base) + stride * (*n)++, stride, "%s", tok);
    }
    return 1;
}

static int format_list(const struct config_key *k, const void *base, char *out, size_t len)
{
    size_t stride = k->size / k->max, n = *(const size_t *)((const char *)base + k->aux);
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const char *item = (const char *)cfield(k, base) + stride * i;
        int w = printed(snprintf(out + used, len - used, "%s%s", i ? ", " : "", item), len - used);
        if (w < 0)
            return w;
        used += (size_t)w;
    }
    return (int)used;
}

static int check_address(struct config_parser *p, const struct config_key *k, const char *item)
{
    struct in6_addr a;
    if (strlen(item) >= k->size / k->max ||
        (inet_pton(AF_INET, item, &a) != 1 && inet_pton(AF_INET6, item, &a) != 1))
        return fail(p, k->name, "not an IPv4 or IPv6 address: \"%s\"", item);
    return 1;
}

static int parse_addresses(struct config_parser *p, const struct config_key *k, void *base,
                           const char *value)
{
    return parse_list(p, k, base, value, "addresses", check_address);
}

/* A bad URL is echoed only up to its scheme: a mistyped one may carry user:password@. */
static int check_ice_server(struct config_parser *p, const struct config_key *k, const char *item)
{
    const char *why;
    if (iceservers_url_check(item, &why) < 0)
        return fail(p, k->name, "\"%.*s...\": %s", (int)strcspn(item, ":") + 1, item, why);
    return 1;
}

static int parse_ice_servers(struct config_parser *p, const struct config_key *k, void *base,
                             const char *value)
{
    return parse_list(p, k, base, value, "URLs", check_ice_server);
}

/* public_url: http[s]://HOST[:PORT][/PREFIX], where HOST is a DNS name, an IPv4 address or a
 * bracketed IPv6 one, and PREFIX a path a balancer routes on (unreserved characters, '/' and
 * %XX). It becomes a Location header, so nothing else passes: no userinfo, query, fragment,
 * space or control byte. Stored without a trailing slash. */
static int parse_public_url(struct config_parser *p, const struct config_key *k, void *base,
                            const char *value)
{
    const char *s = value;
    if (strncmp(s, "http://", 7) == 0)
        s += 7;
    else if (strncmp(s, "https://", 8) == 0)
        s += 8;
    else
        return fail(p, k->name, "expected http://HOST[:PORT][/PREFIX] or https://..., got \"%s\"",
                    value);
    size_t host = s[0] == '[' ? strspn(s + 1, "0123456789abcdefABCDEF:.") + 2
                              : strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                          "0123456789.-");
    if (host == 0 || (s[0] == '[' && (host == 2 || s[host - 1] != ']')))
        return fail(p, k->name, "no host in \"%s\"", value);
    s += host;
    if (*s == ':') {
        unsigned long port;
        char digits[8];
        size_t n = strspn(s + 1, "0123456789");
        snprintf(digits, sizeof(digits), "%.*s", (int)(n < 7 ? n : 7), s + 1);
        if (n == 0 || n > 5 || text_parse_uint(digits, 1, 65535, &port) < 0)
            return fail(p, k->name, "bad port in \"%s\"", value);
        s += 1 + n;
    }
    for (const char *c = s; *c; c++) {
        if (c == s && *c != '/')
            return fail(p, k->name, "expected a path after the host, got \"%s\"", s);
        if (*c == '%' && isxdigit((unsigned char)c[1]) && isxdigit((unsigned char)c[2]))
            c += 2;
        else if (!isalnum((unsigned char)*c) && !strchr("-._~/", *c))
            return fail(p, k->name, "'%c' in \"%s\" (no query, fragment or userinfo)", *c, value);
    }
    if (parse_string(p, k, base, value) == 0)
        return 0;
    char *stored = field(k, base);
    for (size_t n = strlen(stored); n && stored[n - 1] == '/'; n--)
        stored[n - 1] = '\0';
    return 1;
}

/* A credential that goes into a Link header's quoted-string: no control bytes (a CR would end
 * the header). Never echoed. */
static int parse_credential(struct config_parser *p, const struct config_key *k, void *base,
                            const char *value)
{
    for (const char *c = value; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            return fail(p, k->name, "control characters are not allowed");
    return parse_string(p, k, base, value);
}

static int parse_log_level(struct config_parser *p, const struct config_key *k, void *base,
                           const char *value)
{
    if (log_level_parse(value, field(k, base)) < 0)
        return fail(p, k->name, "expected debug, info, warn or error, got \"%s\"", value);
    return 1;
}

static int format_log_level(const struct config_key *k, const void *base, char *out, size_t len)
{
    static const char *const levels[] = {"debug", "info", "warn", "error"};
    enum log_level l = *(const enum log_level *)cfield(k, base);
    return printed(snprintf(out, len, "%s", levels[l <= LOG_ERROR ? l : LOG_INFO]), len);
}

/* yes/no (and true/false, on/off, 1/0) into an unsigned 1/0. */
static int parse_bool(struct config_parser *p, const struct config_key *k, void *base,
                      const char *value)
{
    static const char *const yes[] = {"yes", "true", "on", "1"}, *const no[] = {"no", "false",
                                                                                "off", "0"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcmp(value, yes[i]) == 0 || strcmp(value, no[i]) == 0) {
            *(unsigned *)field(k, base) = strcmp(value, yes[i]) == 0;
            return 1;
        }
    }
    return fail(p, k->name, "expected yes or no, got \"%s\"", value);
}

static int format_bool(const struct config_key *k, const void *base, char *out, size_t len)
{
    return printed(snprintf(out, len, "%s", *(const unsigned *)cfield(k, base) ? "yes" : "no"),
                   len);
}

static const char *const transports[] = {"auto", "tcp", "udp"}; /* enum config_transport */

static int parse_transport(struct config_parser *p, const struct config_key *k, void *base,
                           const char *value)
{
    enum config_transport *t = field(k, base);
    for (enum config_transport i = TRANSPORT_AUTO; i <= TRANSPORT_UDP; i++) {
        if (strcmp(value, transports[i]) == 0) {
            *t = i;
            return 1;
        }
    }
    return fail(p, k->name, "expected auto, tcp or udp, got \"%s\"", value);
}

static int format_transport(const struct config_key *k, const void *base, char *out, size_t len)
{
    enum config_transport t = *(const enum config_transport *)cfield(k, base);
    return printed(snprintf(out, len, "%s", transports[t <= TRANSPORT_UDP ? t : 0]), len);
}

/* source: rtsp://..., publish (RTSP publishers hand their stream over), or file:PATH made
 * absolute against the config file's folder. */
static int parse_source(struct config_parser *p, const struct config_key *k, void *base,
                        const char *value)
{
    char *source = field(k, base);
    if (strcmp(value, "publish") == 0)
        return parse_string(p, k, base, value);
    if (strncmp(value, "rtsp://", 7) == 0) {
        if (value[7] == '\0')
            return fail(p, k->name, "rtsp:// URL without a host");
        return parse_string(p, k, base, value);
    }
    if (strncmp(value, "file:", 5) != 0) {
        /* Only the scheme of a URL: what follows it may be user:password. */
        const char *sep = strstr(value, "://");
        char shown[64];
        if (sep)
            snprintf(shown, sizeof(shown), "%.*s://...", (int)(sep - value), value);
        return fail(p, k->name, "expected file:PATH, rtsp://HOST/PATH or publish, got \"%s\"",
                    sep ? shown : value);
    }
    const char *file = value + 5;
    char resolved[1024];
    if (file[0] == '\0')
        return fail(p, k->name, "file: without a file name");
    if (file[0] == '/')
        snprintf(resolved, sizeof(resolved), "%s", file);
    else if ((size_t)snprintf(resolved, sizeof(resolved), "%s/%s", p->dir, file) >=
             sizeof(resolved))
        return fail(p, k->name, "file name too long");
    if (access(resolved, R_OK) != 0)
        return fail(p, k->name, "cannot read \"%s\"", resolved);
    if ((size_t)snprintf(source, k->size, "file:%s", resolved) >= k->size)
        return fail(p, k->name, "file name too long");
    return 1;
}

/* ---- the table ---- */

/* Field designators for the table, so that each entry reads as one line of facts. */
#define SIZE_OF(type, f) sizeof(((type *)0)->f)
#define SERVER(f)                                                                                  \
    .section = CONFIG_SECTION_SERVER, .offset = offsetof(struct config, f),                        \
    .size = SIZE_OF(struct config, f)
#define PATH(f)                                                                                    \
    .section = CONFIG_SECTION_PATH, .offset = offsetof(struct config_path, f),                     \
    .size = SIZE_OF(struct config_path, f)
#define AUX(f)       .aux = offsetof(struct config, f), .aux_size = SIZE_OF(struct config, f)
#define LISTEN(port) .parse = parse_listen, .format = format_listen, AUX(port)
#define ADDRESSES(n)                                                                               \
    .parse = parse_addresses, .format = format_list, .max = CONFIG_MAX_ADDRESSES, AUX(n)
#define UINT(lo, hi, u) .parse = parse_uint, .format = format_uint, .min = lo, .max = hi, .unit = u
#define STRING(least)   .parse = parse_string, .format = format_string, .min = least
#define CREDENTIAL      .parse = parse_credential, .format = format_string
#define HUP             CONFIG_CHANGE_HUP_WORKERS
#define RESTART_INGESTS CONFIG_CHANGE_RESTART_INGESTS
#define RESTART_WORKERS CONFIG_CHANGE_RESTART_WORKERS
#define REFUSED         CONFIG_CHANGE_REFUSED

static const struct config_key keys[] = {
    {.name = "http_listen",
     SERVER(http_host),
     LISTEN(http_port),
     .dflt = "0.0.0.0:8889",
     .change = RESTART_WORKERS},
    /* The node's RTSP server (egress/rtspd.c): readers of every path, as MediaMTX serves. */
    {.name = "rtsp_listen",
     SERVER(rtsp_host),
     .parse = parse_listen_or_off,
     .format = format_listen_or_off,
     AUX(rtsp_port),
     .dflt = "0.0.0.0:8554",
     .change = RESTART_WORKERS},
    /* RTP/RTCP of RTSP readers over UDP: a range keeps several nodes on one host (and a
     * firewall) apart; the kernel's choice never clashes either. */
    {.name = "rtsp_udp_ports",
     SERVER(rtsp_udp_lo),
     .parse = parse_port_range,
     .format = format_port_range,
     .min = 1024,
     .max = 65535,
     AUX(rtsp_udp_hi),
     .change = RESTART_WORKERS},
    {.name = "metrics_listen",
     SERVER(metrics_host),
     LISTEN(metrics_port),
     .dflt = "127.0.0.1:9998",
     .change = REFUSED},
    {.name = "control_socket",
     SERVER(control_socket),
     STRING(1),
     .dflt = "/tmp/ringcast.sock",
     .change = REFUSED},
    /* No change bit: the supervisor starts or stops workers to match the count. */
    {.name = "workers",
     SERVER(workers),
     .parse = parse_workers,
     .format = format_uint,
     .min = 1,
     .max = 64,
     .dflt = "auto"},
    {.name = "udp_port_base",
     SERVER(udp_port_base),
     UINT(1, 65535 - 64, "a port "),
     .dflt = "8189",
     .change = RESTART_WORKERS},
    /* ICE-TCP (RFC 6544) for viewers whose network blocks UDP. */
    {.name = "tcp_port_base",
     SERVER(tcp_port_base),
     .parse = parse_tcp_port,
     .format = format_tcp_port,
     .min = 0,
     .max = 65535 - 64,
     .dflt = "udp_port_base",
     .change = RESTART_WORKERS},
    {.name = "public_addresses",
     SERVER(public_addresses),
     ADDRESSES(n_public_addresses),
     .change = RESTART_WORKERS},
    {.name = "trusted_proxies",
     SERVER(trusted_proxies),
     ADDRESSES(n_trusted_proxies),
     .change = HUP},
    /* Behind a load balancer: the node that owns a session must get its DELETE and PATCH. */
    {.name = "public_url",
     SERVER(public_url),
     .parse = parse_public_url,
     .format = format_string,
     .change = HUP},
    /* HAProxy's agent-check; off unless set. The supervisor holds it open, like metrics. */
    {.name = "agent_listen", SERVER(agent_host), LISTEN(agent_port), .change = REFUSED},
    {.name = "max_viewers_per_worker",
     SERVER(max_viewers_per_worker),
     UINT(1, 100000, ""),
     .dflt = "5000",
     .change = RESTART_WORKERS},
    {.name = "max_setups_per_address",
     SERVER(max_setups_per_address),
     UINT(1, 100000, ""),
     .dflt = "64",
     .change = HUP},
    {.name = "mtu",
     SERVER(mtu),
     UINT(400, 8900, "RTP payload bytes "),
     .dflt = "1200",
     .change = RESTART_INGESTS | RESTART_WORKERS},
    /* RFC 7675 5.1: consent expires 30 s after the last answered check; never send longer. */
    {.name = "consent_timeout",
     SERVER(consent_timeout),
     UINT(5, 30, "seconds "),
     .dflt = "30",
     .change = HUP},
    {.name = "log_level",
     SERVER(log_level),
     .parse = parse_log_level,
     .format = format_log_level,
     .dflt = "info",
     .change = HUP},
    {.name = "api_token", SERVER(api_token), STRING(0), .change = HUP},
    {.name = "ice_servers",
     SERVER(ice_servers),
     .parse = parse_ice_servers,
     .format = format_list,
     .max = ICESERVERS_MAX,
     AUX(n_ice_servers),
     .change = HUP},
    {.name = "ice_username", SERVER(ice_username), CREDENTIAL, .change = HUP},
    {.name = "ice_credential", SERVER(ice_credential), CREDENTIAL, .change = HUP},
    {.name = "turn_secret", SERVER(turn_secret), CREDENTIAL, .change = HUP},
    /* RFC 8656 allocations refresh themselves; the credential only has to outlive the set-up,
     * and a short lifetime limits what a leaked one is worth. */
    {.name = "turn_ttl",
     SERVER(turn_ttl),
     UINT(60, 86400, "seconds "),
     .dflt = "3600",
     .change = HUP},
    {.name = "shm_prefix",
     SERVER(shm_prefix),
     .parse = parse_name,
     .format = format_string,
     .dflt = "ringcast",
     .change = REFUSED},
    {.name = "ring_mb",
     SERVER(ring_mb),
     UINT(1, 1024, "MiB "),
     .dflt = "16",
     .change = RESTART_INGESTS},
    /* Rings are sized by time: the ingest grows each one to what it observes (ringsize.h). */
    {.name = "ring_seconds",
     SERVER(ring_seconds),
     UINT(0, 3600, "seconds "),
     .dflt = "0",
     .change = RESTART_INGESTS},
    /* [path NAME]: source first, so that the children's copy reads like a hand-written one. */
    {.name = "source",
     PATH(source),
     .parse = parse_source,
     .format = format_string,
     .change = RESTART_INGESTS},
    {.name = "transport",
     PATH(transport),
     .parse = parse_transport,
     .format = format_transport,
     .dflt = "auto",
     .change = RESTART_INGESTS},
    {.name = "username", PATH(username), STRING(0), .change = RESTART_INGESTS},
    {.name = "password", PATH(password), STRING(0), .change = RESTART_INGESTS},
    {.name = "read_token", PATH(read_token), STRING(0), .change = HUP},
    {.name = "fps", PATH(fps), UINT(1, 240, ""), .change = RESTART_INGESTS},
    /* The supervisor starts and stops the ingest on the workers' demand (shm/ctl.h); workers
     * hold a new viewer's offer until the source delivers. */
    {.name = "source_on_demand",
     PATH(on_demand),
     .parse = parse_bool,
     .format = format_bool,
     .dflt = "no",
     .change = HUP},
    {.name = "on_demand_start_timeout",
     PATH(on_demand_start_timeout),
     UINT(1, 60, "seconds "),
     .dflt = "10",
     .change = HUP},
    {.name = "on_demand_close_after",
     PATH(on_demand_close_after),
     UINT(1, 86400, "seconds "),
     .dflt = "10",
     .change = HUP},
    /* source = publish: the workers check a publisher's credentials at its ANNOUNCE. */
    {.name = "publish_user", PATH(publish_user), CREDENTIAL, .change = HUP},
    {.name = "publish_password", PATH(publish_password), CREDENTIAL, .change = HUP},
    {.name = "publish_token", PATH(publish_token), CREDENTIAL, .change = HUP},
    {.name = "override_publisher",
     PATH(override_publisher),
     .parse = parse_bool,
     .format = format_bool,
     .dflt = "no",
     .change = RESTART_INGESTS},
};

const struct config_key *config_keys(size_t *n)
{
    *n = sizeof(keys) / sizeof(keys[0]);
    return keys;
}

static const struct config_key *find_key(enum config_section section, const char *name)
{
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (keys[i].section == section && strcmp(keys[i].name, name) == 0)
            return &keys[i];
    return NULL;
}

/* Values compare as the file spells them: bytes past a string's end may differ. */
int config_key_differs(const struct config_key *k, const void *base_a, const void *base_b)
{
    char a[CONFIG_VALUE_MAX], b[CONFIG_VALUE_MAX];
    int na = k->format(k, base_a, a, sizeof(a)), nb = k->format(k, base_b, b, sizeof(b));
    return na != nb || (na > 0 && memcmp(a, b, (size_t)na) != 0);
}

static unsigned section_changes(enum config_section section, const void *a, const void *b)
{
    unsigned bits = 0;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (keys[i].section == section && config_key_differs(&keys[i], a, b))
            bits |= keys[i].change;
    return bits;
}

unsigned config_server_changes(const struct config *a, const struct config *b)
{
    return section_changes(CONFIG_SECTION_SERVER, a, b);
}

unsigned config_path_changes(const struct config_path *a, const struct config_path *b)
{
    return section_changes(CONFIG_SECTION_PATH, a, b);
}

/* Makes room for n paths in cfg's table. 0 or -ENOMEM. */
static int paths_reserve(struct config *cfg, size_t n)
{
    if (n <= cfg->cap_paths)
        return 0;
    size_t cap = cfg->cap_paths ? cfg->cap_paths : 8;
    while (cap < n)
        cap *= 2;
    struct config_path *p = realloc(cfg->paths, cap * sizeof(*p));
    if (!p)
        return -ENOMEM;
    cfg->paths = p;
    cfg->cap_paths = cap;
    return 0;
}

static int paths_copy(struct config *dst, const struct config *src)
{
    if (paths_reserve(dst, src->n_paths) < 0)
        return -ENOMEM;
    if (src->n_paths)
        memcpy(dst->paths, src->paths, src->n_paths * sizeof(*src->paths));
    dst->n_paths = src->n_paths;
    return 0;
}

int config_apply_reloadable(struct config *dst, const struct config *src)
{
    if (paths_copy(dst, src) < 0)
        return -ENOMEM;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const struct config_key *k = &keys[i];
        if (k->section != CONFIG_SECTION_SERVER || !(k->change & CONFIG_CHANGE_HUP_WORKERS))
            continue;
        memcpy((char *)dst + k->offset, (const char *)src + k->offset, k->size);
        if (k->aux_size)
            memcpy((char *)dst + k->aux, (const char *)src + k->aux, k->aux_size);
    }
    return 0;
}

void config_free(struct config *cfg)
{
    free(cfg->paths);
    cfg->paths = NULL;
    cfg->n_paths = cfg->cap_paths = 0;
}

int config_copy(struct config *dst, const struct config *src)
{
    struct config_path *own = dst->paths;
    size_t cap = dst->cap_paths;
    *dst = *src;
    dst->paths = own;
    dst->cap_paths = cap;
    dst->n_paths = 0;
    return paths_copy(dst, src);
}

/* Each key of section at base takes its default, parsed from the table's own text. */
static void apply_defaults(struct config_parser *p, enum config_section section, void *base)
{
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (keys[i].section == section && keys[i].dflt)
            (void)keys[i].parse(p, &keys[i], base, keys[i].dflt); /* test_config checks them */
}

void config_defaults(struct config *cfg)
{
    char err[256];
    struct config_parser p = {.cfg = cfg, .err = err, .errlen = sizeof(err)};
    config_free(cfg);
    memset(cfg, 0, sizeof(*cfg));
    apply_defaults(&p, CONFIG_SECTION_SERVER, cfg);
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
    if (paths_reserve(p->cfg, p->cfg->n_paths + 1) < 0)
        return fail(p, NULL, "out of memory for [path %s]", name);
    struct config_path *path = &p->cfg->paths[p->cfg->n_paths++];
    memset(path, 0, sizeof(*path));
    apply_defaults(p, CONFIG_SECTION_PATH, path);
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
        return fail(p, key, "key outside a section (start with [server] or [path NAME])");
    const struct config_key *k =
        find_key(p->path ? CONFIG_SECTION_PATH : CONFIG_SECTION_SERVER, key);
    if (!k)
        return fail(p, key, "unknown key in [%s]", p->path ? "path" : "server");
    return k->parse(p, k, p->path ? (void *)p->path : (void *)p->cfg, value);
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

/* The TURN credentials come from one source, whole, and a TURN URL has them. */
static int check_ice_credentials(const struct config *cfg, char *err, size_t errlen)
{
    int fixed = cfg->ice_username[0] || cfg->ice_credential[0];
    const char *why = NULL;
    if (fixed && cfg->turn_secret[0])
        why = "turn_secret: set either turn_secret or ice_username and ice_credential, not both";
    else if (fixed && !(cfg->ice_username[0] && cfg->ice_credential[0]))
        why = "ice_username: ice_username and ice_credential go together";
    for (size_t i = 0; !why && !fixed && !cfg->turn_secret[0] && i < cfg->n_ice_servers; i++)
        if (iceservers_url_is_turn(cfg->ice_servers[i]))
            why = "ice_servers: a turn: URL needs turn_secret or ice_username and ice_credential";
    if (why)
        snprintf(err, errlen, "%s: %s", cfg->file, why);
    return why ? -EINVAL : 0;
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
    if (check_ice_credentials(cfg, err, errlen) < 0)
        return -EINVAL;
    if ((unsigned)cfg->udp_port_base + cfg->workers > 65535) {
        snprintf(err, errlen, "%s: udp_port_base: %u + %u workers exceeds 65535", file,
                 cfg->udp_port_base, cfg->workers);
        return -EINVAL;
    }
    if (config_tcp_port_base(cfg) + cfg->workers > 65535) {
        snprintf(err, errlen, "%s: tcp_port_base: %u + %u workers exceeds 65535", file,
                 config_tcp_port_base(cfg), cfg->workers);
        return -EINVAL;
    }
    return 0;
}
