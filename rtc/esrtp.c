/* SPDX-License-Identifier: MIT */
/* esrtp.c: SRTP for the egress and a WHIP ingest on OpenSSL (RFC 3711, RFC 7714). Session keys come
 * from the RFC 3711 4.3 KDF; each viewer keeps one keyed cipher context for its RTP (the hot path:
 * per packet only an IV and one pass from the ring's bytes into the send slot), for the CM profile
 * its RTP auth key's precomputed HMAC state (common/hmac_sha1.h), and plain session keys for RTCP,
 * which a process-wide context is keyed with per packet (about one a second per viewer). Encryption
 * calls the provider's cipher functions directly (see esrtp_impl); decryption and the KDF, which
 * are rare, go through EVP. libsrtp2 stays the independent peer in the tests: this build of it runs
 * on NSS, which sets up a context and allocates on every packet (mediabench -c, 1200 bytes: ~2.2 us
 * GCM, ~10 us CM; 59 KB a viewer) where this costs ~0.7 us GCM, ~1.35 us CM and about 1 KB. Also
 * the packet-index bookkeeping (the invariant it keeps is stated in esrtp.h). */
#include "rtc/esrtp.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/core_dispatch.h>
#include <openssl/evp.h>
#include <openssl/provider.h>

#include "common/hmac_sha1.h"

#define ESRTP_TAG_CM  10 /* HMAC-SHA1 truncated to 80 bits */
#define ESRTP_TAG_GCM 16

/* RFC 3711 4.3.2 key derivation labels. */
enum {
    ESRTP_LABEL_RTP_KEY = 0,
    ESRTP_LABEL_RTP_AUTH = 1,
    ESRTP_LABEL_RTP_SALT = 2,
    ESRTP_LABEL_RTCP_KEY = 3,
    ESRTP_LABEL_RTCP_AUTH = 4,
    ESRTP_LABEL_RTCP_SALT = 5,
};

/* One cipher of the provider EVP fetches for its name, called through the provider's dispatch
 * table (provider-cipher(7)). Through EVP, OpenSSL 3.0 queries the IV length by OSSL_PARAM
 * name on every re-initialisation and the tag goes through EVP_CIPHER_CTX_ctrl: 230 of the
 * 910 ns that protecting a 1200-byte GCM packet took, mostly strcmp (mediabench -c). Called
 * directly, the provider does the same work without those lookups. */
struct esrtp_impl {
    const char *name;
    size_t iv_len;
    EVP_CIPHER *cipher; /* keeps the provider loaded */
    void *provctx;
    OSSL_FUNC_cipher_newctx_fn *newctx;
    OSSL_FUNC_cipher_freectx_fn *freectx;
    OSSL_FUNC_cipher_encrypt_init_fn *einit;
    OSSL_FUNC_cipher_update_fn *update;
    OSSL_FUNC_cipher_final_fn *final;
    OSSL_FUNC_cipher_get_ctx_params_fn *get_params;
    void *rtcp; /* keyed per SRTCP packet we protect */
};

static struct esrtp_impl esrtp_gcm = {.name = "AES-128-GCM", .iv_len = 12},
                         esrtp_ctr = {.name = "AES-128-CTR", .iv_len = 16};

struct esrtp {
    uint16_t profile;
    const struct esrtp_impl *impl;
    void *rtp; /* the impl's context, keyed with rtp_keys.key */
    struct esrtp_keys rtp_keys, rtcp_tx, rtcp_rx;
    /* CM: rtp_keys.auth keyed once (192 bytes), which spares every packet two SHA-1 blocks
     * of keying and EVP_MAC_init's five allocations. SRTCP keys per use. */
    struct hmacsha1 rtp_auth;
    /* Receiving RTP (NULL context until esrtp_rtp_rx_keyed): its own EVP context, keyed once,
     * so per packet only the IV is set. */
    EVP_CIPHER_CTX *rtp_rx;
    struct esrtp_keys rtp_rx_keys;
    struct hmacsha1 rtp_rx_auth;
    struct esrtp_rx_source {
        uint32_t ssrc;
        uint32_t roc; /* rollover counter of the highest index received */
        uint16_t s_l; /* the highest SEQ received (RFC 3711 3.3.1 s_l) */
        uint8_t used; /* the slot holds a source */
        /* Bit i % 64 of word i / 64: index (roc << 16 | s_l) - i was received. */
        uint64_t window[ESRTP_RX_WINDOW / 64];
        uint64_t stamp; /* last use, to pick a slot for a new SSRC */
    } rx[ESRTP_RX_SOURCES];
    uint64_t rx_clock;
    uint32_t rtcp_tx_index;  /* next SRTCP index we send (31 bits) */
    uint32_t rtcp_rx_max;    /* highest SRTCP index received, and a 64-packet */
    uint64_t rtcp_rx_window; /* replay window below it (RFC 3711 3.3.2) */
    bool rtcp_rx_seen;
};

