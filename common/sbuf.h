/* SPDX-License-Identifier: MIT */
/* sbuf.h: appending formatted text to a caller's fixed buffer, remembering overflow, so
 * report builders (status JSON and tables, /metrics) check for truncation once at the end. */
#ifndef RINGCAST_SBUF_H
#define RINGCAST_SBUF_H

#include <stdbool.h>
#include <stddef.h>

struct sbuf {
    char *p; /* borrowed; always NUL-terminated once len > 0 */
    size_t cap;
    size_t len;
    bool overflow; /* something did not fit: the text is incomplete */
};

void sbuf_init(struct sbuf *b, char *p, size_t cap);
void sbuf_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as the inside of a JSON string (quotes, backslashes, control characters). */
void sbuf_json_str(struct sbuf *b, const char *s);
/* Length written, or -ENOSPC on overflow. */
int sbuf_result(const struct sbuf *b);

#endif
