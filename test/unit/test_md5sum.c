/* SPDX-License-Identifier: MIT */
/* test_md5sum.c: common/md5sum.c against the test suite of RFC 1321 A.5 (each message also fed
 * in two parts split at every point) and against OpenSSL's EVP MD5 as the independent reference
 * on random messages of 0..1000 bytes (every padding case: 55, 56, 63, 64 bytes mod 64) fed in
 * random pieces. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "common/md5sum.h"

static const struct {
    const char *msg, *digest;
} rfc1321[] = {
    {"", "d41d8cd98f00b204e9800998ecf8427e"},
    {"a", "0cc175b9c0f1b6a831c399e269772661"},
    {"abc", "900150983cd24fb0d6963f7d28e17f72"},
    {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
    {"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"},
    {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
     "d174ab98d277d9f5a5611c2c9f419d9f"},
    {"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
     "57edf4a22be3c955ac49da2e2107b67a"},
};

static void hex(const uint8_t md[MD5SUM_LEN], char out[2 * MD5SUM_LEN + 1])
{
    for (unsigned i = 0; i < MD5SUM_LEN; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void test_rfc1321(void **state)
{
    (void)state;
    for (size_t v = 0; v < sizeof(rfc1321) / sizeof(rfc1321[0]); v++) {
        const char *m = rfc1321[v].msg;
        size_t n = strlen(m);
        for (size_t cut = 0; cut <= n; cut++) {
            struct md5sum s;
            uint8_t md[MD5SUM_LEN];
            char got[2 * MD5SUM_LEN + 1];
            md5sum_init(&s);
            md5sum_update(&s, m, cut);
            md5sum_update(&s, m + cut, n - cut);
            md5sum_final(&s, md);
            hex(md, got);
            assert_string_equal(got, rfc1321[v].digest);
        }
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

static void test_random_vs_openssl(void **state)
{
    (void)state;
    static uint8_t data[1000];
    for (int it = 0; it < 3000; it++) {
        size_t n = it < 200 ? (size_t)it : (size_t)(rnd() % (sizeof(data) + 1));
        for (size_t i = 0; i < n; i++)
            data[i] = (uint8_t)(rnd() >> 56);
        uint8_t want[MD5SUM_LEN], md[MD5SUM_LEN];
        unsigned wl = 0;
        assert_int_equal(EVP_Digest(data, n, want, &wl, EVP_md5(), NULL), 1);
        assert_int_equal(wl, MD5SUM_LEN);
        struct md5sum s;
        md5sum_init(&s);
        for (size_t off = 0; off < n;) {
            size_t piece = 1 + (size_t)(rnd() % 130);
            piece = piece < n - off ? piece : n - off;
            md5sum_update(&s, data + off, piece);
            off += piece;
        }
        md5sum_final(&s, md);
        assert_memory_equal(md, want, MD5SUM_LEN);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc1321),
        cmocka_unit_test(test_random_vs_openssl),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
