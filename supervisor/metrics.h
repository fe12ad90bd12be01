/* SPDX-License-Identifier: MIT */
/* metrics.h: Prometheus text exposition (format 0.0.4) of the control segment: every
 * child's counters labelled by path or worker, its up state, restarts and heartbeat age;
 * served at GET /metrics on metrics_listen. */
#ifndef RINGCAST_METRICS_H
#define RINGCAST_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "common/httpd.h"
#include "shm/ctl.h"

/* The exposition text for ctl into buf: length, or -ENOSPC. */
int metrics_text(char *buf, size_t len, const struct ctl_hdr *ctl);

struct metrics_server {
    struct httpd_server srv;   /* common/httpd.c's server, without SO_REUSEPORT */
    const struct ctl_hdr *ctl; /* borrowed */
};

/* Serves /metrics on host:port (HTTP/1.1 keep-alive, HEAD, the limits and timeouts of
 * common/httpd.h). 0 or a libuv error code. */
int metrics_listen(struct metrics_server *m, uv_loop_t *loop, const struct ctl_hdr *ctl,
                   const char *host, uint16_t port);
/* The same on fd, the listening socket a re-executed supervisor inherited. */
int metrics_open(struct metrics_server *m, uv_loop_t *loop, const struct ctl_hdr *ctl, int fd);
/* The listening socket's descriptor (to hand across a re-exec), or -1. */
int metrics_fd(const struct metrics_server *m);
void metrics_close(struct metrics_server *m);

#endif
