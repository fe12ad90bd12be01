/* SPDX-License-Identifier: MIT */
/* test_dtls.c: the DTLS-SRTP server against an in-process OpenSSL DTLS 1.2 client over
 * datagrams shuttled by hand: the handshake completes, the negotiated SRTP profile is
 * AEAD_AES_128_GCM when offered (CM-80 otherwise), both ends export the same keying
 * material, a certificate that does not match the offer's fingerprint is refused while one
 * that matches any of several is accepted, only sha-256/384/512 fingerprints parse, garbage
 * records are ignored, a lost flight is retransmitted from the loop's timer after 250 ms,
 * and a lost final flight is resent when the client retransmits its own. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "rtc/dtlsrv.h"

struct peer {
    SSL_CTX *cctx;
    X509 *cert;
    EVP_PKEY *key;
    SSL *ssl;
    BIO *in, *out; /* client side memory BIOs */
    struct dtlsrv_conn *srv;
    int connected, failed, resent;
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
    pe->connected++;
    pe->keys = *keys;
}

static void srv_failed(void *arg, int err, const char *reason)
{
    struct peer *pe = arg;
    (void)err;
    pe->failed = 1;
    snprintf(pe->reason, sizeof(pe->reason), "%s", reason);
}

static void srv_resent(void *arg)
{
    struct peer *pe = arg;
    pe->resent++;
}

static const struct dtlsrv_callbacks cbs = {srv_send, srv_connected, srv_failed, srv_resent};

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

/* The fingerprints the offer gave: the certificate's sha-256 digest. */
static void expect_right(X509 *cert, struct dtlsrv_fingerprints *fps)
{
    struct dtlsrv_fingerprint *fp = &fps->fp[fps->n++];
    unsigned len = 0;
    snprintf(fp->hash, sizeof(fp->hash), "sha-256");
    X509_digest(cert, EVP_sha256(), fp->digest, &len);
    fp->len = len;
}

/* ...a wrong one. */
static void expect_wrong(X509 *cert, struct dtlsrv_fingerprints *fps)
{
    expect_right(cert, fps);
    fps->fp[0].digest[0] ^= 0xff;
}

/* ...a wrong sha-256 digest, the right sha-512 digest, and the right sha-256 digest under
 * the sha-384 name: only the second matches. */
static void expect_several(X509 *cert, struct dtlsrv_fingerprints *fps)
{
    expect_wrong(cert, fps);
    struct dtlsrv_fingerprint *fp = &fps->fp[fps->n++];
    unsigned len = 0;
    snprintf(fp->hash, sizeof(fp->hash), "sha-512");
    X509_digest(cert, EVP_sha512(), fp->digest, &len);
    fp->len = len;
    expect_right(cert, fps);
    snprintf(fps->fp[2].hash, sizeof(fps->fp[2].hash), "sha-384");
}

/* An OpenSSL DTLS client with a fresh self-signed certificate, and the server connection
 * expecting the fingerprints expect gives for that certificate. */
static void peer_start(struct peer *pe, struct dtlsrv_ctx *ctx, const char *profiles,
                       void (*expect)(X509 *, struct dtlsrv_fingerprints *))
{
    memset(pe, 0, sizeof(*pe));
    pe->cert = self_signed(&pe->key);
    pe->cctx = SSL_CTX_new(DTLS_client_method());
    SSL_CTX_use_certificate(pe->cctx, pe->cert);
    SSL_CTX_use_PrivateKey(pe->cctx, pe->key);
    SSL_CTX_set_verify(pe->cctx, SSL_VERIFY_PEER, accept_any);
    assert_int_equal(SSL_CTX_set_tlsext_use_srtp(pe->cctx, profiles), 0);
    pe->ssl = SSL_new(pe->cctx);
    pe->in = BIO_new(BIO_s_mem());
    pe->out = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(pe->in, -1);
    SSL_set_bio(pe->ssl, pe->in, pe->out);
    SSL_set_connect_state(pe->ssl);

    struct dtlsrv_fingerprints fps = {.n = 0};
    expect(pe->cert, &fps);
    assert_int_equal(dtlsrv_conn_new(&pe->srv, ctx, uv_default_loop(), &fps, &cbs, pe), 0);
}

