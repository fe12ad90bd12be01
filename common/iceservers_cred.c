/* SPDX-License-Identifier: MIT */
/* iceservers_cred.c: TURN REST credentials (HMAC-SHA1 over the username, keyed with the secret
 * coturn shares), apart from iceservers.c: only the programs that answer WHEP and WHIP link
 * it, and with it OpenSSL. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/hmac_sha1.h"
#include "common/iceservers.h"

void iceservers_rest_cred(struct iceservers_cred *out, const char *secret, uint64_t expiry,
                          const uint8_t rnd[8])
{
    struct hmacsha1 h;
    uint8_t mac[HMACSHA1_LEN];
    snprintf(out->username, sizeof(out->username), "%" PRIu64 ":%02x%02x%02x%02x%02x%02x%02x%02x",
             expiry, rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
    hmacsha1_init(&h, secret, strlen(secret));
    hmacsha1_mac(&h, out->username, strlen(out->username), NULL, 0, mac);
    _Static_assert(sizeof(out->credential) > 4 * ((HMACSHA1_LEN + 2) / 3), "base64 room");
    EVP_EncodeBlock((unsigned char *)out->credential, mac, sizeof(mac));
    OPENSSL_cleanse(&h, sizeof(h));
}
