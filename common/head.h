/* SPDX-License-Identifier: MIT */
/* head.h: what HTTP/1.1 and RTSP/1.0 messages share, RTSP having taken HTTP's syntax (RFC 2326
 * 4, RFC 9112 2): where a message's head ends, and the reason phrases of the status codes our
 * servers send. Pure functions on bytes: no I/O, no allocation, no logging. */
#ifndef RINGCAST_HEAD_H
#define RINGCAST_HEAD_H

#include <stddef.h>
#include <stdint.h>

/* The length of the head at p (start line and header lines through the blank line that ends
 * them; a line ends in CRLF or a bare LF, RFC 9112 2.2), 0 while it has not ended within len
 * bytes, -EMSGSIZE when it does not end within max bytes. */
long head_end(const uint8_t *p, size_t len, size_t max);

/* The reason phrase of status (RFC 9110 15, and RFC 2326 7.1.1's RTSP codes 454-461), or
 * "Unknown". */
const char *head_reason(int status);

#endif
