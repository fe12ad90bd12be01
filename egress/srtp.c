/* srtp.c: SRTP for the egress. AEAD_AES_128_GCM (RFC 7714) on OpenSSL EVP contexts created
 * once per viewer: session keys from the RFC 3711 4.3 KDF, then per packet only an IV and one
 * pass of AES-GCM from the ring's bytes into the send slot (no copy, no allocation). The
 * AES_CM_128_HMAC_SHA1_80 fallback uses libsrtp2 sessions (one outbound, repeated sequence
 * numbers allowed for NACK retransmissions; one inbound for the viewer's SRTCP). */
#include "egress/srtp.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <srtp2/srtp.h>

#include "egress/media.h"

_Static_assert(ESRTP_TRAILER_MAX >= SRTP_MAX_TRAILER_LEN + 4, "room for tag and SRTCP index");

#define ESRTP_KEY_LEN  16
#define ESRTP_SALT_CM  14
#define ESRTP_SALT_GCM 12
#define ESRTP_TAG_GCM  16
/* Replay window of libsrtp2's outbound streams: a retransmission older than this many
 * packets is refused (srtp_err_status_replay_old), so it bounds how old a NACK we serve
 * under the CM profile. 1024 packets is about 4 s of a 2 Mbit/s stream. */
#define ESRTP_TX_WINDOW 1024

/* RFC 3711 4.3.2 key derivation labels. */
enum {
    ESRTP_LABEL_RTP_KEY = 0,
    ESRTP_LABEL_RTP_SALT = 2,
    ESRTP_LABEL_RTCP_KEY = 3,
    ESRTP_LABEL_RTCP_SALT = 5
};

/* One GCM direction: a keyed EVP context and the session salt. */
struct esrtp_gcm {
    EVP_CIPHER_CTX *ctx;
    uint8_t salt[ESRTP_SALT_GCM];
};

struct media_srtp {
    uint16_t profile;
    /* GCM: RTP out, RTCP out, RTCP in. */
    struct esrtp_gcm rtp_tx, rtcp_tx, rtcp_rx;
    uint32_t rtcp_tx_index;  /* next SRTCP index we send (31 bits) */
    uint32_t rtcp_rx_max;    /* highest SRTCP index received, and a 64-packet */
    uint64_t rtcp_rx_window; /* replay window below it (RFC 3711 3.3.2) */
    bool rtcp_rx_seen;
    /* CM: libsrtp2 sessions. */
    srtp_t tx;
    srtp_t rx;
};

int esrtp_global_init(void)
{
    static bool done;
    if (done)
        return 0;
    if (srtp_init() != srtp_err_status_ok)
        return -EIO;
    done = true;
    return 0;
}

size_t media_srtp_keying_len(uint16_t profile)
{
    switch (profile) {
    case MEDIA_SRTP_AES128_CM_SHA1_80:
        return 2 * (ESRTP_KEY_LEN + ESRTP_SALT_CM);
    case MEDIA_SRTP_AEAD_AES_128_GCM:
        return 2 * (ESRTP_KEY_LEN + ESRTP_SALT_GCM);
    default:
        return 0;
    }
}

/* RFC 3711 4.3.1 with key_derivation_rate 0: the output is the AES-CM keystream under the
 * master key, with IV = (master salt XOR label << 48) << 16. RFC 7714 11 uses the same KDF
 * with the 96-bit AEAD salt, which (as libsrtp2 does) fills the 112-bit salt field padded
 * with zeros. */
static int esrtp_kdf(const uint8_t *mkey, const uint8_t *msalt, size_t salt_len, uint8_t label,
                     uint8_t *out, size_t out_len)
{
    uint8_t iv[16] = {0}, zero[32] = {0};
    memcpy(iv, msalt, salt_len);
    iv[7] ^= label;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int ol = 0, ok = c && out_len <= sizeof(zero) &&
                     EVP_EncryptInit_ex(c, EVP_aes_128_ctr(), NULL, mkey, iv) == 1 &&
                     EVP_EncryptUpdate(c, out, &ol, zero, (int)out_len) == 1;
    EVP_CIPHER_CTX_free(c);
    return ok ? 0 : -EIO;
}

