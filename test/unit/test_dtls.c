/* SPDX-License-Identifier: MIT */
/* test_dtls.c: the DTLS-SRTP server against an in-process OpenSSL DTLS 1.2 client over
 * datagrams shuttled by hand: the handshake completes, the negotiated SRTP profile is
 * AEAD_AES_128_GCM when offered (CM-80 otherwise), both ends export the same keying
 * material, a certificate that does not match the offer's fingerprint is refused, garbage
 * records are ignored, and a lost flight is retransmitted from the loop's timer. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "egress/dtls.h"

struct peer {
    SSL *ssl;
    BIO *in, *out; /* client side memory BIOs */
    struct dtlsrv_conn *srv;
    int connected, failed;
    struct dtlsrv_keys keys;
    char reason[128];
    /* datagrams from the server, queued for the client */
    uint8_t q[16][2048];
    size_t qlen[16];
    int nq;
};

static void srv_send(void *arg, const uint8_t *p, size_t len)
{
    struct peer *pe = arg;
    assert_true(pe->nq < 16 && len <= sizeof(pe->q[0]));
    memcpy(pe->q[pe->nq], p, len);
    pe->qlen[pe->nq++] = len;
}

static void srv_connected(void *arg, const struct dtlsrv_keys *keys)
{
    struct peer *pe = arg;
    pe->connected = 1;
    pe->keys = *keys;
}

static void srv_failed(void *arg, int err, const char *reason)
{
    struct peer *pe = arg;
    (void)err;
    pe->failed = 1;
    snprintf(pe->reason, sizeof(pe->reason), "%s", reason);
}

static const struct dtlsrv_callbacks cbs = {srv_send, srv_connected, srv_failed};

static X509 *self_signed(EVP_PKEY **key_out)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const uint8_t *)"client", -1, -1, 0);
    X509_set_issuer_name(x, n);
    X509_sign(x, key, EVP_sha256());
    *key_out = key;
    return x;
}

static int accept_any(int ok, X509_STORE_CTX *ctx)
{
    (void)ok, (void)ctx;
    return 1;
}

