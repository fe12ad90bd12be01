/* SPDX-License-Identifier: MIT */
/* fuzz_loadgen_http.c: the load generator's HTTP response parser on arbitrary bytes (what a
 * broken or hostile WHEP server could answer): never reads out of bounds, and a complete
 * result is self-consistent (headers within the input, body within the limit), and a Location
 * the loadgen accepts splits into a host and a path. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tools/loadgen/lg_http.c"

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t len)
{
    struct lg_http_resp r;
    int rc = lg_http_parse_response(p, len, &r);
    if (rc == 1) {
        if (r.hdr_len == 0 || r.hdr_len > len || r.status < 100 || r.status > 999)
            abort();
        if (r.has_clen && (r.clen > LG_HTTP_MAX_BODY || len - r.hdr_len < r.clen))
            abort();
        if (memchr(r.location, '\0', sizeof(r.location)) == NULL)
            abort();
        struct lg_http_url u;
        if (lg_http_url_split(r.location, &u) == 0 &&
            (u.path[0] != '/' || !memchr(u.host, '\0', sizeof(u.host))))
            abort();
    } else if (rc != 0 && rc != -EBADMSG && rc != -EMSGSIZE) {
        abort();
    }
    return 0;
}
