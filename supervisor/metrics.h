/* metrics.h: Prometheus text exposition (format 0.0.4) of the control segment: every
 * child's counters labelled by path or worker, its up state, restarts and heartbeat age;
 * served at GET /metrics on metrics_listen. */
#ifndef RINGCAST_METRICS_H
#define RINGCAST_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shm/ctl.h"
#include "supervisor/oneshot.h"

#define METRICS_TARGET_MAX 256

struct metrics_req {
    bool get;                        /* GET or HEAD; anything else is answered 405 */
    bool head;                       /* HEAD: headers only */
    char target[METRICS_TARGET_MAX]; /* the path, without the query string */
};

/* Parses an HTTP/1.x request head. Returns the bytes through the blank line ending the
 * headers, 0 if that has not arrived yet, -EBADMSG for a malformed request line, -E2BIG
 * when the head exceeds ONESHOT_MAX_REQUEST. Headers themselves are not interpreted. */
int metrics_http_parse(const uint8_t *p, size_t len, struct metrics_req *out);

/* The exposition text for ctl into buf: length, or -ENOSPC. */
int metrics_text(char *buf, size_t len, const struct ctl_hdr *ctl);

struct metrics_server {
    struct oneshot_server srv;
    const struct ctl_hdr *ctl; /* borrowed */
};

/* Serves /metrics on host:port. 0 or a libuv error code. */
int metrics_listen(struct metrics_server *m, uv_loop_t *loop, const struct ctl_hdr *ctl,
                   const char *host, uint16_t port);
void metrics_close(struct metrics_server *m);

#endif