/* Runs a handshake; fp_of_cert selects whether the server expects the client's real digest. */
static void handshake(struct peer *pe, struct dtlsrv_ctx *ctx, const char *profiles,
                      int right_fingerprint)
{
    memset(pe, 0, sizeof(*pe));
    EVP_PKEY *key;
    X509 *cert = self_signed(&key);
    SSL_CTX *cctx = SSL_CTX_new(DTLS_client_method());
    SSL_CTX_use_certificate(cctx, cert);
    SSL_CTX_use_PrivateKey(cctx, key);
    SSL_CTX_set_verify(cctx, SSL_VERIFY_PEER, accept_any);
    assert_int_equal(SSL_CTX_set_tlsext_use_srtp(cctx, profiles), 0);
    pe->ssl = SSL_new(cctx);
    pe->in = BIO_new(BIO_s_mem());
    pe->out = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(pe->in, -1);
    SSL_set_bio(pe->ssl, pe->in, pe->out);
    SSL_set_connect_state(pe->ssl);

    struct dtlsrv_fingerprint fp = {.hash = "sha-256"};
    unsigned len = 0;
    X509_digest(cert, EVP_sha256(), fp.digest, &len);
    fp.len = len;
    if (!right_fingerprint)
        fp.digest[0] ^= 0xff;
    assert_int_equal(dtlsrv_conn_new(&pe->srv, ctx, uv_default_loop(), &fp, &cbs, pe), 0);

    for (int round = 0; round < 20 && !pe->connected && !pe->failed; round++) {
        SSL_do_handshake(pe->ssl);
        /* Client -> server: whatever the client wrote, as one datagram. */
        uint8_t buf[8192];
        int n = BIO_read(pe->out, buf, sizeof(buf));
        if (n > 0) {
            /* Garbage between real records must not disturb the handshake. */
            uint8_t junk[40] = {22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
            dtlsrv_conn_input(pe->srv, junk, sizeof(junk));
            dtlsrv_conn_input(pe->srv, buf, (size_t)n);
        }
        for (int i = 0; i < pe->nq; i++)
            BIO_write(pe->in, pe->q[i], (int)pe->qlen[i]);
        pe->nq = 0;
    }
    SSL_do_handshake(pe->ssl);
    X509_free(cert);
    EVP_PKEY_free(key);
    SSL_CTX_free(cctx);
}

static void finish(struct peer *pe)
{
    dtlsrv_conn_free(pe->srv);
    SSL_free(pe->ssl);
    uv_run(uv_default_loop(), UV_RUN_NOWAIT); /* close the retransmission timer */
}

static void gcm_handshake(void **state)
{
    struct dtlsrv_ctx *ctx = *state;
    struct peer pe;
    handshake(&pe, ctx, "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80", 1);
    assert_true(pe.connected);
    assert_false(pe.failed);
    assert_int_equal(pe.keys.profile, 0x0007);
    assert_int_equal(pe.keys.len, 56);
    uint8_t mine[56];
    static const char label[] = "EXTRACTOR-dtls_srtp";
    assert_int_equal(SSL_is_init_finished(pe.ssl), 1);
    assert_int_equal(SSL_export_keying_material(pe.ssl, mine, sizeof(mine), label,
                                                sizeof(label) - 1, NULL, 0, 0),
                     1);
    assert_memory_equal(mine, pe.keys.material, sizeof(mine));
    finish(&pe);
}

static void cm80_handshake(void **state)
{
    struct dtlsrv_ctx *ctx = *state;
    struct peer pe;
    handshake(&pe, ctx, "SRTP_AES128_CM_SHA1_80", 1);
    assert_true(pe.connected);
    assert_int_equal(pe.keys.profile, 0x0001);
    assert_int_equal(pe.keys.len, 60);
    finish(&pe);
}

static void wrong_fingerprint(void **state)
{
    struct dtlsrv_ctx *ctx = *state;
    struct peer pe;
    handshake(&pe, ctx, "SRTP_AEAD_AES_128_GCM", 0);
    assert_false(pe.connected);
    assert_true(pe.failed);
    assert_non_null(strstr(pe.reason, "fingerprint"));
    finish(&pe);
}

/* RFC 6347 4.2.4: a lost flight is sent again from the retransmission timer on the loop. */
static void retransmission(void **state)
{
    struct dtlsrv_ctx *ctx = *state;
    struct peer pe;
    memset(&pe, 0, sizeof(pe));
    SSL_CTX *cctx = SSL_CTX_new(DTLS_client_method());
    EVP_PKEY *key;
    X509 *cert = self_signed(&key);
    SSL_CTX_use_certificate(cctx, cert);
    SSL_CTX_use_PrivateKey(cctx, key);
    SSL_CTX_set_tlsext_use_srtp(cctx, "SRTP_AEAD_AES_128_GCM");
    pe.ssl = SSL_new(cctx);
    pe.in = BIO_new(BIO_s_mem());
    pe.out = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(pe.in, -1);
    SSL_set_bio(pe.ssl, pe.in, pe.out);
    SSL_set_connect_state(pe.ssl);
    struct dtlsrv_fingerprint fp = {.hash = "sha-256", .len = 32};
    assert_int_equal(dtlsrv_conn_new(&pe.srv, ctx, uv_default_loop(), &fp, &cbs, &pe), 0);
    SSL_do_handshake(pe.ssl);
    uint8_t buf[8192];
    int n = BIO_read(pe.out, buf, sizeof(buf));
    assert_true(n > 0);
    dtlsrv_conn_input(pe.srv, buf, (size_t)n); /* ClientHello: answered at once */
    assert_true(pe.nq > 0);
    size_t first = 0, again = 0;
    for (int i = 0; i < pe.nq; i++)
        first += pe.qlen[i];
    pe.nq = 0;                              /* that flight is "lost" */
    uv_run(uv_default_loop(), UV_RUN_ONCE); /* blocks until the timer fires (about 1 s) */
    assert_true(pe.nq > 0);
    /* The same flight again (OpenSSL may split it into one datagram per message). */
    for (int i = 0; i < pe.nq; i++)
        again += pe.qlen[i];
    assert_int_equal(again, first);
    assert_false(pe.failed);
    X509_free(cert);
    EVP_PKEY_free(key);
    SSL_CTX_free(cctx);
    finish(&pe);
}

static void fingerprints(void **state)
{
    struct dtlsrv_ctx *ctx = *state;
    const char *ours = dtlsrv_ctx_fingerprint(ctx);
    assert_int_equal(strncmp(ours, "sha-256 ", 8), 0);
    assert_int_equal(strlen(ours), 8 + 32 * 3 - 1);
    struct dtlsrv_fingerprint fp;
    assert_int_equal(dtlsrv_fingerprint_parse(ours, &fp), 0);
    assert_int_equal(fp.len, 32);
    assert_int_equal(dtlsrv_fingerprint_parse("SHA-256 AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:"
                                              "45:67:89",
                                              &fp),
                     0);
    assert_string_equal(fp.hash, "sha-256");
    assert_int_equal(fp.len, 16);
    assert_int_equal(dtlsrv_fingerprint_parse("md9 AB:CD", &fp), -EINVAL);
    assert_int_equal(dtlsrv_fingerprint_parse("sha-256 ZZ:CD", &fp), -EINVAL);
    assert_int_equal(dtlsrv_fingerprint_parse("sha-256", &fp), -EINVAL);
    assert_int_equal(dtlsrv_fingerprint_parse("sha-256 AB", &fp), -EINVAL);
}

static int setup(void **state)
{
    struct dtlsrv_ctx *ctx;
    char err[256];
    if (dtlsrv_ctx_new(&ctx, err, sizeof(err)) < 0)
        return -1;
    *state = ctx;
    return 0;
}

static int teardown(void **state)
{
    dtlsrv_ctx_free(*state);
    uv_run(uv_default_loop(), UV_RUN_DEFAULT);
    uv_loop_close(uv_default_loop());
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gcm_handshake),     cmocka_unit_test(cm80_handshake),
        cmocka_unit_test(wrong_fingerprint), cmocka_unit_test(retransmission),
        cmocka_unit_test(fingerprints),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