/* Process-wide contexts keyed per use (unprotecting RTCP, the KDF): each worker process is
 * single-threaded, so one of each serves all its viewers. One cipher context per algorithm,
 * so that re-keying keeps the algorithm (and allocates nothing). */
static EVP_CIPHER_CTX *esrtp_gcm_ctx, *esrtp_ctr_ctx;

static int esrtp_shared_ctx(EVP_CIPHER_CTX **c, const EVP_CIPHER *cipher)
{
    if (*c)
        return 0;
    *c = EVP_CIPHER_CTX_new();
    if (!*c)
        return -ENOMEM;
    if (EVP_EncryptInit_ex(*c, cipher, NULL, NULL, NULL) != 1) {
        EVP_CIPHER_CTX_free(*c);
        *c = NULL;
        return -EIO;
    }
    return 0;
}

/* True if name is one of the colon-separated names in names (case-insensitive). */
static bool esrtp_name_in(const char *names, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = names; p; p = strchr(p, ':'), p = p ? p + 1 : NULL)
        if (OPENSSL_strncasecmp(p, name, n) == 0 && (p[n] == ':' || p[n] == '\0'))
            return true;
    return false;
}

/* Reads the function pointers of the implementation of im->name that EVP fetches (so the
 * configured provider, FIPS or default, still decides), and creates its RTCP context. */
static int esrtp_impl_load(struct esrtp_impl *im)
{
    if (im->rtcp)
        return 0;
    if (!im->cipher && !(im->cipher = EVP_CIPHER_fetch(NULL, im->name, NULL)))
        return -EIO;
    OSSL_PROVIDER *prov = (OSSL_PROVIDER *)EVP_CIPHER_get0_provider(im->cipher);
    int no_store = 0;
    const OSSL_ALGORITHM *alg = OSSL_PROVIDER_query_operation(prov, OSSL_OP_CIPHER, &no_store);
    const OSSL_ALGORITHM *a = alg;
    while (a && a->algorithm_names && !esrtp_name_in(a->algorithm_names, im->name))
        a++;
    for (const OSSL_DISPATCH *d = a && a->algorithm_names ? a->implementation : NULL;
         d && d->function_id; d++) {
        switch (d->function_id) {
        case OSSL_FUNC_CIPHER_NEWCTX:
            im->newctx = OSSL_FUNC_cipher_newctx(d);
            break;
        case OSSL_FUNC_CIPHER_FREECTX:
            im->freectx = OSSL_FUNC_cipher_freectx(d);
            break;
        case OSSL_FUNC_CIPHER_ENCRYPT_INIT:
            im->einit = OSSL_FUNC_cipher_encrypt_init(d);
            break;
        case OSSL_FUNC_CIPHER_UPDATE:
            im->update = OSSL_FUNC_cipher_update(d);
            break;
        case OSSL_FUNC_CIPHER_FINAL:
            im->final = OSSL_FUNC_cipher_final(d);
            break;
        case OSSL_FUNC_CIPHER_GET_CTX_PARAMS:
            im->get_params = OSSL_FUNC_cipher_get_ctx_params(d);
            break;
        }
    }
    OSSL_PROVIDER_unquery_operation(prov, OSSL_OP_CIPHER, alg);
    im->provctx = OSSL_PROVIDER_get0_provider_ctx(prov);
    if (!im->newctx || !im->freectx || !im->einit || !im->update || !im->final || !im->get_params)
        return -EIO;
    return (im->rtcp = im->newctx(im->provctx)) ? 0 : -ENOMEM;
}

int esrtp_global_init(void)
{
    if (esrtp_gcm_ctx && esrtp_ctr_ctx && esrtp_gcm.rtcp && esrtp_ctr.rtcp)
        return 0;
    int rc = esrtp_shared_ctx(&esrtp_gcm_ctx, EVP_aes_128_gcm());
    if (rc == 0)
        rc = esrtp_shared_ctx(&esrtp_ctr_ctx, EVP_aes_128_ctr());
    if (rc == 0)
        rc = esrtp_impl_load(&esrtp_gcm);
    return rc ? rc : esrtp_impl_load(&esrtp_ctr);
}

size_t esrtp_keying_len(uint16_t profile)
{
    switch (profile) {
    case ESRTP_AES128_CM_SHA1_80:
        return 2 * (ESRTP_KEY_LEN + ESRTP_SALT_CM);
    case ESRTP_AEAD_AES_128_GCM:
        return 2 * (ESRTP_KEY_LEN + ESRTP_SALT_GCM);
    default:
        return 0;
    }
}

/* RFC 3711 4.3.1 with key_derivation_rate 0: the AES-CM keystream under the master key with
 * IV = (master salt XOR label << 48) << 16. RFC 7714 11 uses the same KDF with the 96-bit
 * AEAD salt, which (as libsrtp2 does) fills the 112-bit salt field padded with zeros. */
