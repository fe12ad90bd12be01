/* SPDX-License-Identifier: MIT */
/* dtlsrv.c: OpenSSL DTLS 1.2 server for DTLS-SRTP. Input arrives through a memory BIO one
 * datagram at a time; output leaves through a small BIO whose every write is one datagram
 * (OpenSSL writes DTLS records and flights record-aligned), so nothing is re-framed here. */
#include "rtc/dtlsrv.h"

#include <errno.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/srtp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "rtc/dtls_rtx.h"
#include "common/text.h"
#include "shm/ctl.h"

#define DTLSRV_MTU               1200
#define DTLSRV_HANDSHAKE_TIMEOUT 20000 /* ms: give up on a peer that never completes */

struct dtlsrv_ctx {
    SSL_CTX *ssl_ctx;
    BIO_METHOD *out_method;
    char fingerprint[3 * 32 + 16];
};

/* A connection stays in SETTLED until it is freed: its peer may not have received our last
 * flight, and OpenSSL resends that flight only when it reads the peer's retransmission. */
enum dtlsrv_state { DTLSRV_HANDSHAKE = 0, DTLSRV_SETTLED, DTLSRV_DEAD };

struct dtlsrv_conn {
    SSL *ssl;
    uv_timer_t *timer; /* retransmissions; freed in its close callback */
    uint64_t deadline;
    struct dtlsrv_fingerprints expect;
    struct dtlsrv_callbacks cb;
    void *arg;
    int busy; /* inside a callback: a free is deferred until it returns */
    int freed;
    enum dtlsrv_state state;
    unsigned writes; /* datagrams handed to cb.send */
};

/* ---- the output BIO: each write is one datagram handed to the callback ---- */

static int dtlsrv_bio_write(BIO *b, const char *data, int len)
{
    struct dtlsrv_conn *c = BIO_get_data(b);
    if (len > 0 && !c->freed) {
        c->writes++;
        c->cb.send(c->arg, (const uint8_t *)data, (size_t)len);
    }
    return len;
}

static long dtlsrv_bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b, (void)num, (void)ptr;
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        return 1;
    case BIO_CTRL_DGRAM_QUERY_MTU:
    case BIO_CTRL_DGRAM_GET_MTU:
        return DTLSRV_MTU;
    case BIO_CTRL_DGRAM_GET_FALLBACK_MTU:
        return DTLSRV_MTU;
    default:
        return 0;
    }
}

static int dtlsrv_bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

/* ---- certificate ---- */

static int dtlsrv_make_cert(SSL_CTX *ssl_ctx, char *fp_out, size_t fp_size)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    int ok = key && x && name;
    uint8_t serial[8];
    ok = ok && RAND_bytes(serial, sizeof(serial)) == 1;
    if (ok) {
        serial[0] &= 0x7f; /* a positive serial number */
        BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
        ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
        BN_free(bn);
    }
    ok = ok && X509_set_version(x, 2) && X509_gmtime_adj(X509_getm_notBefore(x), -86400) &&
         X509_gmtime_adj(X509_getm_notAfter(x), 30L * 86400) &&
         X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const uint8_t *)"ringcast", -1, -1,
                                    0) &&
         X509_set_subject_name(x, name) && X509_set_issuer_name(x, name) &&
         X509_set_pubkey(x, key) && X509_sign(x, key, EVP_sha256()) > 0 &&
         SSL_CTX_use_certificate(ssl_ctx, x) == 1 && SSL_CTX_use_PrivateKey(ssl_ctx, key) == 1;
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    ok = ok && X509_digest(x, EVP_sha256(), md, &mdlen) == 1;
    if (ok) {
        size_t n = (size_t)snprintf(fp_out, fp_size, "sha-256 ");
        for (unsigned i = 0; i < mdlen && n + 3 < fp_size; i++)
            n += (size_t)snprintf(fp_out + n, fp_size - n, i ? ":%02X" : "%02X", md[i]);
    }
    X509_NAME_free(name);
    X509_free(x);
    EVP_PKEY_free(key);
    return ok ? 0 : -EPROTO;
}

/* The viewer's certificate is self-signed: it is authenticated by the offer's fingerprint
 * after the handshake (RFC 5763 5), not by a chain, so every chain is accepted here. */
static int dtlsrv_verify_any(int preverify, X509_STORE_CTX *store)
{
    (void)preverify, (void)store;
    return 1;
}

