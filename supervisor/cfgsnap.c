/* SPDX-License-Identifier: MIT */
/* cfgsnap.c: writing the children's copy of the running config, every key printed by its
 * entry in config.h's table. Values written are values config_load accepted, so they hold no
 * newline and no " ;" comment marker to escape. Secrets go only into this mode-0600 file. */
#include "supervisor/cfgsnap.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/sbuf.h"

int cfgsnap_path(char *out, size_t len, const struct config *cfg)
{
    if ((size_t)snprintf(out, len, "%s.conf", cfg->control_socket) >= len)
        return -ENAMETOOLONG;
    return 0;
}

/* One "key = value" line for each key of section that is set at base. */
static void section_lines(struct sbuf *b, enum config_section section, const void *base)
{
    size_t n;
    const struct config_key *keys = config_keys(&n);
    char value[CONFIG_VALUE_MAX];
    for (size_t i = 0; i < n; i++) {
        if (keys[i].section != section)
            continue;
        int len = keys[i].format(&keys[i], base, value, sizeof(value));
        if (len < 0)
            b->overflow = true;
        else if (len > 0)
            sbuf_printf(b, "%s = %s\n", keys[i].name, value);
    }
}

int cfgsnap_format(char *buf, size_t len, const struct config *cfg)
{
    struct sbuf b;
    sbuf_init(&b, buf, len);
    sbuf_printf(&b, "; written by the ringcast supervisor from %s; edit that file instead\n",
                cfg->file);
    sbuf_printf(&b, "[server]\n");
    section_lines(&b, CONFIG_SECTION_SERVER, cfg);
    for (size_t i = 0; i < cfg->n_paths; i++) {
        sbuf_printf(&b, "\n[path %s]\n", cfg->paths[i].name);
        section_lines(&b, CONFIG_SECTION_PATH, &cfg->paths[i]);
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