static int esrtp_gcm_init(struct esrtp_gcm *g, const uint8_t *mkey, const uint8_t *msalt,
                          uint8_t key_label, uint8_t salt_label, bool encrypt)
{
    uint8_t key[ESRTP_KEY_LEN];
    int rc = esrtp_kdf(mkey, msalt, ESRTP_SALT_GCM, key_label, key, sizeof(key));
    if (rc == 0)
        rc = esrtp_kdf(mkey, msalt, ESRTP_SALT_GCM, salt_label, g->salt, sizeof(g->salt));
    if (rc == 0 && !(g->ctx = EVP_CIPHER_CTX_new()))
        rc = -ENOMEM;
    /* The key schedule and GHASH tables are computed once here; per packet only the IV is
     * set (EVP_*Init_ex with NULL cipher and key keeps them). */
    if (rc == 0 && (EVP_CipherInit_ex(g->ctx, EVP_aes_128_gcm(), NULL, NULL, NULL, encrypt) != 1 ||
                    EVP_CIPHER_CTX_ctrl(g->ctx, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) != 1 ||
                    EVP_CipherInit_ex(g->ctx, NULL, NULL, key, NULL, encrypt) != 1))
        rc = -EIO;
    memset(key, 0, sizeof(key));
    return rc;
}

/* One libsrtp2 session for the CM profile. RFC 5764 4.2 lays the material out as
 * client key | server key | client salt | server salt; libsrtp2 wants key | salt. */
static int esrtp_cm_session(srtp_t *out, const uint8_t *keying, bool server, srtp_ssrc_type_t dir)
{
    uint8_t key[ESRTP_KEY_LEN + ESRTP_SALT_CM];
    memcpy(key, keying + (server ? ESRTP_KEY_LEN : 0), ESRTP_KEY_LEN);
    memcpy(key + ESRTP_KEY_LEN, keying + 2 * ESRTP_KEY_LEN + (server ? ESRTP_SALT_CM : 0),
           ESRTP_SALT_CM);
    srtp_policy_t pol;
    memset(&pol, 0, sizeof(pol));
    srtp_crypto_policy_set_rtp_default(&pol.rtp);
    srtp_crypto_policy_set_rtcp_default(&pol.rtcp);
    pol.ssrc.type = dir;
    pol.key = key;
    pol.window_size = dir == ssrc_any_outbound ? ESRTP_TX_WINDOW : 128;
    pol.allow_repeat_tx = dir == ssrc_any_outbound;
    srtp_err_status_t st = srtp_create(out, &pol);
    memset(key, 0, sizeof(key));
    if (st == srtp_err_status_alloc_fail)
        return -ENOMEM;
    return st == srtp_err_status_ok ? 0 : -EINVAL;
}

static int esrtp_gcm_create(struct media_srtp *s, const uint8_t *km)
{
    const uint8_t *ckey = km, *skey = km + ESRTP_KEY_LEN;
    const uint8_t *csalt = km + 2 * ESRTP_KEY_LEN, *ssalt = csalt + ESRTP_SALT_GCM;
    int rc =
        esrtp_gcm_init(&s->rtp_tx, skey, ssalt, ESRTP_LABEL_RTP_KEY, ESRTP_LABEL_RTP_SALT, true);
    if (rc == 0)
        rc = esrtp_gcm_init(&s->rtcp_tx, skey, ssalt, ESRTP_LABEL_RTCP_KEY, ESRTP_LABEL_RTCP_SALT,
                            true);
    if (rc == 0)
        rc = esrtp_gcm_init(&s->rtcp_rx, ckey, csalt, ESRTP_LABEL_RTCP_KEY, ESRTP_LABEL_RTCP_SALT,
                            false);
    return rc;
}

