/* SPDX-License-Identifier: MIT */
/* test_hmac_sha1.c: common/hmac_sha1.c against the seven HMAC-SHA1 vectors of RFC 2202 3
 * (each message also split at every point between the two parts), against OpenSSL's EVP HMAC
 * as the independent reference on random keys (0..200 bytes: below, at and above the block)
 * and messages, and for no allocation through OpenSSL while keying or computing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/hmac_sha1.h"

/* RFC 2202 3: key and data given as a byte repeated, or as text; the digest in hex. */
struct vector {
    uint8_t key_byte;
    size_t key_len;
    const char *key_text;
    uint8_t data_byte;
    size_t data_len;
    const char *data_text;
    const char *digest;
};

static const struct vector rfc2202[] = {
    {0x0b, 20, NULL, 0, 0, "Hi There", "b617318655057264e28bc0b6fb378c8ef146be00"},
    {0, 0, "Jefe", 0, 0, "what do ya want for nothing?",
     "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"},
    {0xaa, 20, NULL, 0xdd, 50, NULL, "125d7342b9ac11cd91a39af48aa17b4f63f175d3"},
    {0, 25, NULL, 0xcd, 50, NULL, "4c9007f4026250c6bc8414f9bf50c86c2d7235da"}, /* key 0x01..0x19 */
    {0x0c, 20, NULL, 0, 0, "Test With Truncation", "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04"},
    {0xaa, 80, NULL, 0, 0, "Test Using Larger Than Block-Size Key - Hash Key First",
     "aa4ae5e15272d00e95705637ce8a3b55ed402112"},
    {0xaa, 80, NULL, 0, 0,
     "Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data",
     "e8e99d0f45237d786d6bbaa7965c7808bbff1a91"},
};

static void unhex(const char *hex, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char b[3] = {hex[2 * i], hex[2 * i + 1], '\0'};
        out[i] = (uint8_t)strtoul(b, NULL, 16);
    }
}

static void test_rfc2202(void **state)
{
    (void)state;
    for (size_t v = 0; v < sizeof(rfc2202) / sizeof(rfc2202[0]); v++) {
        const struct vector *t = &rfc2202[v];
        uint8_t key[80], data[80], want[HMACSHA1_LEN], mac[HMACSHA1_LEN];
        size_t klen = t->key_text ? strlen(t->key_text) : t->key_len;
        size_t dlen = t->data_text ? strlen(t->data_text) : t->data_len;
        if (t->key_text)
            memcpy(key, t->key_text, klen);
        else
            for (size_t i = 0; i < klen; i++)
                key[i] = t->key_byte ? t->key_byte : (uint8_t)(i + 1);
        if (t->data_text)
            memcpy(data, t->data_text, dlen);
        else
            memset(data, t->data_byte, dlen);
        unhex(t->digest, want, sizeof(want));
        struct hmacsha1 h;
        hmacsha1_init(&h, key, klen);
        /* The split between the two parts must not matter, including an empty first part. */
        for (size_t cut = 0; cut <= dlen; cut++) {
            memset(mac, 0, sizeof(mac));
            hmacsha1_mac(&h, data, cut, data + cut, dlen - cut, mac);
            assert_memory_equal(mac, want, sizeof(want));
        }
        hmacsha1_mac(&h, data, dlen, NULL, 0, mac);
        assert_memory_equal(mac, want, sizeof(want));
    }
}

/* xorshift64*: a fixed sequence, so that a failure reproduces. */
static uint64_t rnd_state = 0x9e3779b97f4a7c15u;
static uint64_t rnd(void)
{
    rnd_state ^= rnd_state >> 12;
    rnd_state ^= rnd_state << 25;
    rnd_state ^= rnd_state >> 27;
    return rnd_state * 0x2545f4914f6cdd1du;
}

static void rnd_fill(uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(rnd() >> 56);
}

static void evp_hmac(const uint8_t *key, size_t klen, const uint8_t *d, size_t dlen,
                     uint8_t out[HMACSHA1_LEN])
{
    size_t ol = 0;
    /* EVP_Q_mac refuses a NULL key even when its length is 0. */
    static const uint8_t none[1];
    assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA1", NULL, klen ? key : none, klen, d, dlen,
                              out, HMACSHA1_LEN, &ol));
    assert_int_equal(ol, HMACSHA1_LEN);
}

static void test_random_vs_openssl(void **state)
{
    (void)state;
    static uint8_t key[200], data[1600];
    for (int it = 0; it < 3000; it++) {
        size_t klen = (size_t)(rnd() % (sizeof(key) + 1));
        size_t dlen = (size_t)(rnd() % (sizeof(data) + 1));
        size_t cut = dlen ? (size_t)(rnd() % (dlen + 1)) : 0;
        rnd_fill(key, klen);
        rnd_fill(data, dlen);
        uint8_t want[HMACSHA1_LEN], mac[HMACSHA1_LEN];
        evp_hmac(key, klen, data, dlen, want);
        struct hmacsha1 h;
        hmacsha1_init(&h, key, klen);
        hmacsha1_mac(&h, data, cut, data + cut, dlen - cut, mac);
        assert_memory_equal(mac, want, sizeof(want));
        /* A copied state is the same key; the original is left unchanged by use. */
        struct hmacsha1 copy = h;
        hmacsha1_mac(&copy, data, dlen, NULL, 0, mac);
        assert_memory_equal(mac, want, sizeof(want));
        hmacsha1_mac(&h, data, dlen, NULL, 0, mac);
        assert_memory_equal(mac, want, sizeof(want));
    }
}

/* Counts OpenSSL's allocations; installed in main before OpenSSL allocates anything. */
static size_t allocs;
static void *count_malloc(size_t n, const char *file, int line)
{
    (void)file;
    (void)line;
    allocs++;
    return malloc(n);
}
static void *count_realloc(void *p, size_t n, const char *file, int line)
{
    (void)file;
    (void)line;
    allocs++;
    return realloc(p, n);
}
static void count_free(void *p, const char *file, int line)
{
    (void)file;
    (void)line;
    free(p);
}

static void test_no_allocation(void **state)
{
    (void)state;
    uint8_t key[100], data[1200], mac[HMACSHA1_LEN];
    rnd_fill(key, sizeof(key));
    rnd_fill(data, sizeof(data));
    /* The counter is live: EVP's HMAC allocates on this OpenSSL. */
    size_t before = allocs;
    evp_hmac(key, 20, data, sizeof(data), mac);
    assert_true(allocs > before);
    before = allocs;
    struct hmacsha1 h;
    hmacsha1_init(&h, key, 20);
    hmacsha1_init(&h, key, sizeof(key)); /* hashed first */
    for (int i = 0; i < 100; i++)
        hmacsha1_mac(&h, data, sizeof(data), key, 4, mac);
    assert_int_equal(allocs, before);
}

int main(void)
{
    if (CRYPTO_set_mem_functions(count_malloc, count_realloc, count_free) != 1)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc2202),
        cmocka_unit_test(test_random_vs_openssl),
        cmocka_unit_test(test_no_allocation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
