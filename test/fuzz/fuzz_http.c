/* SPDX-License-Identifier: MIT */
/* fuzz_http.c: httpd_parse_request on arbitrary bytes, whole and split at every eighth
 * offset as reads would deliver them: never reads out of bounds, consumes no more than it
 * was given, and never accepts a body over the limit. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/httpd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A private copy: the parser must not read past size (ASan sees the exact bounds). */
    uint8_t *p = malloc(size ? size : 1);
    if (!p)
        return 0;
    memcpy(p, data, size);
    struct httpd_request req;
    int n = httpd_parse_request(p, size, &req);
    if (n > 0 && ((size_t)n > size || req.body_len > HTTPD_MAX_BODY ||
                  req.body + req.body_len > p + size || req.path[0] != '/'))
        abort();
    for (size_t cut = 0; cut < size; cut += 8) {
        int m = httpd_parse_request(p, cut, &req);
        if (m > 0 && (size_t)m > cut)
            abort();
    }
    free(p);
    return 0;
}
