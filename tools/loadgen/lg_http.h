/* SPDX-License-Identifier: MIT */
/* lg_http.h: the load generator's HTTP/1.1 response parser (WHEP answers). Pure code over
 * bytes: no sockets, no allocation, every length distrusted. */
#ifndef LG_HTTP_H
#define LG_HTTP_H

#include <stddef.h>
#include <stdint.h>

#define LG_HTTP_MAX_BODY     65536 /* an SDP answer is a few KiB; anything larger is refused */
#define LG_HTTP_LOCATION_MAX 512

struct lg_http_resp {
    int status;                          /* 100..599 */
    size_t hdr_len;                      /* bytes up to and including the blank line */
    int has_clen;                        /* Content-Length seen */
    size_t clen;                         /* body length when has_clen */
    char location[LG_HTTP_LOCATION_MAX]; /* Location value, "" if absent */
};

/* Parses the status line and headers of the response at p[0..len).
 * Returns 1 when the headers and the whole body (per Content-Length) are present, 0 when
 * more bytes are needed, -EBADMSG on malformed input, -EMSGSIZE when the headers or the
 * announced body exceed the limits. Without Content-Length the body ends at EOF: the
 * caller decides (returns 1 once the headers are complete, has_clen = 0). */
int lg_http_parse_response(const uint8_t *p, size_t len, struct lg_http_resp *out);

/* A URL split for a request: "http://HOST[:PORT]/PATH" (port 80 unless given), or a path
 * alone ("/PATH": host "" means the server the request went to). */
struct lg_http_url {
    char host[64];
    uint16_t port;
    char path[LG_HTTP_LOCATION_MAX];
};

/* Splits url into out. Returns 0, -EPROTONOSUPPORT for https (no TLS here), or -EINVAL if it is
 * neither form or a part does not fit. */
int lg_http_url_split(const char *url, struct lg_http_url *out);

#endif
