/* SPDX-License-Identifier: MIT */
/* text.h: the small text parsers every process needs (numbers from the command line and
 * config, hex digits in fingerprints and URLs, percent-decoding). Strict: no sign, no spaces,
 * no trailing junk. */
#ifndef RINGCAST_TEXT_H
#define RINGCAST_TEXT_H

#include <stddef.h>

/* Parses a decimal number in [min, max] from the whole of s. 0 or -EINVAL. */
int text_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out);

/* The value of a hex digit (either case), or -1. */
int text_hex_digit(char c);

/* Percent-decodes s[0..n) (RFC 3986 2.1) into out with a terminating NUL. Returns the decoded
 * length, or -EINVAL for a '%' without two hex digits after it, for %00 (no C string holds
 * it) and for an out of cap bytes too small. */
int text_pct_decode(char *out, size_t cap, const char *s, size_t n);
/* The same, but a '%' without two hex digits stays as it is, as lenient decoders (a browser,
 * a file lookup) keep it: for checks of what another decoder could make of s. */
int text_pct_decode_lenient(char *out, size_t cap, const char *s, size_t n);

#endif