int dtlsrv_ctx_new(struct dtlsrv_ctx **out, char *err, size_t errlen)
{
    struct dtlsrv_ctx *ctx = calloc(1, sizeof(*ctx));
    if (!ctx) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    ctx->ssl_ctx = SSL_CTX_new(DTLS_server_method());
    ctx->out_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "ringcast-dtls");
    if (!ctx->ssl_ctx || !ctx->out_method) {
        snprintf(err, errlen, "OpenSSL DTLS context: out of memory");
        dtlsrv_ctx_free(ctx);
        return -ENOMEM;
    }
    BIO_meth_set_write(ctx->out_method, dtlsrv_bio_write);
    BIO_meth_set_ctrl(ctx->out_method, dtlsrv_bio_ctrl);
    BIO_meth_set_create(ctx->out_method, dtlsrv_bio_create);
    SSL_CTX_set_min_proto_version(ctx->ssl_ctx, DTLS1_2_VERSION);
    SSL_CTX_set_verify(ctx->ssl_ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                       dtlsrv_verify_any);
    SSL_CTX_set_options(ctx->ssl_ctx, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET);
    /* DESIGN.md: GCM first, it protects about 5x faster here; CM-80 for older peers. OpenSSL
     * returns 1 on failure for this call. */
    if (SSL_CTX_set_tlsext_use_srtp(ctx->ssl_ctx, "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80") !=
            0 ||
        dtlsrv_make_cert(ctx->ssl_ctx, ctx->fingerprint, sizeof(ctx->fingerprint)) < 0) {
        snprintf(err, errlen, "OpenSSL: cannot set up use_srtp or the ECDSA certificate: %s",
                 ERR_reason_error_string(ERR_get_error()));
        dtlsrv_ctx_free(ctx);
        return -EPROTO;
    }
    *out = ctx;
    return 0;
}

void dtlsrv_ctx_free(struct dtlsrv_ctx *ctx)
{
    if (!ctx)
        return;
    SSL_CTX_free(ctx->ssl_ctx);
    BIO_meth_free(ctx->out_method);
    free(ctx);
}

const char *dtlsrv_ctx_fingerprint(const struct dtlsrv_ctx *ctx)
{
    return ctx->fingerprint;
}

/* The hashes a fingerprint may use (RFC 8122 5 names them as in RFC 3279 / the IANA
 * "Hash Function Textual Names" registry); weaker ones are refused. */
static const struct dtlsrv_hash {
    const char *name;
    const EVP_MD *(*md)(void);
    size_t len;
} dtlsrv_hashes[] = {
    {"sha-256", EVP_sha256, 32},
    {"sha-384", EVP_sha384, 48},
    {"sha-512", EVP_sha512, 64},
};

static const struct dtlsrv_hash *dtlsrv_hash_find(const char *name)
{
    for (size_t i = 0; i < sizeof(dtlsrv_hashes) / sizeof(dtlsrv_hashes[0]); i++)
        if (strcmp(dtlsrv_hashes[i].name, name) == 0)
            return &dtlsrv_hashes[i];
    return NULL;
}

int dtlsrv_fingerprint_parse(const char *value, struct dtlsrv_fingerprint *fp)
{
    memset(fp, 0, sizeof(*fp));
    const char *sp = strchr(value, ' ');
    if (!sp || sp == value)
        return -EINVAL;
    if ((size_t)(sp - value) >= sizeof(fp->hash))
        return -ENOTSUP;
    for (size_t i = 0; value + i < sp; i++)
        fp->hash[i] = (char)(value[i] >= 'A' && value[i] <= 'Z' ? value[i] + 32 : value[i]);
    const struct dtlsrv_hash *h = dtlsrv_hash_find(fp->hash);
    if (!h)
        return -ENOTSUP;
    const char *s = sp + 1;
    while (*s) {
        int hi = text_hex_digit(s[0]), lo = hi < 0 ? -1 : text_hex_digit(s[1]);
        if (hi < 0 || lo < 0 || fp->len == sizeof(fp->digest))
            return -EINVAL;
        fp->digest[fp->len++] = (uint8_t)(hi << 4 | lo);
        s += 2;
        if (*s == ':')
            s++;
        else if (*s && *s != '\r' && *s != '\n' && *s != ' ')
            return -EINVAL;
        else if (*s)
            break;
    }
    return fp->len == h->len ? 0 : -EINVAL;
}

/* ---- connections ---- */

static void dtlsrv_timer_close_cb(uv_handle_t *h)
{
    free(h);
}

