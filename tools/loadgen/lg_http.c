/* SPDX-License-Identifier: MIT */
/* lg_http.c: HTTP/1.1 response parsing for the load generator's WHEP client. It reads
 * only what a WHEP answer needs (status, Content-Length, Location) and refuses anything
 * outside the limits instead of guessing. */
#include "tools/loadgen/lg_http.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "common/head.h"

#define LG_HTTP_MAX_HEADER 16384

/* Content-Length: digits only (no sign, no list), capped so that it cannot overflow. */
static int http_parse_clen(const uint8_t *v, size_t n, size_t *out)
{
    size_t val = 0;
    if (n == 0)
        return -EBADMSG;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -EBADMSG;
        val = val * 10 + (size_t)(v[i] - '0');
        if (val > LG_HTTP_MAX_BODY)
            return -EMSGSIZE;
    }
    *out = val;
    return 0;
}

static int http_status_line(const uint8_t *p, size_t n, int *status)
{
    /* "HTTP/1.x SSS" then an optional reason. */
    if (n < 12 || memcmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ')
        return -EBADMSG;
    int s = 0;
    for (int i = 9; i < 12; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -EBADMSG;
        s = s * 10 + (p[i] - '0');
    }
    if (s < 100 || (n > 12 && p[12] != ' '))
        return -EBADMSG;
    *status = s;
    return 0;
}

static int http_header_line(const uint8_t *p, size_t n, struct lg_http_resp *out)
{
    const uint8_t *colon = memchr(p, ':', n);
    if (!colon || colon == p)
        return -EBADMSG;
    size_t nlen = (size_t)(colon - p);
    const uint8_t *v = colon + 1;
    size_t vlen = n - nlen - 1;
    while (vlen && (*v == ' ' || *v == '\t'))
        v++, vlen--;
    while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
        vlen--;

    if (nlen == 14 && strncasecmp((const char *)p, "Content-Length", 14) == 0) {
        size_t clen;
        int err = http_parse_clen(v, vlen, &clen);
        if (err)
            return err;
        if (out->has_clen && out->clen != clen)
            return -EBADMSG; /* RFC 9112 6.3: conflicting lengths are an error */
        out->has_clen = 1;
        out->clen = clen;
    } else if (nlen == 8 && strncasecmp((const char *)p, "Location", 8) == 0) {
        if (vlen >= sizeof(out->location))
            return -EMSGSIZE;
        memcpy(out->location, v, vlen);
        out->location[vlen] = '\0';
    } else if (nlen == 17 && strncasecmp((const char *)p, "Transfer-Encoding", 17) == 0) {
        return -EBADMSG; /* a WHEP answer has a length; chunked bodies are not expected */
    }
    return 0;
}

int lg_http_parse_response(const uint8_t *p, size_t len, struct lg_http_resp *out)
{
    memset(out, 0, sizeof(*out));
    long hl = head_end(p, len, LG_HTTP_MAX_HEADER); /* CRLF or bare LF lines, RFC 9112 2.2 */
    if (hl <= 0)
        return (int)hl;
    size_t hlen = (size_t)hl;

    size_t pos = 0;
    int line_no = 0;
    while (pos < hlen) {
        const uint8_t *nl = memchr(p + pos, '\n', hlen - pos);
        if (!nl)
            return -EBADMSG;
        size_t n = (size_t)(nl - (p + pos));
        if (n && p[pos + n - 1] == '\r')
            n--;
        if (n == 0)
            break; /* the blank line */
        int err = line_no == 0 ? http_status_line(p + pos, n, &out->status)
                               : http_header_line(p + pos, n, out);
        if (err)
            return err;
        line_no++;
        pos = (size_t)(nl - p) + 1;
    }
    if (line_no == 0)
        return -EBADMSG;
    out->hdr_len = hlen;
    if (!out->has_clen)
        return 1;
    return len - hlen >= out->clen ? 1 : 0;
}

int lg_http_url_split(const char *url, struct lg_http_url *out)
{
    memset(out, 0, sizeof(*out));
    const char *path = url;
    if (strncmp(url, "https://", 8) == 0)
        return -EPROTONOSUPPORT;
    if (strncmp(url, "http://", 7) == 0) {
        const char *host = url + 7;
        path = strchr(host, '/');
        if (!path)
            return -EINVAL;
        const char *colon = memchr(host, ':', (size_t)(path - host));
        const char *end = colon ? colon : path;
        if (end == host || (size_t)(end - host) >= sizeof(out->host))
            return -EINVAL;
        memcpy(out->host, host, (size_t)(end - host));
        unsigned port = 80;
        if (colon) {
            port = 0;
            if (colon + 1 == path || path - colon > 6)
                return -EINVAL;
            for (const char *d = colon + 1; d < path; d++) {
                if (*d < '0' || *d > '9')
                    return -EINVAL;
                port = port * 10 + (unsigned)(*d - '0');
            }
            if (port == 0 || port > 65535)
                return -EINVAL;
        }
        out->port = (uint16_t)port;
    }
    if (path[0] != '/' || strlen(path) >= sizeof(out->path))
        return -EINVAL;
    memcpy(out->path, path, strlen(path) + 1);
    return 0;
}
