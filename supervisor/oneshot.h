/* SPDX-License-Identifier: MIT */
/* oneshot.h: a tiny request/response stream server for the supervisor's control socket (unix)
 * and the load balancer's agent check (TCP; /metrics is served by common/httpd.c): read one
 * request, write one response, close. Each connection has a bounded request size and a
 * deadline, so a silent client cannot pin a handle. */
#ifndef RINGCAST_ONESHOT_H
#define RINGCAST_ONESHOT_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define ONESHOT_MAX_REQUEST 8192
#define ONESHOT_TIMEOUT_MS  5000

/* Called with everything read so far, the first time on accepting with nothing read (len 0),
 * where a server that speaks first answers. Returns 0 to read more, or 1 with *out set to a
 * malloc'd response of *outlen bytes (the server frees it), or -errno to drop the client. fd
 * is the connection's descriptor, for a responder that has its re-executed self answer. */
typedef int (*oneshot_respond_fn)(void *arg, int fd, const uint8_t *req, size_t len, char **out,
                                  size_t *outlen);

struct oneshot_conn;

struct oneshot_server {
    union {
        uv_handle_t handle;
        uv_stream_t stream;
        uv_pipe_t pipe;
        uv_tcp_t tcp;
    } h;
    uv_loop_t *loop;
    const char *name; /* "control", "agent": for logs */
    oneshot_respond_fn respond;
    void *arg;
    struct oneshot_conn *conns; /* open connections, closed with the server */
};

/* Listens on a unix socket at path with the given mode. A stale socket file (no listener)
 * is replaced; a live one gives UV_EADDRINUSE. 0 or a libuv error code. */
int oneshot_listen_unix(struct oneshot_server *s, uv_loop_t *loop, const char *path, unsigned mode);
/* Listens on TCP host:port (an IPv4 or IPv6 literal). 0 or a libuv error code. */
int oneshot_listen_tcp(struct oneshot_server *s, uv_loop_t *loop, const char *host, uint16_t port);
/* Listens on fd, an already listening unix or TCP socket (handed across a re-exec). 0 or a
 * libuv error code. */
int oneshot_open(struct oneshot_server *s, uv_loop_t *loop, int fd);
/* The listening socket's descriptor (to hand across a re-exec), or -1. */
int oneshot_fd(const struct oneshot_server *s);
/* Closes the listener and every connection. unlink_path (a unix socket's file) is unlinked
 * unless NULL. */
void oneshot_close(struct oneshot_server *s, const char *unlink_path);

#endif