/* A handshake peaks at tens of KB of heap (certificates, flights, key schedule) that the
 * settled viewer no longer needs; glibc keeps freed pages mapped, so a worker that has seen
 * thousands of handshakes would hold their peak for good. Free pages are given back at most
 * once a second, so a burst of set-ups costs one trim, not one per viewer, and the last
 * releases of a burst are trimmed by dtlsrv_heap_settle from the worker's timer (they were
 * kept: 2.2 MB at 500 viewers). */
static bool dtlsrv_trim_pending;

void dtlsrv_heap_settle(void)
{
    static uint64_t last_ns;
    uint64_t now = ctl_now_ns();
    if (!dtlsrv_trim_pending || now - last_ns < 1000000000ull)
        return;
    last_ns = now;
    dtlsrv_trim_pending = false;
    malloc_trim(0);
}

static void dtlsrv_release(struct dtlsrv_conn *c)
{
    SSL_free(c->ssl); /* frees both BIOs */
    if (c->timer)
        uv_close((uv_handle_t *)c->timer, dtlsrv_timer_close_cb);
    free(c);
    dtlsrv_trim_pending = true;
    dtlsrv_heap_settle();
}

void dtlsrv_conn_free(struct dtlsrv_conn *c)
{
    if (!c)
        return;
    c->freed = 1;
    if (!c->busy)
        dtlsrv_release(c);
}

/* The peer's certificate must match one of the offer's fingerprints (RFC 8122 5). */
static int dtlsrv_check_peer(struct dtlsrv_conn *c)
{
    X509 *peer = SSL_get1_peer_certificate(c->ssl);
    bool ok = false;
    for (size_t i = 0; peer && i < c->expect.n && !ok; i++) {
        const struct dtlsrv_fingerprint *fp = &c->expect.fp[i];
        const struct dtlsrv_hash *h = dtlsrv_hash_find(fp->hash);
        uint8_t md[EVP_MAX_MD_SIZE];
        unsigned mdlen = 0;
        ok = h && X509_digest(peer, h->md(), md, &mdlen) == 1 && mdlen == fp->len &&
             memcmp(md, fp->digest, mdlen) == 0;
    }
    X509_free(peer);
    return ok ? 0 : -EACCES;
}

static int dtlsrv_export_keys(struct dtlsrv_conn *c, struct dtlsrv_keys *k)
{
    const SRTP_PROTECTION_PROFILE *p = SSL_get_selected_srtp_profile(c->ssl);
    if (!p)
        return -ENOPROTOOPT;
    memset(k, 0, sizeof(*k));
    k->profile = (uint16_t)p->id;
    if (p->id == SRTP_AEAD_AES_128_GCM)
        k->len = 2 * (16 + 12);
    else if (p->id == SRTP_AES128_CM_SHA1_80)
        k->len = 2 * (16 + 14);
    else
        return -ENOPROTOOPT;
    static const char label[] = "EXTRACTOR-dtls_srtp";
    if (SSL_export_keying_material(c->ssl, k->material, k->len, label, sizeof(label) - 1, NULL, 0,
                                   0) != 1)
        return -EPROTO;
    return 0;
}

static void dtlsrv_fail(struct dtlsrv_conn *c, int err, const char *reason)
{
    c->state = DTLSRV_DEAD;
    (void)uv_timer_stop(c->timer);
    c->cb.failed(c->arg, err, reason);
}

static void dtlsrv_timer_cb(uv_timer_t *t);

