/* SPDX-License-Identifier: MIT */
/* cfgsnap.c: writing the children's copy of the running config. Values written are values
 * config_load accepted, so they hold no newline and no " ;" comment marker to escape. */
#include "supervisor/cfgsnap.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/sbuf.h"

int cfgsnap_path(char *out, size_t len, const struct config *cfg)
{
    if ((size_t)snprintf(out, len, "%s.conf", cfg->control_socket) >= len)
        return -ENAMETOOLONG;
    return 0;
}

static void address_list_line(struct sbuf *b, const char *key,
                              const char list[CONFIG_MAX_ADDRESSES][64], size_t n)
{
    for (size_t i = 0; i < n; i++)
        sbuf_printf(b, "%s%s%s%s", i ? "" : key, i ? ", " : " = ", list[i], i + 1 == n ? "\n" : "");
}

static void listen_line(struct sbuf *b, const char *key, const char *host, unsigned port)
{
    /* An IPv6 literal needs brackets to keep its colons apart from the port's. */
    if (strchr(host, ':'))
        sbuf_printf(b, "%s = [%s]:%u\n", key, host, port);
    else
        sbuf_printf(b, "%s = %s:%u\n", key, host, port);
}

static void optional(struct sbuf *b, const char *key, const char *value)
{
    if (value[0])
        sbuf_printf(b, "%s = %s\n", key, value);
}

int cfgsnap_format(char *buf, size_t len, const struct config *cfg)
{
    static const char *const levels[] = {"debug", "info", "warn", "error"};
    struct sbuf b;
    sbuf_init(&b, buf, len);
    sbuf_printf(&b, "; written by the ringcast supervisor from %s; edit that file instead\n",
                cfg->file);
    sbuf_printf(&b, "[server]\n");
    listen_line(&b, "http_listen", cfg->http_host, cfg->http_port);
    listen_line(&b, "metrics_listen", cfg->metrics_host, cfg->metrics_port);
    sbuf_printf(&b, "control_socket = %s\nworkers = %u\nudp_port_base = %u\n", cfg->control_socket,
                cfg->workers, (unsigned)cfg->udp_port_base);
    address_list_line(&b, "public_addresses", cfg->public_addresses, cfg->n_public_addresses);
    address_list_line(&b, "trusted_proxies", cfg->trusted_proxies, cfg->n_trusted_proxies);
    sbuf_printf(&b, "max_viewers_per_worker = %u\nmax_setups_per_address = %u\n",
                cfg->max_viewers_per_worker, cfg->max_setups_per_address);
    sbuf_printf(&b, "mtu = %u\nlog_level = %s\n", cfg->mtu,
                levels[cfg->log_level <= LOG_ERROR ? cfg->log_level : LOG_INFO]);
    sbuf_printf(&b, "shm_prefix = %s\nring_mb = %u\n", cfg->shm_prefix, cfg->ring_mb);
    optional(&b, "api_token", cfg->api_token);
    for (size_t i = 0; i < cfg->n_paths; i++) {
        const struct config_path *p = &cfg->paths[i];
        sbuf_printf(&b, "\n[path %s]\nsource = %s\ntransport = %s\n", p->name, p->source,
                    p->transport == TRANSPORT_UDP ? "udp" : "tcp");
        optional(&b, "username", p->username);
        optional(&b, "password", p->password);
        optional(&b, "read_token", p->read_token);
        if (p->fps)
            sbuf_printf(&b, "fps = %u\n", p->fps);
    }
    return sbuf_result(&b);
}

int cfgsnap_write(const struct config *cfg, const char *path)
{
    size_t cap = 4096 + cfg->n_paths * (sizeof(cfg->paths[0]) + 128);
    char *buf = malloc(cap);
    char tmp[PATH_MAX];
    if (!buf)
        return -ENOMEM;
    int n = cfgsnap_format(buf, cap, cfg);
    int err = n < 0 ? n : 0;
    if (!err && (size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
        err = -ENAMETOOLONG;
    int fd = err ? -1 : open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (!err && fd < 0)
        err = -errno;
    if (!err && write(fd, buf, (size_t)n) != n)
        err = errno ? -errno : -EIO;
    if (fd >= 0 && close(fd) < 0 && !err)
        err = -errno;
    /* rename() is atomic: a child reading the file sees the old or the new config, whole. */
    if (!err && rename(tmp, path) < 0)
        err = -errno;
    if (err && fd >= 0)
        unlink(tmp);
    free(buf);
    return err;
}