static int esrtp_kdf(const uint8_t *mkey, const uint8_t *msalt, size_t salt_len, uint8_t label,
                     uint8_t *out, size_t out_len)
{
    uint8_t iv[16] = {0}, zero[32] = {0};
    memcpy(iv, msalt, salt_len);
    iv[7] ^= label;
    EVP_CIPHER_CTX *c = esrtp_ctr_ctx;
    int ol = 0, ok = out_len <= sizeof(zero) && EVP_EncryptInit_ex(c, NULL, NULL, mkey, iv) == 1 &&
                     EVP_EncryptUpdate(c, out, &ol, zero, (int)out_len) == 1;
    return ok ? 0 : -EIO;
}

/* Session keys for one direction from its master key and salt, from label base on. */
static int esrtp_derive(struct esrtp_keys *k, uint16_t profile, const uint8_t *mkey,
                        const uint8_t *msalt, uint8_t base)
{
    bool gcm = profile == ESRTP_AEAD_AES_128_GCM;
    size_t sl = gcm ? ESRTP_SALT_GCM : ESRTP_SALT_CM;
    memset(k, 0, sizeof(*k));
    int rc = esrtp_kdf(mkey, msalt, sl, base, k->key, sizeof(k->key));
    if (rc == 0)
        rc = esrtp_kdf(mkey, msalt, sl, base + 2, k->salt, sl);
    if (rc == 0 && !gcm)
        rc = esrtp_kdf(mkey, msalt, sl, base + 1, k->auth, sizeof(k->auth));
    return rc;
}

int esrtp_derive_keys(struct esrtp_keys *rtp, struct esrtp_keys *rtcp, uint16_t profile,
                      const uint8_t *mkey, const uint8_t *msalt)
{
    if (!esrtp_keying_len(profile))
        return -EPROTONOSUPPORT;
    int rc = esrtp_global_init();
    if (rc == 0 && rtp)
        rc = esrtp_derive(rtp, profile, mkey, msalt, ESRTP_LABEL_RTP_KEY);
    if (rc == 0)
        rc = esrtp_derive(rtcp, profile, mkey, msalt, ESRTP_LABEL_RTCP_KEY);
    return rc;
}