/* Re-arms the retransmission timer from OpenSSL's own schedule (RFC 6347 4.2.4.1). */
static void dtlsrv_arm(struct dtlsrv_conn *c)
{
    struct timeval tv;
    if (c->state == DTLSRV_HANDSHAKE && DTLSv1_get_timeout(c->ssl, &tv) == 1) {
        uint64_t ms = (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
        (void)uv_timer_start(c->timer, dtlsrv_timer_cb, ms ? ms : 1, 0);
    }
}

/* After the handshake: our last flight (ChangeCipherSpec, Finished) may have been lost, and
 * the client then retransmits its own last flight. OpenSSL's record layer answers a
 * retransmitted Finished by resending ours (dtls1_read_bytes), but only when it is read:
 * so input is read, and any application data (none is expected) discarded. A closure or an
 * error leaves nothing to read for: later input is dropped. */
static void dtlsrv_read_settled(struct dtlsrv_conn *c)
{
    uint8_t sink[2048];
    unsigned writes = c->writes;
    int rc;
    while ((rc = SSL_read(c->ssl, sink, sizeof(sink))) > 0)
        ;
    int e = SSL_get_error(c->ssl, rc);
    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
        c->state = DTLSRV_DEAD;
    ERR_clear_error();
    if (c->writes != writes && !c->freed && c->cb.resent)
        c->cb.resent(c->arg);
}

static void dtlsrv_step(struct dtlsrv_conn *c)
{
    if (c->state == DTLSRV_SETTLED) {
        dtlsrv_read_settled(c);
        return;
    }
    int rc = SSL_do_handshake(c->ssl);
    if (rc == 1) {
        struct dtlsrv_keys keys;
        c->state = DTLSRV_SETTLED;
        (void)uv_timer_stop(c->timer);
        int err = dtlsrv_check_peer(c);
        if (err < 0) {
            c->state = DTLSRV_DEAD;
            c->cb.failed(c->arg, err, "certificate does not match the offer's fingerprint");
            return;
        }
        err = dtlsrv_export_keys(c, &keys);
        if (err < 0) {
            c->state = DTLSRV_DEAD;
            c->cb.failed(c->arg, err, "no SRTP profile negotiated");
        } else {
            c->cb.connected(c->arg, &keys);
        }
        return;
    }
    int e = SSL_get_error(c->ssl, rc);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        dtlsrv_arm(c);
        return;
    }
    unsigned long ossl = ERR_get_error();
    ERR_clear_error();
    dtlsrv_fail(c, -EPROTO, ossl ? ERR_reason_error_string(ossl) : "handshake failed");
}

static void dtlsrv_timer_cb(uv_timer_t *t)
{
    struct dtlsrv_conn *c = t->data;
    c->busy++;
    if (uv_now(t->loop) >= c->deadline)
        dtlsrv_fail(c, -ETIMEDOUT, "handshake timed out");
    else if (DTLSv1_handle_timeout(c->ssl) < 0)
        dtlsrv_fail(c, -EPROTO, "retransmission failed");
    else
        dtlsrv_arm(c);
    if (--c->busy == 0 && c->freed)
        dtlsrv_release(c);
}

void dtlsrv_conn_input(struct dtlsrv_conn *c, const uint8_t *p, size_t len)
{
    if (c->state == DTLSRV_DEAD || len == 0 || len > 65535)
        return;
    c->busy++;
    BIO *rbio = SSL_get_rbio(c->ssl);
    (void)BIO_reset(rbio); /* one datagram at a time: leftovers of a bad one are dropped */
    if (BIO_write(rbio, p, (int)len) == (int)len)
        dtlsrv_step(c);
    if (--c->busy == 0 && c->freed)
        dtlsrv_release(c);
}

int dtlsrv_conn_new(struct dtlsrv_conn **out, struct dtlsrv_ctx *ctx, uv_loop_t *loop,
                    const struct dtlsrv_fingerprints *fps, const struct dtlsrv_callbacks *cb,
                    void *arg)
{
    if (fps->n == 0 || fps->n > DTLSRV_FP_SET_MAX)
        return -EINVAL;
    struct dtlsrv_conn *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->expect = *fps;
    c->cb = *cb;
    c->arg = arg;
    c->ssl = SSL_new(ctx->ssl_ctx);
    c->timer = malloc(sizeof(*c->timer));
    BIO *rbio = BIO_new(BIO_s_mem());
    BIO *wbio = BIO_new(ctx->out_method);
    if (!c->ssl || !c->timer || !rbio || !wbio) {
        BIO_free(rbio);
        BIO_free(wbio);
        SSL_free(c->ssl);
        free(c->timer);
        free(c);
        return -ENOMEM;
    }
    (void)uv_timer_init(loop, c->timer);
    c->timer->data = c;
    c->deadline = uv_now(loop) + DTLSRV_HANDSHAKE_TIMEOUT;
    (void)uv_timer_start(c->timer, dtlsrv_timer_cb, DTLSRV_HANDSHAKE_TIMEOUT, 0);
    DTLS_set_timer_cb(c->ssl, dtls_rtx_next_us); /* 250 ms, doubling */
    BIO_set_mem_eof_return(rbio, -1);            /* empty means "wait for the next datagram" */
    BIO_set_data(wbio, c);
    SSL_set_bio(c->ssl, rbio, wbio);
    SSL_set_accept_state(c->ssl);
    SSL_set_mtu(c->ssl, DTLSRV_MTU);
    DTLS_set_link_mtu(c->ssl, DTLSRV_MTU);
    *out = c;
    return 0;
}
