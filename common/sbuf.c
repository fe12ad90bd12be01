/* SPDX-License-Identifier: MIT */
/* sbuf.c: bounded text building for the reports; nothing here allocates. */
#include "common/sbuf.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>

void sbuf_init(struct sbuf *b, char *p, size_t cap)
{
    b->p = p;
    b->cap = cap;
    b->len = 0;
    b->overflow = cap == 0;
    if (cap)
        p[0] = '\0';
}

void sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
    if (b->overflow)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= b->cap - b->len) {
        b->overflow = true;
        b->p[b->len] = '\0'; /* never leave half an item behind */
        return;
    }
    b->len += (size_t)n;
}

void sbuf_json_str(struct sbuf *b, const char *s)
{
    for (; *s && !b->overflow; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            sbuf_printf(b, "\\%c", c);
        else if (c < 0x20)
            sbuf_printf(b, "\\u%04x", c);
        else
            sbuf_printf(b, "%c", c);
    }
}

int sbuf_result(const struct sbuf *b)
{
    if (b->overflow || b->len > INT_MAX)
        return -ENOSPC;
    return (int)b->len;
}
