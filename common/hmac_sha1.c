/* SPDX-License-Identifier: MIT */
/* hmac_sha1.c: HMAC-SHA1 (RFC 2104) on OpenSSL's low-level SHA-1. OpenSSL 3.0's EVP digest and
 * MAC paths allocate a provider context on every init (EVP_DigestInit 1, EVP_MAC_init 5, HMAC()
 * 13 allocations); SHA_CTX is plain memory, so a keyed state is two of them, copied per message. */
#include "common/hmac_sha1.h"

#include <string.h>

/* The SHA1_* functions are deprecated in 3.0 but remain the only allocation-free SHA-1. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/sha.h>

#define HMACSHA1_BLOCK 64 /* SHA-1's block, B in RFC 2104 2 */

_Static_assert(sizeof(SHA_CTX) == sizeof(((struct hmacsha1 *)0)->inner), "SHA_CTX size");
_Static_assert(HMACSHA1_LEN == SHA_DIGEST_LENGTH, "SHA-1 digest size");

/* One of the two padded-key states: SHA-1 after absorbing the block-sized key XOR pad. */
static void hmacsha1_pad(unsigned char *state, const uint8_t key[HMACSHA1_BLOCK], uint8_t pad)
{
    uint8_t block[HMACSHA1_BLOCK];
    SHA_CTX c;
    for (size_t i = 0; i < sizeof(block); i++)
        block[i] = key[i] ^ pad;
    SHA1_Init(&c);
    SHA1_Update(&c, block, sizeof(block));
    memcpy(state, &c, sizeof(c));
    OPENSSL_cleanse(block, sizeof(block));
    OPENSSL_cleanse(&c, sizeof(c));
}

void hmacsha1_init(struct hmacsha1 *h, const void *key, size_t len)
{
    /* RFC 2104 2: the key zero-padded to the block, or its hash if longer than a block. */
    uint8_t k[HMACSHA1_BLOCK] = {0};
    if (len > sizeof(k)) {
        /* Not SHA1(), which 3.0 routes through EVP_Q_digest and its allocations. */
        SHA_CTX c;
        SHA1_Init(&c);
        SHA1_Update(&c, key, len);
        SHA1_Final(k, &c);
    } else if (len) {
        memcpy(k, key, len);
    }
    hmacsha1_pad(h->inner, k, 0x36);
    hmacsha1_pad(h->outer, k, 0x5c);
    OPENSSL_cleanse(k, sizeof(k));
}

void hmacsha1_mac(const struct hmacsha1 *h, const void *a, size_t a_len, const void *b,
                  size_t b_len, uint8_t mac[HMACSHA1_LEN])
{
    SHA_CTX c;
    memcpy(&c, h->inner, sizeof(c));
    SHA1_Update(&c, a, a_len);
    if (b_len)
        SHA1_Update(&c, b, b_len);
    SHA1_Final(mac, &c);
    memcpy(&c, h->outer, sizeof(c));
    SHA1_Update(&c, mac, HMACSHA1_LEN);
    SHA1_Final(mac, &c);
}