int esrtp_create(struct media_srtp **out, uint16_t profile, const uint8_t *keying, size_t len)
{
    size_t want = media_srtp_keying_len(profile);
    if (!want)
        return -EPROTONOSUPPORT;
    if (len != want)
        return -EINVAL;
    int err = esrtp_global_init();
    if (err < 0)
        return err;
    struct media_srtp *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->profile = profile;
    if (profile == MEDIA_SRTP_AEAD_AES_128_GCM) {
        err = esrtp_gcm_create(s, keying);
    } else {
        err = esrtp_cm_session(&s->tx, keying, true, ssrc_any_outbound);
        if (!err)
            err = esrtp_cm_session(&s->rx, keying, false, ssrc_any_inbound);
    }
    if (err < 0) {
        esrtp_free(s);
        return err;
    }
    *out = s;
    return 0;
}

void esrtp_free(struct media_srtp *s)
{
    if (!s)
        return;
    EVP_CIPHER_CTX_free(s->rtp_tx.ctx);
    EVP_CIPHER_CTX_free(s->rtcp_tx.ctx);
    EVP_CIPHER_CTX_free(s->rtcp_rx.ctx);
    if (s->tx)
        srtp_dealloc(s->tx);
    if (s->rx)
        srtp_dealloc(s->rx);
    free(s);
}

/* The 12-byte GCM IV: salt XOR (00 00 | SSRC | word | low), RFC 7714 8.1 and 9.1. */
static void esrtp_gcm_iv(uint8_t iv[12], const uint8_t salt[12], const uint8_t ssrc[4],
                         uint32_t word, uint16_t low)
{
    uint8_t x[12] = {0,
                     0,
                     ssrc[0],
                     ssrc[1],
                     ssrc[2],
                     ssrc[3],
                     (uint8_t)(word >> 24),
                     (uint8_t)(word >> 16),
                     (uint8_t)(word >> 8),
                     (uint8_t)word,
                     (uint8_t)(low >> 8),
                     (uint8_t)low};
    for (int i = 0; i < 12; i++)
        iv[i] = salt[i] ^ x[i];
}

static int esrtp_gcm_seal(struct esrtp_gcm *g, const uint8_t iv[12], const uint8_t *aad,
                          size_t aad_len, const uint8_t *aad2, size_t aad2_len, uint8_t *out,
                          const struct iovec *pl, unsigned n)
{
    int l, total = 0;
    if (EVP_EncryptInit_ex(g->ctx, NULL, NULL, NULL, iv) != 1 ||
        EVP_EncryptUpdate(g->ctx, NULL, &l, aad, (int)aad_len) != 1 ||
        (aad2_len && EVP_EncryptUpdate(g->ctx, NULL, &l, aad2, (int)aad2_len) != 1))
        return -EIO;
    for (unsigned i = 0; i < n; i++) {
        if (EVP_EncryptUpdate(g->ctx, out + total, &l, pl[i].iov_base, (int)pl[i].iov_len) != 1)
            return -EIO;
        total += l;
    }
    if (EVP_EncryptFinal_ex(g->ctx, out + total, &l) != 1)
        return -EIO;
    total += l;
    if (EVP_CIPHER_CTX_ctrl(g->ctx, EVP_CTRL_GCM_GET_TAG, ESRTP_TAG_GCM, out + total) != 1)
        return -EIO;
    return total + ESRTP_TAG_GCM;
}

int esrtp_protect_rtp(struct media_srtp *s, uint8_t *pkt, size_t hdr_len, const struct iovec *pl,
                      unsigned n, uint64_t index)
{
    if (s->profile == MEDIA_SRTP_AEAD_AES_128_GCM) {
        uint8_t iv[12];
        esrtp_gcm_iv(iv, s->rtp_tx.salt, pkt + 8, (uint32_t)(index >> 16), (uint16_t)index);
        int l = esrtp_gcm_seal(&s->rtp_tx, iv, pkt, hdr_len, NULL, 0, pkt + hdr_len, pl, n);
        return l < 0 ? l : (int)hdr_len + l;
    }
    /* libsrtp2 protects in place and keeps its own rollover counter. */
    size_t len = hdr_len;
    for (unsigned i = 0; i < n; i++) {
        memcpy(pkt + len, pl[i].iov_base, pl[i].iov_len);
        len += pl[i].iov_len;
    }
    int l = (int)len;
    if (srtp_protect(s->tx, pkt, &l) != srtp_err_status_ok)
        return -EIO;
    return l;
}

