/* SPDX-License-Identifier: MIT */
/* md5sum.h: MD5 (RFC 1321) for RTSP's Digest authentication (RFC 2617), without OpenSSL: the
 * ingest of file: and rtsp:// sources must not load libcrypto, whose relocated pages cost
 * every process ~400 KiB of private memory. The prefix is md5sum_ because libre exports md5. */
#ifndef RINGCAST_COMMON_MD5SUM_H
#define RINGCAST_COMMON_MD5SUM_H

#include <stddef.h>
#include <stdint.h>

#define MD5SUM_LEN 16

/* A running digest. Plain memory: the caller owns it; nothing to free. */
struct md5sum {
    uint32_t h[4];
    uint64_t len;    /* bytes absorbed so far */
    uint8_t buf[64]; /* the partial block: len % 64 bytes */
};

/* Starts an empty message. Can't fail. */
void md5sum_init(struct md5sum *m);

/* Appends p[0..n) to the message. Can't fail. */
void md5sum_update(struct md5sum *m, const void *p, size_t n);

/* Pads the message (RFC 1321 3.1-3.2) and writes its digest into out; m is spent. */
void md5sum_final(struct md5sum *m, uint8_t out[MD5SUM_LEN]);

#endif
