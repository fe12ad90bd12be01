/* SPDX-License-Identifier: MIT */
/* text.h: the small text parsers every process needs (numbers from the command line and
 * config, hex digits in fingerprints and URLs). Strict: no sign, no spaces, no trailing junk. */
#ifndef RINGCAST_TEXT_H
#define RINGCAST_TEXT_H

/* Parses a decimal number in [min, max] from the whole of s. 0 or -EINVAL. */
int text_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out);

/* The value of a hex digit (either case), or -1. */
int text_hex_digit(char c);

#endif