int esrtp_create_keyed(struct esrtp **out, uint16_t profile, const struct esrtp_keys *rtp,
                       const struct esrtp_keys *rtcp_tx, const struct esrtp_keys *rtcp_rx)
{
    if (!esrtp_keying_len(profile))
        return -EPROTONOSUPPORT;
    int rc = esrtp_global_init();
    if (rc < 0)
        return rc;
    struct esrtp *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->profile = profile;
    s->rtp_keys = *rtp;
    s->rtcp_tx = *rtcp_tx;
    s->rtcp_rx = *rtcp_rx;
    if (profile == ESRTP_AES128_CM_SHA1_80)
        hmacsha1_init(&s->rtp_auth, s->rtp_keys.auth, ESRTP_AUTH_LEN);
    s->impl = profile == ESRTP_AEAD_AES_128_GCM ? &esrtp_gcm : &esrtp_ctr;
    if (!(s->rtp = s->impl->newctx(s->impl->provctx)))
        rc = -ENOMEM;
    /* The key schedule (and GHASH table) are computed once here; per packet only the IV is
     * set (an init with a NULL key keeps them). */
    if (rc == 0 && s->impl->einit(s->rtp, s->rtp_keys.key, ESRTP_KEY_LEN, NULL, 0, NULL) != 1)
        rc = -EIO;
    if (rc < 0) {
        esrtp_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

int esrtp_create(struct esrtp **out, uint16_t profile, const uint8_t *keying, size_t len)
{
    size_t want = esrtp_keying_len(profile);
    if (!want)
        return -EPROTONOSUPPORT;
    if (len != want)
        return -EINVAL;
    /* RFC 5764 4.2: client key | server key | client salt | server salt. */
    size_t sl = (want / 2) - ESRTP_KEY_LEN;
    const uint8_t *ckey = keying, *skey = keying + ESRTP_KEY_LEN;
    const uint8_t *csalt = keying + 2 * ESRTP_KEY_LEN, *ssalt = csalt + sl;
    struct esrtp_keys k[3];
    int rc = esrtp_derive_keys(&k[0], &k[1], profile, skey, ssalt);
    if (rc == 0)
        rc = esrtp_derive_keys(NULL, &k[2], profile, ckey, csalt);
    if (rc == 0)
        rc = esrtp_create_keyed(out, profile, &k[0], &k[1], &k[2]);
    OPENSSL_cleanse(k, sizeof(k));
    return rc;
}

void esrtp_free(struct esrtp *s)
{
    if (!s)
        return;
    if (s->rtp)
        s->impl->freectx(s->rtp);
    EVP_CIPHER_CTX_free(s->rtp_rx);
    OPENSSL_cleanse(s, sizeof(*s));
    free(s);
}

/* The 12-byte GCM IV: salt XOR (00 00 | SSRC | hi | lo), RFC 7714 8.1 (hi = ROC, lo = SEQ)
 * and 9.1 (hi:lo = SRTCP index). */
static void esrtp_gcm_iv(uint8_t iv[12], const uint8_t *salt, const uint8_t ssrc[4], uint32_t hi,
                         uint16_t lo)
{
    uint8_t x[12] = {0,
                     0,
                     ssrc[0],
                     ssrc[1],
                     ssrc[2],
                     ssrc[3],
                     (uint8_t)(hi >> 24),
                     (uint8_t)(hi >> 16),
                     (uint8_t)(hi >> 8),
                     (uint8_t)hi,
                     (uint8_t)(lo >> 8),
                     (uint8_t)lo};
    for (int i = 0; i < 12; i++)
        iv[i] = salt[i] ^ x[i];
}

/* The 16-byte AES-CM IV, RFC 3711 4.1.1: (salt << 16) XOR (SSRC << 64) XOR (index << 16). */
static void esrtp_cm_iv(uint8_t iv[16], const uint8_t *salt, const uint8_t ssrc[4], uint64_t index)
{
    memcpy(iv, salt, ESRTP_SALT_CM);
    iv[14] = iv[15] = 0;
    for (int i = 0; i < 4; i++)
        iv[4 + i] ^= ssrc[i];
    for (int i = 0; i < 6; i++)
        iv[8 + i] ^= (uint8_t)(index >> (40 - 8 * i));
}

/* Encrypts the gathered payload into out with ctx of im, keyed with key (NULL: keep the
 * key) and the IV iv. For GCM, the AAD (aad, then aad2) goes first and the tag is appended.
 * out has room for the payload and ESRTP_TRAILER_MAX. Returns the bytes written or -EIO. */
static int esrtp_encrypt(const struct esrtp_impl *im, void *ctx, const uint8_t *key,
                         const uint8_t *iv, const uint8_t *aad, size_t aad_len, const uint8_t *aad2,
                         size_t aad2_len, uint8_t *out, const struct iovec *pl, unsigned n)
{
    bool gcm = im == &esrtp_gcm;
    size_t l, total, klen = key ? ESRTP_KEY_LEN : 0;
    if (im->einit(ctx, key, klen, iv, im->iv_len, NULL) != 1)
        return -EIO;
    /* The provider wants output room even for the AAD, which it does not write. */
    if (gcm && (im->update(ctx, NULL, &l, aad_len, aad, aad_len) != 1 ||
                (aad2_len && im->update(ctx, NULL, &l, aad2_len, aad2, aad2_len) != 1)))
        return -EIO;
    /* A payload in pieces (an FU-A fragment: its 2-byte header, then its slice of the ring)
     * is gathered into out and encrypted there in one update: each further update costs
     * more than copying the bytes (1200-byte fragment: ~800 ns in two updates, ~770 in one). */
    size_t len = 0;
    for (unsigned i = 0; i < n; len += pl[i].iov_len, i++)
        if (n > 1)
            memcpy(out + len, pl[i].iov_base, pl[i].iov_len);
    const uint8_t *in = n == 1 ? pl[0].iov_base : out;
    if (n && im->update(ctx, out, &l, len, in, len) != 1)
        return -EIO;
    total = n ? l : 0;
    if (!gcm)
        return (int)total;
    OSSL_PARAM tag[] = {
        OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, out + total, ESRTP_TAG_GCM),
        OSSL_PARAM_construct_end()};
    if (im->final(ctx, out + total, &l, ESRTP_TRAILER_MAX) != 1 || l != 0 ||
        im->get_params(ctx, tag) != 1)
        return -EIO;
    return (int)(total + ESRTP_TAG_GCM);
}

/* HMAC-SHA1 over a | b (b optional) under h, RFC 3711 4.2.1; the first 10 bytes into tag. */
static void esrtp_hmac80(const struct hmacsha1 *h, const uint8_t *a, size_t a_len, const uint8_t *b,
                         size_t b_len, uint8_t tag[ESRTP_TAG_CM])
{
    uint8_t md[HMACSHA1_LEN];
    hmacsha1_mac(h, a, a_len, b, b_len, md);
    memcpy(tag, md, ESRTP_TAG_CM);
}

/* The same for SRTCP, keyed per use from the plain auth key k: about one packet a second
 * per viewer each way does not earn another 192 bytes of keyed state per viewer. */
static void esrtp_rtcp_hmac80(const uint8_t k[ESRTP_AUTH_LEN], const uint8_t *p, size_t len,
                              uint8_t tag[ESRTP_TAG_CM])
{
    struct hmacsha1 h;
    hmacsha1_init(&h, k, ESRTP_AUTH_LEN);
    esrtp_hmac80(&h, p, len, NULL, 0, tag);
    OPENSSL_cleanse(&h, sizeof(h));
}

int esrtp_protect_rtp(struct esrtp *s, uint8_t *pkt, size_t hdr_len, const struct iovec *pl,
                      unsigned n, uint64_t index)
{
    bool gcm = s->profile == ESRTP_AEAD_AES_128_GCM;
    uint8_t iv[16];
    if (gcm)
        esrtp_gcm_iv(iv, s->rtp_keys.salt, pkt + 8, (uint32_t)(index >> 16), (uint16_t)index);
    else
        esrtp_cm_iv(iv, s->rtp_keys.salt, pkt + 8, index);
    int l = esrtp_encrypt(s->impl, s->rtp, NULL, iv, pkt, hdr_len, NULL, 0, pkt + hdr_len, pl, n);
    if (l < 0 || gcm)
        return l < 0 ? l : (int)hdr_len + l;
    /* RFC 3711 4.2: the tag covers the packet and the rollover counter. */
    uint32_t roc = (uint32_t)(index >> 16);
    uint8_t rocb[4] = {(uint8_t)(roc >> 24), (uint8_t)(roc >> 16), (uint8_t)(roc >> 8),
                       (uint8_t)roc};
    size_t len = hdr_len + (size_t)l;
    esrtp_hmac80(&s->rtp_auth, pkt, len, rocb, 4, pkt + len);
    return (int)(len + ESRTP_TAG_CM);
}

/* Keys the shared EVP context of the profile to decrypt one SRTCP packet; NULL on failure. */
static EVP_CIPHER_CTX *esrtp_rtcp_rx_key(const struct esrtp_keys *k, bool gcm, const uint8_t *iv)
{
    EVP_CIPHER_CTX *c = gcm ? esrtp_gcm_ctx : esrtp_ctr_ctx;
    return EVP_DecryptInit_ex(c, NULL, NULL, k->key, iv) == 1 ? c : NULL;
}

int esrtp_protect_rtcp(struct esrtp *s, uint8_t *pkt, size_t len)
{
    bool gcm = s->profile == ESRTP_AEAD_AES_128_GCM;
    if (len < 8)
        return -EIO;
    /* RFC 3711 3.4 / RFC 7714 9.2: header (8 bytes) | encrypted rest | E=1 + 31-bit index,
     * with the tag after the index word (CM: over everything before it) or before it (GCM:
     * the header and the word are the AAD). */
    uint32_t idx = s->rtcp_tx_index++ & 0x7fffffffu;
    uint8_t word[4] = {(uint8_t)(0x80 | idx >> 24), (uint8_t)(idx >> 16), (uint8_t)(idx >> 8),
                       (uint8_t)idx};
    uint8_t iv[16];
    if (gcm)
        esrtp_gcm_iv(iv, s->rtcp_tx.salt, pkt + 4, idx >> 16, (uint16_t)idx);
    else
        esrtp_cm_iv(iv, s->rtcp_tx.salt, pkt + 4, idx);
    struct iovec body = {pkt + 8, len - 8};
    int l = esrtp_encrypt(s->impl, s->impl->rtcp, s->rtcp_tx.key, iv, pkt, 8, word, 4, pkt + 8,
                          &body, 1);
    if (l < 0)
        return -EIO;
    memcpy(pkt + 8 + l, word, 4);
    size_t n = 8 + (size_t)l + 4;
    if (gcm)
        return (int)n;
    esrtp_rtcp_hmac80(s->rtcp_tx.auth, pkt, n, pkt + n);
    return (int)(n + ESRTP_TAG_CM);
}

/* RFC 3711 3.3.2 replay check on the SRTCP index, 64 packets back. */
static bool esrtp_rtcp_replay_ok(const struct esrtp *s, uint32_t idx)
{
    if (!s->rtcp_rx_seen || idx > s->rtcp_rx_max)
        return true;
    uint32_t back = s->rtcp_rx_max - idx;
    return back < 64 && !(s->rtcp_rx_window & (1ull << back));
}

static void esrtp_rtcp_replay_add(struct esrtp *s, uint32_t idx)
{
    if (!s->rtcp_rx_seen || idx > s->rtcp_rx_max) {
        uint32_t ahead = s->rtcp_rx_seen ? idx - s->rtcp_rx_max : 64;
        s->rtcp_rx_window = ahead >= 64 ? 0 : s->rtcp_rx_window << ahead;
        s->rtcp_rx_window |= 1;
        s->rtcp_rx_max = idx;
        s->rtcp_rx_seen = true;
    } else {
        s->rtcp_rx_window |= 1ull << (s->rtcp_rx_max - idx);
    }
}

int esrtp_unprotect_rtcp(struct esrtp *s, uint8_t *pkt, size_t len)
{
    bool gcm = s->profile == ESRTP_AEAD_AES_128_GCM;
    size_t tag_len = gcm ? ESRTP_TAG_GCM : ESRTP_TAG_CM;
    if (len < 8 + 4 + tag_len || len > 65535)
        return -EBADMSG;
    /* GCM: header | ciphertext | tag | word; CM: header | ciphertext | word | tag. */
    const uint8_t *word = gcm ? pkt + len - 4 : pkt + len - tag_len - 4;
    uint8_t *tag = gcm ? pkt + len - 4 - tag_len : pkt + len - tag_len;
    size_t ct_len = len - 8 - 4 - tag_len;
    uint32_t idx = ((uint32_t)(word[0] & 0x7f) << 24) | (uint32_t)word[1] << 16 |
                   (uint32_t)word[2] << 8 | word[3];
    if (!(word[0] & 0x80) || !esrtp_rtcp_replay_ok(s, idx))
        return -EBADMSG; /* unencrypted SRTCP is never negotiated by WebRTC */
    uint8_t iv[16];
    EVP_CIPHER_CTX *c;
    int l;
    if (gcm) {
        esrtp_gcm_iv(iv, s->rtcp_rx.salt, pkt + 4, idx >> 16, (uint16_t)idx);
        if (!(c = esrtp_rtcp_rx_key(&s->rtcp_rx, true, iv)) ||
            EVP_DecryptUpdate(c, NULL, &l, pkt, 8) != 1 ||
            EVP_DecryptUpdate(c, NULL, &l, word, 4) != 1 ||
            EVP_DecryptUpdate(c, pkt + 8, &l, pkt + 8, (int)ct_len) != 1 ||
            EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, ESRTP_TAG_GCM, tag) != 1 ||
            EVP_DecryptFinal_ex(c, pkt + 8 + l, &l) != 1)
            return -EBADMSG;
    } else {
        uint8_t want[ESRTP_TAG_CM];
        esrtp_rtcp_hmac80(s->rtcp_rx.auth, pkt, len - tag_len, want);
        if (CRYPTO_memcmp(want, tag, ESRTP_TAG_CM) != 0)
            return -EBADMSG;
        esrtp_cm_iv(iv, s->rtcp_rx.salt, pkt + 4, idx);
        if (!(c = esrtp_rtcp_rx_key(&s->rtcp_rx, false, iv)) ||
            EVP_DecryptUpdate(c, pkt + 8, &l, pkt + 8, (int)ct_len) != 1)
            return -EBADMSG;
    }
    esrtp_rtcp_replay_add(s, idx);
    return (int)(8 + ct_len);
}

