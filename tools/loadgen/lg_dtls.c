/* SPDX-License-Identifier: MIT */
/* lg_dtls.c: DTLS-SRTP client for the load generator's viewers: certificate, per-viewer
 * handshakes over memory BIOs (flights split into datagrams at record boundaries), peer
 * fingerprint check, key export (RFC 5764 4.2) and libsrtp2 session creation. */
#include "tools/loadgen/lg_dtls.h"

#include <errno.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "rtc/dtls_rtx.h"

#define LG_DTLS_MTU 1200

static int accept_self_signed(int ok, X509_STORE_CTX *store)
{
    (void)ok;
    (void)store;
    /* WebRTC certificates are self-signed; the fingerprint from the answer is checked
     * after the handshake (RFC 8122 5). */
    return 1;
}

static X509 *make_cert(EVP_PKEY *key)
{
    X509 *x = X509_new();
    if (!x)
        return NULL;
    X509_NAME *name = X509_get_subject_name(x);
    uint64_t serial;
    if (RAND_bytes((unsigned char *)&serial, sizeof(serial)) != 1 || !X509_set_version(x, 2) ||
        !ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), serial >> 1) ||
        !X509_gmtime_adj(X509_getm_notBefore(x), -86400) ||
        !X509_gmtime_adj(X509_getm_notAfter(x), 30L * 86400) || !X509_set_pubkey(x, key) ||
        !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                    (const unsigned char *)"ringcast-loadgen", -1, -1, 0) ||
        !X509_set_issuer_name(x, name) || !X509_sign(x, key, EVP_sha256())) {
        X509_free(x);
        return NULL;
    }
    return x;
}

static void format_fingerprint(const unsigned char *md, char *out)
{
    static const char hex[] = "0123456789ABCDEF";
    for (int i = 0; i < LG_FP_LEN; i++) {
        out[3 * i] = hex[md[i] >> 4];
        out[3 * i + 1] = hex[md[i] & 15];
        out[3 * i + 2] = i + 1 < LG_FP_LEN ? ':' : '\0';
    }
}

int lg_dtls_ctx_init(struct lg_dtls_ctx *d, enum lg_srtp_choice srtp)
{
    memset(d, 0, sizeof(*d));
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *cert = key ? make_cert(key) : NULL;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    int err = -ENOMEM;
    if (!cert || !X509_digest(cert, EVP_sha256(), md, &mdlen) || mdlen != LG_FP_LEN)
        goto out;
    format_fingerprint(md, d->fingerprint);

    d->ctx = SSL_CTX_new(DTLS_client_method());
    if (!d->ctx)
        goto out;
    const char *profiles = srtp == LG_SRTP_GCM  ? "SRTP_AEAD_AES_128_GCM"
                           : srtp == LG_SRTP_CM ? "SRTP_AES128_CM_SHA1_80"
                                                : "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80";
    err = -EINVAL;
    if (!SSL_CTX_set_min_proto_version(d->ctx, DTLS1_2_VERSION) ||
        SSL_CTX_use_certificate(d->ctx, cert) != 1 || SSL_CTX_use_PrivateKey(d->ctx, key) != 1 ||
        SSL_CTX_set_tlsext_use_srtp(d->ctx, profiles) != 0) /* returns 0 on success */
        goto out;
    SSL_CTX_set_verify(d->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                       accept_self_signed);
    SSL_CTX_set_read_ahead(d->ctx, 1);
    err = 0;
out:
    X509_free(cert);
    EVP_PKEY_free(key);
    if (err) {
        SSL_CTX_free(d->ctx);
        d->ctx = NULL;
    }
    return err;
}

void lg_dtls_ctx_free(struct lg_dtls_ctx *d)
{
    SSL_CTX_free(d->ctx);
    d->ctx = NULL;
}

/* Sends what OpenSSL wrote, one datagram per group of whole records of at most the MTU
 * (a memory BIO concatenates a flight's records, RFC 6347 4.1.1 allows several per
 * datagram). */
static int dtls_flush(struct lg_dtls *t, lg_dtls_send_fn send, void *arg)
{
    uint8_t buf[16384];
    int n = BIO_read(t->wbio, buf, sizeof(buf));
    if (n <= 0)
        return 0;
    size_t len = (size_t)n, start = 0, off = 0;
    while (off < len) {
        if (len - off < 13)
            return -EPROTO;
        size_t rec = 13 + (size_t)(buf[off + 11] << 8 | buf[off + 12]);
        if (off + rec > len)
            return -EPROTO;
        if (off + rec - start > LG_DTLS_MTU && off > start) {
            int err = send(arg, buf + start, off - start);
            if (err)
                return err;
            start = off;
        }
        off += rec;
    }
    return off > start ? send(arg, buf + start, off - start) : 0;
}

