/* SPDX-License-Identifier: MIT */
/* cfgsnap.h: the config the children read. The supervisor writes each config it accepts
 * (file: sources already absolute) to one file beside its control socket and starts children
 * with -c on that file, so a child restarted after a refused reload gets the running config,
 * never the broken file on disk; SIGHUPed workers re-read it after a reload. */
#ifndef RINGCAST_CFGSNAP_H
#define RINGCAST_CFGSNAP_H

#include <stddef.h>

#include "common/config.h"

/* The snapshot's name for cfg: "<control_socket>.conf". 0 or -ENAMETOOLONG. */
int cfgsnap_path(char *out, size_t len, const struct config *cfg);

/* Formats cfg as a config file that config_load reads back into the same settings. Returns
 * the length, or -ENOSPC. */
int cfgsnap_format(char *buf, size_t len, const struct config *cfg);

/* Writes cfg to path atomically (a temporary file, then rename), mode 0600 because it may
 * hold RTSP passwords. 0 or -errno. */
int cfgsnap_write(const struct config *cfg, const char *path);

#endif
