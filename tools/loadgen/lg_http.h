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

/* The path part of a Location value ("/a/b" from "http://h:1/a/b" or "/a/b"), written
 * to out (NUL-terminated). Returns 0, or -EINVAL if there is none or it does not fit. */
int lg_http_location_path(const char *location, char *out, size_t outlen);

#endif