/* Drives the handshake: 1 done, 0 in progress, -EPROTO failed. */
static int dtls_step(struct lg_dtls *t, lg_dtls_send_fn send, void *arg)
{
    int r = SSL_do_handshake(t->ssl);
    int ferr = dtls_flush(t, send, arg);
    if (r == 1)
        return ferr ? ferr : 1;
    int e = SSL_get_error(t->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return ferr;
    ERR_clear_error();
    return -EPROTO;
}

int lg_dtls_start(struct lg_dtls *t, struct lg_dtls_ctx *d, lg_dtls_send_fn send, void *arg)
{
    memset(t, 0, sizeof(*t));
    t->ssl = SSL_new(d->ctx);
    t->rbio = BIO_new(BIO_s_mem());
    t->wbio = BIO_new(BIO_s_mem());
    if (!t->ssl || !t->rbio || !t->wbio) {
        BIO_free(t->rbio);
        BIO_free(t->wbio);
        SSL_free(t->ssl);
        memset(t, 0, sizeof(*t));
        return -ENOMEM;
    }
    /* An empty memory BIO must read as "retry", not EOF. */
    BIO_set_mem_eof_return(t->rbio, -1);
    SSL_set_bio(t->ssl, t->rbio, t->wbio);
    SSL_set_options(t->ssl, SSL_OP_NO_QUERY_MTU);
    SSL_set_mtu(t->ssl, LG_DTLS_MTU);
    /* Lost flights are resent after 250 ms, doubling, as the server does (browsers start
     * lower than OpenSSL's 1 s too): a lossy path then costs a viewer less set-up time. */
    DTLS_set_timer_cb(t->ssl, dtls_rtx_next_us);
    SSL_set_connect_state(t->ssl);
    int r = dtls_step(t, send, arg);
    return r < 0 ? r : 0;
}

int lg_dtls_input(struct lg_dtls *t, const uint8_t *p, size_t len, lg_dtls_send_fn send, void *arg)
{
    if (!t->ssl)
        return -EPROTO;
    if (len > INT32_MAX || BIO_write(t->rbio, p, (int)len) != (int)len)
        return -ENOMEM;
    return dtls_step(t, send, arg);
}

void lg_dtls_timer(struct lg_dtls *t, lg_dtls_send_fn send, void *arg)
{
    if (t->ssl && DTLSv1_handle_timeout(t->ssl) > 0)
        (void)dtls_flush(t, send, arg); /* a failed resend is retried at the next expiry */
}

int lg_dtls_srtp(struct lg_dtls *t, const uint8_t fingerprint[LG_FP_LEN], uint32_t ssrc,
                 srtp_t *out, int *tag_len, int *gcm)
{
    X509 *peer = SSL_get1_peer_certificate(t->ssl);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    int ok = peer && X509_digest(peer, EVP_sha256(), md, &mdlen) && mdlen == LG_FP_LEN &&
             memcmp(md, fingerprint, LG_FP_LEN) == 0;
    X509_free(peer);
    if (!ok)
        return -EACCES;

    const SRTP_PROTECTION_PROFILE *prof = SSL_get_selected_srtp_profile(t->ssl);
    if (!prof || (prof->id != SRTP_AEAD_AES_128_GCM && prof->id != SRTP_AES128_CM_SHA1_80))
        return -EPROTO;
    *gcm = prof->id == SRTP_AEAD_AES_128_GCM;
    size_t klen = 16, slen = *gcm ? 12 : 14;
    *tag_len = *gcm ? 16 : 10;

    /* RFC 5764 4.2: client key, server key, client salt, server salt. */
    uint8_t km[2 * (16 + 14)];
    if (SSL_export_keying_material(t->ssl, km, 2 * (klen + slen), "EXTRACTOR-dtls_srtp", 19, NULL,
                                   0, 0) != 1)
        return -EPROTO;
    uint8_t key_in[16 + 14], key_out[16 + 14];
    memcpy(key_out, km, klen);
    memcpy(key_out + klen, km + 2 * klen, slen);
    memcpy(key_in, km + klen, klen);
    memcpy(key_in + klen, km + 2 * klen + slen, slen);

    srtp_policy_t in, outp;
    memset(&in, 0, sizeof(in));
    memset(&outp, 0, sizeof(outp));
    if (*gcm) {
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&in.rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&in.rtcp);
    } else {
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&in.rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&in.rtcp);
    }
    outp.rtp = in.rtp;
    outp.rtcp = in.rtcp;
    in.ssrc.type = ssrc_any_inbound;
    in.key = key_in;
    /* Retransmissions arrive well after their neighbours; a wider replay window than the
     * default 128 keeps them from being rejected as replays. */
    in.window_size = 1024;
    in.next = &outp;
    /* libsrtp allows one wildcard stream per session: ours is the specific SSRC we send
     * RTCP with. */
    outp.ssrc.type = ssrc_specific;
    outp.ssrc.value = ssrc;
    outp.key = key_out;
    outp.window_size = 1024;
    srtp_err_status_t st = srtp_create(out, &in);
    OPENSSL_cleanse(km, sizeof(km));
    OPENSSL_cleanse(key_in, sizeof(key_in));
    OPENSSL_cleanse(key_out, sizeof(key_out));
    return st == srtp_err_status_ok ? 0 : -EPROTO;
}

void lg_dtls_free(struct lg_dtls *t)
{
    SSL_free(t->ssl); /* frees the BIOs set with SSL_set_bio */
    memset(t, 0, sizeof(*t));
}
