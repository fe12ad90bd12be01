/* SPDX-License-Identifier: MIT */
/* text.c: strict number, hex-digit and percent-escape parsing shared by config, command lines
 * and parsers. */
#include "common/text.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

int text_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
    char *end;
    if (!isdigit((unsigned char)*s))
        return -EINVAL;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -EINVAL;
    *out = v;
    return 0;
}

int text_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int pct_decode(char *out, size_t cap, const char *s, size_t n, bool keep_bad)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            int hi = i + 2 < n ? text_hex_digit(s[i + 1]) : -1;
            int lo = hi >= 0 ? text_hex_digit(s[i + 2]) : -1;
            if (lo >= 0) {
                c = (char)(hi << 4 | lo);
                i += 2;
            } else if (!keep_bad) {
                return -EINVAL;
            }
        }
        if (c == '\0' || o + 1 >= cap)
            return -EINVAL;
        out[o++] = c;
    }
    if (cap == 0)
        return -EINVAL;
    out[o] = '\0';
    return (int)o;
}

int text_pct_decode(char *out, size_t cap, const char *s, size_t n)
{
    return pct_decode(out, cap, s, n, false);
}

int text_pct_decode_lenient(char *out, size_t cap, const char *s, size_t n)
{
    return pct_decode(out, cap, s, n, true);
}