/* ---- receiving RTP ---- */

int esrtp_rtp_rx_keyed(struct esrtp *s, const struct esrtp_keys *k)
{
    bool gcm = s->profile == ESRTP_AEAD_AES_128_GCM;
    if (!s->rtp_rx && !(s->rtp_rx = EVP_CIPHER_CTX_new()))
        return -ENOMEM;
    s->rtp_rx_keys = *k;
    memset(s->rx, 0, sizeof(s->rx));
    if (!gcm)
        hmacsha1_init(&s->rtp_rx_auth, k->auth, ESRTP_AUTH_LEN);
    /* The key schedule once; per packet only the IV (an init with a NULL key keeps it). */
    if (EVP_DecryptInit_ex(s->rtp_rx, gcm ? EVP_aes_128_gcm() : EVP_aes_128_ctr(), NULL, k->key,
                           NULL) != 1)
        return -EIO;
    return 0;
}

int esrtp_rtp_rx_start(struct esrtp *s, const uint8_t *keying, size_t len)
{
    size_t want = esrtp_keying_len(s->profile);
    if (len != want)
        return -EINVAL;
    /* RFC 5764 4.2: the client's write key and salt are the first of each. */
    struct esrtp_keys rtp, rtcp;
    int rc = esrtp_derive_keys(&rtp, &rtcp, s->profile, keying, keying + 2 * ESRTP_KEY_LEN);
    if (rc == 0)
        rc = esrtp_rtp_rx_keyed(s, &rtp);
    OPENSSL_cleanse(&rtp, sizeof(rtp));
    OPENSSL_cleanse(&rtcp, sizeof(rtcp));
    return rc;
}

