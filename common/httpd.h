/* SPDX-License-Identifier: MIT */
/* httpd.h: the HTTP/1.1 server of the egress workers (one SO_REUSEPORT listener per worker
 * on the shared port) and of the supervisor's /metrics: keep-alive connections, header/body
 * size limits and timeouts. Requests are parsed with libre's http_msg_decode behind our own
 * limits; routing belongs to the caller's handler (egress/whep.c, supervisor/metrics.c). */
#ifndef RINGCAST_HTTPD_H
#define RINGCAST_HTTPD_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define HTTPD_MAX_HEADER     (16u * 1024) /* request line + headers */
#define HTTPD_MAX_BODY       (64u * 1024)
#define HTTPD_HEADER_TIMEOUT 10000 /* ms from a request's first byte to its last header */
#define HTTPD_IDLE_TIMEOUT   30000 /* ms a keep-alive connection may sit idle */
#define HTTPD_DEFER_TIMEOUT  2000  /* ms a deferred request may wait by default (defer_ms) */
#define HTTPD_DEFERRED       0     /* response status meaning "answered later" */
#define HTTPD_MAX_CONNS      4096  /* open connections per worker; more are closed at once */

/* One parsed request. Strings are NUL-terminated copies (truncated values are refused by
 * the parser, not cut); body points into the caller's buffer. */
struct httpd_request {
    char method[16];
    char path[512]; /* without the query string, not percent-decoded */
    char content_type[128];
    char authorization[512];
    char if_match[128];
    int keep_alive; /* HTTP/1.1 without "Connection: close", or 1.0 with keep-alive */
    int preflight;  /* carries Access-Control-Request-Method: a browser's CORS preflight */
    const uint8_t *body;
    size_t body_len;
    char remote[64];    /* "1.2.3.4:5678", filled by the server for log lines */
    char remote_ip[48]; /* the same address without the port: "1.2.3.4", "::1" */
    uint64_t token;     /* names this request in httpd_complete */
};

/* A response the router fills; the server serializes and copies it. HEAD reaches the router
 * as GET (RFC 9110 9.3.2: the same answer without content), so routers only know GET. A
 * handler that leaves
 * status at HTTPD_DEFERRED answers later with httpd_complete(req->token); the connection
 * handles no further request meanwhile, and gets a 503 after defer_ms. */
struct httpd_response {
    int status;
    const char *content_type; /* static string, NULL for none */
    char headers[4096];       /* extra header lines, each ending in \r\n (ICE server Links) */
    size_t headers_len;
    const void *body; /* static, or owned below: read after the handler returns */
    size_t body_len;
    void *owned; /* heap memory behind body, free()d by the server once sent */
    int head;    /* set by the server for HEAD: Content-Length of the body, no body */
    unsigned
        defer_ms; /* HTTPD_DEFERRED: the server's own 503 after this; 0 = HTTPD_DEFER_TIMEOUT */
};

/* Parses one request from p (len bytes buffered so far). Returns the bytes it spans (> 0)
 * with *req filled, 0 when more bytes are needed, or a negative errno that maps to a status
 * with httpd_error_status(): -EMSGSIZE headers over 16 KiB, -EFBIG body over 64 KiB,
 * -ENOTSUP chunked or other transfer codings, -ENOENT a path with a ".." segment in any
 * spelling ("%2e%2e", "%252e."; 404), -EBADMSG anything unparsable, a control byte (NUL
 * included) in the request target among it. */
int httpd_parse_request(const uint8_t *p, size_t len, struct httpd_request *req);
int httpd_error_status(int err);

/* Appends a header line to r ("Name: value\r\n"); silently refuses overflow (the header block
 * is sized for the few headers we send). */
void httpd_add_header(struct httpd_response *r, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Sets status and a one-line text/plain reason body (static string or long-lived). */
void httpd_set_text(struct httpd_response *r, int status, const char *text);

typedef void (*httpd_handler_fn)(void *arg, const struct httpd_request *req,
                                 struct httpd_response *res);

struct httpd_server {
    uv_loop_t *loop;
    uint64_t next_token;
    uv_tcp_t listener;
    httpd_handler_fn handler;
    void *arg;
    unsigned n_conns;
    int listening;
    struct httpd_conn *conns; /* open connections, for closing at shutdown */
};

/* Binds host:port with SO_REUSEPORT and listens. 0 or a libuv error code. */
int httpd_server_start(struct httpd_server *s, uv_loop_t *loop, const char *host, uint16_t port,
                       httpd_handler_fn handler, void *arg);
/* The same for a port one process must own alone (the supervisor's /metrics): without
 * SO_REUSEPORT, so a second bind fails with UV_EADDRINUSE instead of sharing it. */
int httpd_server_start_exclusive(struct httpd_server *s, uv_loop_t *loop, const char *host,
                                 uint16_t port, httpd_handler_fn handler, void *arg);
/* Serves on fd, a TCP socket already bound and listening (handed across the supervisor's
 * re-exec). 0 or a libuv error code. */
int httpd_server_open(struct httpd_server *s, uv_loop_t *loop, int fd, httpd_handler_fn handler,
                      void *arg);
/* Answers the deferred request token. 0, or -ENOENT when its connection is gone or it was
 * already answered (timed out): the response is then dropped. */
int httpd_complete(struct httpd_server *s, uint64_t token, const struct httpd_response *res);
/* Whether the deferred request token still waits for its answer (its client is connected). */
int httpd_is_deferred(const struct httpd_server *s, uint64_t token);
/* Closes the listener and every connection; their memory goes in the close callbacks. */
void httpd_server_stop(struct httpd_server *s);

#endif