int esrtp_protect_rtcp(struct media_srtp *s, uint8_t *pkt, size_t len)
{
    if (s->profile != MEDIA_SRTP_AEAD_AES_128_GCM) {
        int n = (int)len;
        if (srtp_protect_rtcp(s->tx, pkt, &n) != srtp_err_status_ok)
            return -EIO;
        return n;
    }
    if (len < 8)
        return -EIO;
    /* RFC 7714 9.2: header (8 bytes) | encrypted rest | tag | E=1 + 31-bit SRTCP index. The
     * AAD is the header and the E+index word. */
    uint32_t idx = s->rtcp_tx_index++ & 0x7fffffffu;
    uint8_t word[4] = {(uint8_t)(0x80 | idx >> 24), (uint8_t)(idx >> 16), (uint8_t)(idx >> 8),
                       (uint8_t)idx};
    uint8_t iv[12];
    esrtp_gcm_iv(iv, s->rtcp_tx.salt, pkt + 4, idx >> 16, (uint16_t)idx);
    struct iovec body = {pkt + 8, len - 8};
    int l = esrtp_gcm_seal(&s->rtcp_tx, iv, pkt, 8, word, 4, pkt + 8, &body, 1);
    if (l < 0)
        return l;
    memcpy(pkt + 8 + l, word, 4);
    return 8 + l + 4;
}

/* RFC 3711 3.3.2 replay check on the SRTCP index, 64 packets back. */
static bool esrtp_rtcp_replay_ok(const struct media_srtp *s, uint32_t idx)
{
    if (!s->rtcp_rx_seen || idx > s->rtcp_rx_max)
        return true;
    uint32_t back = s->rtcp_rx_max - idx;
    return back < 64 && !(s->rtcp_rx_window & (1ull << back));
}

static void esrtp_rtcp_replay_add(struct media_srtp *s, uint32_t idx)
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

int esrtp_unprotect_rtcp(struct media_srtp *s, uint8_t *pkt, size_t len)
{
    if (len > 65535)
        return -EBADMSG;
    if (s->profile != MEDIA_SRTP_AEAD_AES_128_GCM) {
        int n = (int)len;
        if (len < 8 || srtp_unprotect_rtcp(s->rx, pkt, &n) != srtp_err_status_ok)
            return -EBADMSG;
        return n;
    }
    if (len < 8 + ESRTP_TAG_GCM + 4)
        return -EBADMSG;
    const uint8_t *word = pkt + len - 4;
    uint32_t idx = ((uint32_t)(word[0] & 0x7f) << 24) | (uint32_t)word[1] << 16 |
                   (uint32_t)word[2] << 8 | word[3];
    if (!(word[0] & 0x80) || !esrtp_rtcp_replay_ok(s, idx))
        return -EBADMSG; /* unencrypted SRTCP is never negotiated by WebRTC */
    size_t ct_len = len - 8 - 4 - ESRTP_TAG_GCM;
    uint8_t iv[12], tag[ESRTP_TAG_GCM];
    memcpy(tag, pkt + 8 + ct_len, sizeof(tag));
    esrtp_gcm_iv(iv, s->rtcp_rx.salt, pkt + 4, idx >> 16, (uint16_t)idx);
    EVP_CIPHER_CTX *c = s->rtcp_rx.ctx;
    int l;
    if (EVP_DecryptInit_ex(c, NULL, NULL, NULL, iv) != 1 ||
        EVP_DecryptUpdate(c, NULL, &l, pkt, 8) != 1 ||
        EVP_DecryptUpdate(c, NULL, &l, word, 4) != 1 ||
        EVP_DecryptUpdate(c, pkt + 8, &l, pkt + 8, (int)ct_len) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, ESRTP_TAG_GCM, tag) != 1 ||
        EVP_DecryptFinal_ex(c, pkt + 8 + l, &l) != 1)
        return -EBADMSG;
    esrtp_rtcp_replay_add(s, idx);
    return (int)(8 + ct_len);
}