/* Client -> server: whatever the client wrote, as one datagram. Returns its length. */
static int client_flush(struct peer *pe)
{
    uint8_t buf[8192];
    int n = BIO_read(pe->out, buf, sizeof(buf));
    if (n > 0)
        dtlsrv_conn_input(pe->srv, buf, (size_t)n);
    return n;
}

/* Server -> client: the queued datagrams. */
static void server_flush(struct peer *pe)
{
    for (int i = 0; i < pe->nq; i++)
        BIO_write(pe->in, pe->q[i], (int)pe->qlen[i]);
    pe->nq = 0;
}

/* Runs a whole handshake without loss. */
static void handshake(struct peer *pe, struct dtlsrv_ctx *ctx, const char *profiles,
                      void (*expect)(X509 *, struct dtlsrv_fingerprints *))
{
    peer_start(pe, ctx, profiles, expect);
    for (int round = 0; round < 20 && !pe->connected && !pe->failed; round++) {
        SSL_do_handshake(pe->ssl);
        if (BIO_pending(pe->out) > 0) {
            /* Garbage between real records must not disturb the handshake. */
            uint8_t junk[40] = {22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
            dtlsrv_conn_input(pe->srv, junk, sizeof(junk));
            client_flush(pe);
        }
        server_flush(pe);
    }
    SSL_do_handshake(pe->ssl);
}

static void finish(struct peer *pe)
{
    dtlsrv_conn_free(pe->srv);
    SSL_free(pe->ssl);
    SSL_CTX_free(pe->cctx);
    X509_free(pe->cert);
    EVP_PKEY_free(pe->key);
    uv_run(uv_default_loop(), UV_RUN_NOWAIT); /* close the retransmission timer */
}

static void gcm_handshake(void **state)
{
    struct dtlsrv_ctx *ctx = *state;
    struct peer pe;
    handshake(&pe, ctx, "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80", expect_right);
    assert_int_equal(pe.connected, 1);
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
    handshake(&pe, ctx, "SRTP_AES128_CM_SHA1_80", expect_right);
    assert_int_equal(pe.connected, 1);
    assert_int_equal(pe.keys.profile, 0x0001);
    assert_int_equal(pe.keys.len, 60);
    finish(&pe);
}

static void wrong_fingerprint(void **state)
{
    struct dtlsrv_ctx *ctx = *state;
    struct peer pe;
    handshake(&pe, ctx, "SRTP_AEAD_AES_128_GCM", expect_wrong);
    assert_false(pe.connected);
    assert_true(pe.failed);
    assert_non_null(strstr(pe.reason, "fingerprint"));
    finish(&pe);
}

/* RFC 8122 5: the certificate matching any one of the offer's fingerprints is accepted. */
static void any_of_several(void **state)
{
    struct dtlsrv_ctx *ctx = *state;
    struct peer pe;
    handshake(&pe, ctx, "SRTP_AEAD_AES_128_GCM", expect_several);
    assert_int_equal(pe.connected, 1);
    assert_false(pe.failed);
    finish(&pe);
}

/* Runs the loop until the server sends again; returns the milliseconds that took. */
static double wait_resend(struct peer *pe)
{
    uint64_t t0 = uv_hrtime();
    for (int i = 0; i < 100 && pe->nq == 0; i++)
        uv_run(uv_default_loop(), UV_RUN_ONCE); /* blocks until the timer fires */
    return (double)(uv_hrtime() - t0) / 1e6;
}

/* RFC 6347 4.2.4: a lost flight is sent again from the retransmission timer on the loop,
 * first after 250 ms (OpenSSL's default is 1 s), then after twice that. */
static void retransmission(void **state)
{
    struct dtlsrv_ctx *ctx = *state;
    struct peer pe;
    peer_start(&pe, ctx, "SRTP_AEAD_AES_128_GCM", expect_right);
    SSL_do_handshake(pe.ssl);
    uv_update_time(uv_default_loop());  /* the timer is armed from the loop's clock */
    assert_true(client_flush(&pe) > 0); /* ClientHello: answered at once */
    assert_true(pe.nq > 0);
    size_t first = 0, again = 0;
    for (int i = 0; i < pe.nq; i++)
        first += pe.qlen[i];
    pe.nq = 0; /* that flight is "lost" */
    double ms = wait_resend(&pe);
    printf("first retransmission after %.0f ms\n", ms);
    assert_true(ms >= 200 && ms <= 400);
    /* The same flight again (OpenSSL may split it into one datagram per message). */
    for (int i = 0; i < pe.nq; i++)
        again += pe.qlen[i];
    assert_int_equal(again, first);
    pe.nq = 0; /* lost again */
    ms = wait_resend(&pe);
    printf("second retransmission after %.0f ms\n", ms);
    assert_true(ms >= 450 && ms <= 700);
    assert_false(pe.failed);
    finish(&pe);
}

/* The client retransmits its last flight after 20 ms (OpenSSL: the previous interval in,
 * the next one out), so the test need not wait for OpenSSL's default second. */
static unsigned int client_timer_us(SSL *ssl, unsigned int timer_us)
{
    (void)ssl, (void)timer_us;
    return 20000;
}

/* The server's last flight (ChangeCipherSpec, Finished) is lost after the server has
 * completed: the client's retransmitted Finished must make the server send it again, or
 * the client never completes while the server streams to it. */
static void final_flight_lost(void **state)
{
    struct dtlsrv_ctx *ctx = *state;
    struct peer pe;
    peer_start(&pe, ctx, "SRTP_AEAD_AES_128_GCM", expect_right);
    DTLS_set_timer_cb(pe.ssl, client_timer_us);
    SSL_do_handshake(pe.ssl);
    assert_true(client_flush(&pe) > 0); /* ClientHello */
    server_flush(&pe);                  /* ServerHello .. ServerHelloDone */
    SSL_do_handshake(pe.ssl);
    assert_true(client_flush(&pe) > 0); /* Certificate .. Finished */
    assert_int_equal(pe.connected, 1);
    assert_true(pe.nq > 0);
    pe.nq = 0; /* our ChangeCipherSpec and Finished are lost */
    assert_int_not_equal(SSL_do_handshake(pe.ssl), 1);
    int resent = 0;
    for (int i = 0; i < 50 && !resent; i++) {
        usleep(25000);
        resent = DTLSv1_handle_timeout(pe.ssl) > 0;
    }
    assert_true(resent);
    assert_int_equal(pe.resent, 0);
    assert_true(client_flush(&pe) > 0); /* the client's last flight again */
    assert_true(pe.nq > 0);             /* answered by ours */
    assert_int_equal(pe.resent, 1);     /* and the owner told: its media was undecryptable */
    server_flush(&pe);
    assert_int_equal(SSL_do_handshake(pe.ssl), 1);
    assert_int_equal(pe.connected, 1); /* once: the keys did not change */
    assert_false(pe.failed);
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
    /* Upper-case names are folded; sha-384 and sha-512 are taken too. */
    char v[8 + 3 * 64];
    for (int n = 48; n <= 64; n += 16) {
        int k = snprintf(v, sizeof(v), "SHA-%d ", n * 8);
        for (int i = 0; i < n; i++)
            k += snprintf(v + k, sizeof(v) - (size_t)k, i ? ":%02X" : "%02X", i);
        assert_int_equal(dtlsrv_fingerprint_parse(v, &fp), 0);
        assert_string_equal(fp.hash, n == 48 ? "sha-384" : "sha-512");
        assert_int_equal(fp.len, n);
        assert_int_equal(fp.digest[n - 1], n - 1);
    }
    /* Weak hashes are refused (RFC 8122 5 leaves md5 and sha-1 to legacy peers). */
    assert_int_equal(dtlsrv_fingerprint_parse("sha-1 00:01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:"
                                              "0E:0F:10:11:12:13",
                                              &fp),
                     -ENOTSUP);
    assert_int_equal(dtlsrv_fingerprint_parse("md5 00:01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:"
                                              "0E:0F",
                                              &fp),
                     -ENOTSUP);
    assert_int_equal(dtlsrv_fingerprint_parse("sha-3-256 AB:CD", &fp), -ENOTSUP);
    /* A digest must have its hash's length. */
    assert_int_equal(dtlsrv_fingerprint_parse("sha-256 AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:"
                                              "45:67:89",
                                              &fp),
                     -EINVAL);
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
        cmocka_unit_test(final_flight_lost), cmocka_unit_test(any_of_several),
        cmocka_unit_test(fingerprints),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