/* The length of an RTP header with its CSRCs and extension (RFC 3550 5.1, 5.3.1), or 0 when
 * it does not fit in len. */
static size_t esrtp_rtp_header_len(const uint8_t *p, size_t len)
{
    if (len < 12 || (p[0] >> 6) != 2)
        return 0;
    size_t h = 12 + 4u * (p[0] & 0x0f);
    if ((p[0] & 0x10) && h + 4 <= len)
        h += 4 + 4u * (((size_t)p[h + 2] << 8) | p[h + 3]);
    else if (p[0] & 0x10)
        return 0;
    return h <= len ? h : 0;
}

/* The sender's slot for ssrc: its own, else a free one, else the least recently used. */
static struct esrtp_rx_source *esrtp_rx_source(struct esrtp *s, uint32_t ssrc)
{
    struct esrtp_rx_source *pick = &s->rx[0];
    for (unsigned i = 0; i < ESRTP_RX_SOURCES; i++) {
        struct esrtp_rx_source *r = &s->rx[i];
        if (r->used && r->ssrc == ssrc)
            return r;
        if (pick->used && (!r->used || r->stamp < pick->stamp))
            pick = r;
    }
    return pick;
}

/* RFC 3711 3.3.1 and Appendix A: the rollover counter v of seq guessed from the highest SEQ
 * the known source r sent, and the packet's 48-bit index; 3.3.2: false when received before
 * or older than the window. */
