/* SPDX-License-Identifier: MIT */
/* fuzz_rtsp_response.c: an RTSP response from a hostile server: rtsp_response_parse must
 * stay inside the bytes it was given, and what it returns must be consistent (length within
 * the input, body inside it, strings terminated); the headers the client then reads
 * (WWW-Authenticate, Transport, Public) go through their parsers too. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rtsp/auth.h"
#include "rtsp/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct rtsp_response r;
    /* A heap copy of exactly size bytes: ASan catches any read past the end. */
    uint8_t *p = malloc(size ? size : 1);
    if (!p)
        return 0;
    memcpy(p, data, size);
    int n = rtsp_response_parse(&r, p, size);
    if (n > 0) {
        if ((size_t)n > size || r.body < p || r.body + r.body_len != p + n)
            abort();
        if (r.status < 100 || r.status > 599 || strlen(r.session) >= sizeof(r.session))
            abort();
        const char *vals[RTSP_AUTH_HDR_MAX];
        for (unsigned i = 0; i < r.n_auth; i++)
            vals[i] = r.www_auth[i];
        struct rtsp_auth a;
        if (rtsp_auth_challenge(&a, vals, r.n_auth) == 0) {
            char out[2048];
            (void)rtsp_auth_header(&a, "user", "pass", "DESCRIBE", "rtsp://h/x", "c0ffee", out,
                                   sizeof(out));
        }
        struct rtsp_transport t;
        rtsp_transport_parse(&t, r.transport);
        (void)rtsp_list_has(r.publics, "GET_PARAMETER");
        struct rtsp_url u;
        if (rtsp_url_parse(&u, r.location) == 0) {
            char s[RTSP_URL_MAX + 300];
            if (rtsp_url_format(&u, s, sizeof(s)) < 0)
                abort(); /* a parsed URL always fits formatting */
        }
        char red[128];
        rtsp_url_redact(r.location, red, sizeof(red));
    } else if (n < 0 && n != -EBADMSG && n != -EMSGSIZE) {
        abort();
    }
    free(p);
    return 0;
}
