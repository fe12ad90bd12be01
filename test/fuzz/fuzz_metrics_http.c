/* fuzz_metrics_http.c: the /metrics request-head parser on arbitrary bytes: 0 (more),
 * a head length within the input, or -EBADMSG/-E2BIG; a parsed target is a NUL-terminated
 * string without spaces or a query. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/metrics.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct metrics_req r;
    int rc = metrics_http_parse(data, size, &r);
    if (rc > 0) {
        size_t n = strnlen(r.target, sizeof(r.target));
        if ((size_t)rc > size || data[rc - 1] != '\n' || n == sizeof(r.target))
            abort();
        if (memchr(r.target, ' ', n) || memchr(r.target, '?', n))
            abort();
    } else if (rc < 0 && rc != -EBADMSG && rc != -E2BIG) {
        abort();
    }
    return 0;
}