static bool esrtp_rx_seen(const struct esrtp_rx_source *r, uint64_t back)
{
    return r->window[back / 64] >> (back % 64) & 1;
}

/* The window moves ahead packets newer: every bit ahead places older. */
static void esrtp_rx_slide(struct esrtp_rx_source *r, uint64_t ahead)
{
    const unsigned n = ESRTP_RX_WINDOW / 64;
    if (ahead >= ESRTP_RX_WINDOW) {
        memset(r->window, 0, sizeof(r->window));
        return;
    }
    unsigned words = (unsigned)(ahead / 64), bits = (unsigned)(ahead % 64);
    for (unsigned i = n; i-- > 0;) {
        uint64_t v = i >= words ? r->window[i - words] << bits : 0;
        if (bits && i > words)
            v |= r->window[i - words - 1] >> (64 - bits);
        r->window[i] = v;
    }
}

static bool esrtp_rx_index(const struct esrtp_rx_source *r, uint16_t seq, uint64_t *index)
{
    uint32_t v = r->roc;
    if (r->s_l < 32768) {
        if (seq - r->s_l > 32768)
            v = r->roc - 1;
    } else if (r->s_l - 32768 > seq) {
        v = r->roc + 1;
    }
    *index = ((uint64_t)v << 16 | seq) & ESRTP_INDEX_MASK;
    uint64_t top = (uint64_t)r->roc << 16 | r->s_l;
    if (*index > top)
        return true;
    uint64_t back = top - *index;
    return back < ESRTP_RX_WINDOW && !esrtp_rx_seen(r, back);
}

static void esrtp_rx_accept(struct esrtp *s, struct esrtp_rx_source *r, uint32_t ssrc,
                            uint64_t index)
{
    uint64_t top = (uint64_t)r->roc << 16 | r->s_l;
    r->stamp = ++s->rx_clock;
    if (!r->used || r->ssrc != ssrc) {
        *r = (struct esrtp_rx_source){.ssrc = ssrc, .used = 1, .window = {1}, .stamp = r->stamp};
    } else if (index > top) {
        esrtp_rx_slide(r, index - top);
        r->window[0] |= 1;
    } else {
        uint64_t back = top - index;
        r->window[back / 64] |= 1ull << (back % 64);
        return;
    }
    r->roc = (uint32_t)(index >> 16);
    r->s_l = (uint16_t)index;
}

int esrtp_unprotect_rtp(struct esrtp *s, uint8_t *pkt, size_t len)
{
    bool gcm = s->profile == ESRTP_AEAD_AES_128_GCM;
    size_t tag_len = gcm ? ESRTP_TAG_GCM : ESRTP_TAG_CM;
    if (!s->rtp_rx)
        return -ENOTCONN;
    size_t hl = len > tag_len && len <= 65535 ? esrtp_rtp_header_len(pkt, len - tag_len) : 0;
    if (!hl)
        return -EBADMSG;
    uint32_t ssrc =
        (uint32_t)pkt[8] << 24 | (uint32_t)pkt[9] << 16 | (uint32_t)pkt[10] << 8 | pkt[11];
    uint16_t seq = (uint16_t)(pkt[2] << 8 | pkt[3]);
    struct esrtp_rx_source *r = esrtp_rx_source(s, ssrc);
    uint64_t index = seq; /* a new source's first packet: ROC 0 */
    if (r->used && r->ssrc == ssrc && !esrtp_rx_index(r, seq, &index))
        return -EBADMSG;
    size_t ct_len = len - hl - tag_len;
    uint8_t *tag = pkt + len - tag_len, iv[16];
    EVP_CIPHER_CTX *c = s->rtp_rx;
    int l;
    if (gcm) {
        esrtp_gcm_iv(iv, s->rtp_rx_keys.salt, pkt + 8, (uint32_t)(index >> 16), (uint16_t)index);
        if (EVP_DecryptInit_ex(c, NULL, NULL, NULL, iv) != 1 ||
            EVP_DecryptUpdate(c, NULL, &l, pkt, (int)hl) != 1 ||
            EVP_DecryptUpdate(c, pkt + hl, &l, pkt + hl, (int)ct_len) != 1 ||
            EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, ESRTP_TAG_GCM, tag) != 1 ||
            EVP_DecryptFinal_ex(c, pkt + hl + l, &l) != 1)
            return -EBADMSG;
    } else {
        /* RFC 3711 4.2: the tag covers the packet and the rollover counter. */
        uint32_t roc = (uint32_t)(index >> 16);
        uint8_t rocb[4] = {(uint8_t)(roc >> 24), (uint8_t)(roc >> 16), (uint8_t)(roc >> 8),
                           (uint8_t)roc},
                want[ESRTP_TAG_CM];
        esrtp_hmac80(&s->rtp_rx_auth, pkt, len - tag_len, rocb, 4, want);
        if (CRYPTO_memcmp(want, tag, ESRTP_TAG_CM) != 0)
            return -EBADMSG;
        esrtp_cm_iv(iv, s->rtp_rx_keys.salt, pkt + 8, index);
        if (EVP_DecryptInit_ex(c, NULL, NULL, NULL, iv) != 1 ||
            EVP_DecryptUpdate(c, pkt + hl, &l, pkt + hl, (int)ct_len) != 1)
            return -EBADMSG;
    }
    esrtp_rx_accept(s, r, ssrc, index);
    return (int)(hl + ct_len);
}

