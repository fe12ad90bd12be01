/* SPDX-License-Identifier: MIT */
/* hmac_sha1.h: HMAC-SHA1 (RFC 2104) with the key's inner and outer SHA-1 states computed
 * once, so that each message costs only its own blocks plus two, with no allocation and no
 * EVP. One implementation for SRTP's auth tags and STUN's MESSAGE-INTEGRITY. The prefix is
 * hmacsha1_ because libre exports hmac_sha1 and hmac_create. */
#ifndef RINGCAST_COMMON_HMAC_SHA1_H
#define RINGCAST_COMMON_HMAC_SHA1_H

#include <stddef.h>
#include <stdint.h>

#define HMACSHA1_LEN 20

/* A keyed state: two SHA-1 contexts (OpenSSL's SHA_CTX, 96 bytes each), opaque here so that
 * the deprecated low-level SHA-1 API stays inside hmac_sha1.c. Plain memory: the caller owns
 * it, copying it copies the key, and there is nothing to free. */
struct hmacsha1 {
    _Alignas(8) unsigned char inner[96]; /* after absorbing key XOR ipad */
    _Alignas(8) unsigned char outer[96]; /* after absorbing key XOR opad */
};

/* Keys h with key[0..len); a key longer than SHA-1's 64-byte block is hashed first (RFC 2104
 * 2). Can't fail. */
void hmacsha1_init(struct hmacsha1 *h, const void *key, size_t len);

/* The HMAC of the concatenation a[0..a_len) | b[0..b_len) (b may be NULL when b_len is 0)
 * into mac. Reads h, does not change it. Can't fail. */
void hmacsha1_mac(const struct hmacsha1 *h, const void *a, size_t a_len, const void *b,
                  size_t b_len, uint8_t mac[HMACSHA1_LEN]);

#endif
