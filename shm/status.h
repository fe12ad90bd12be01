/* SPDX-License-Identifier: MIT */
/* status.h: the status, paths and workers reports (JSON for scripts and GET /v1/status,
 * human tables for ringcastctl), built only from the control segment and the config.
 * No supervisor state: the egress workers call it too, on their own mapping and config. */
#ifndef RINGCAST_SHM_STATUS_H
#define RINGCAST_SHM_STATUS_H

#include <stddef.h>

#include "common/config.h"
#include "shm/ctl.h"

enum status_view {
    STATUS_VIEW_STATUS = 0, /* supervisor, totals, paths and workers */
    STATUS_VIEW_PATHS,      /* {"paths":[...]} */
    STATUS_VIEW_WORKERS,    /* {"workers":[...]} */
};

/* Writes the view as one JSON object (with a trailing newline) into buf. Reads ctl with
 * relaxed loads; never writes it. Returns the length written (excluding the NUL), or
 * -ENOSPC if buf is too small (16 KiB holds a few paths and workers, 128 KiB any config). */
int status_json(char *buf, size_t len, const struct ctl_hdr *ctl, const struct config *cfg,
                enum status_view view);

/* The same view as aligned text tables for people (ringcastctl without --json). */
int status_text(char *buf, size_t len, const struct ctl_hdr *ctl, const struct config *cfg,
                enum status_view view);

#endif