/* ---- packet indexes: the invariant is stated in srtp.h ---- */

void esrtp_index_init(struct esrtp_index *x, uint16_t seq0)
{
    memset(x, 0, sizeof(*x));
    x->seq0 = seq0;
}

/* How far index a lies behind b (mod 2^48). */
static uint64_t esrtp_index_behind(uint64_t a, uint64_t b)
{
    return (b - a) & ESRTP_INDEX_MASK;
}

int esrtp_index_for(struct esrtp_index *x, uint64_t global, uint64_t *index)
{
    if (!x->started || x->renumber) {
        /* RFC 3711 3.3.1: the first packet's rollover counter is 0; a new numbering continues
         * right after the last index sent, and nothing up to it is served again. */
        uint64_t first =
            x->started ? (x->last + 1) & ESRTP_INDEX_MASK : (uint16_t)(global + x->seq0);
        x->delta = first - global;
        x->floor = first;
        x->last = first;
        x->started = 1;
        x->renumber = 0;
    }
    uint64_t i = (global + x->delta) & ESRTP_INDEX_MASK;
    uint64_t back = esrtp_index_behind(i, x->last);
    if (back > esrtp_index_behind(x->floor, x->last)) {
        /* Not at or after the floor: either newer than last (less than half the index space
         * ahead), or older than the floor. */
        if (back < (1ull << 47))
            return -ERANGE;
        x->last = i;
    }
    *index = i;
    return 0;
}

void esrtp_index_renumber(struct esrtp_index *x)
{
    if (x->started)
        x->renumber = 1;
}

int esrtp_index_bound(const struct esrtp_index *x, uint64_t g_lo, uint64_t g_hi, uint64_t *above)
{
    uint64_t span = g_hi - g_lo;
    if (g_hi < g_lo || span > ESRTP_RESUME_MAX)
        return -ERANGE;
    if (x->started && !x->renumber) {
        uint64_t hi = (g_hi - 1 + x->delta) & ESRTP_INDEX_MASK;
        uint64_t ahead = esrtp_index_behind(x->last, hi);
        if (ahead < (1ull << 47) && ahead > ESRTP_RESUME_MAX)
            return -ERANGE;
        *above = ahead < (1ull << 47) ? hi : x->last;
        return 0;
    }
    /* The first index of the new numbering, then one per global number: a first packet
     * after g_lo gets at most (uint16_t)(g_lo + seq0) plus its distance from g_lo. */
    uint64_t first = x->started ? x->last + 1 : (uint16_t)(g_lo + x->seq0);
    *above = (first + span - 1) & ESRTP_INDEX_MASK;
    return 0;
}

void esrtp_index_resume(struct esrtp_index *x, uint64_t above)
{
    x->last = above & ESRTP_INDEX_MASK;
    x->floor = x->last;
    x->started = 1;
    x->renumber = 1;
}

int esrtp_index_nacked(const struct esrtp_index *x, uint16_t seq, uint32_t max_age,
                       uint16_t *global16)
{
    if (!x->started || x->renumber)
        return -ERANGE;
    /* Extended against the newest sent, backwards only: a NACK names a packet sent. */
    uint64_t age = (uint16_t)((uint16_t)x->last - seq);
    if (age > max_age || age > esrtp_index_behind(x->floor, x->last))
        return -ERANGE;
    *global16 = (uint16_t)(x->last - age - x->delta);
    return 0;
}
