/* srtp.c: libsrtp2 contexts per viewer: one outbound session (server write key, any
 * outbound SSRC, repeated sequence numbers allowed for NACK retransmissions) and one inbound
 * session for the viewer's SRTCP (client write key). */
#include "egress/srtp.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <srtp2/srtp.h>

#include "egress/media.h"

_Static_assert(ESRTP_TRAILER_MAX >= SRTP_MAX_TRAILER_LEN + 4, "room for tag and SRTCP index");

/* Replay window of the outbound streams: a retransmission older than this many packets is
 * refused by libsrtp2 (srtp_err_status_replay_old), so it bounds how old a NACK we serve.
 * 1024 packets is about 4 s of a 2 Mbit/s stream and costs 128 bytes per stream. */
#define ESRTP_TX_WINDOW 1024

struct media_srtp {
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
        return 2 * (SRTP_AES_128_KEY_LEN + SRTP_SALT_LEN);
    case MEDIA_SRTP_AEAD_AES_128_GCM:
        return 2 * (SRTP_AES_128_KEY_LEN + SRTP_AEAD_SALT_LEN);
    default:
        return 0;
    }
}

/* One libsrtp2 session for one direction. RFC 5764 4.2 lays the material out as
 * client key | server key | client salt | server salt; libsrtp2 wants key | salt. */
static int esrtp_session(srtp_t *out, uint16_t profile, const uint8_t *keying, bool server,
                         srtp_ssrc_type_t dir)
{
    size_t salt_len = profile == MEDIA_SRTP_AEAD_AES_128_GCM ? SRTP_AEAD_SALT_LEN : SRTP_SALT_LEN;
    uint8_t key[SRTP_AES_128_KEY_LEN + SRTP_SALT_LEN];
    memcpy(key, keying + (server ? SRTP_AES_128_KEY_LEN : 0), SRTP_AES_128_KEY_LEN);
    memcpy(key + SRTP_AES_128_KEY_LEN, keying + 2 * SRTP_AES_128_KEY_LEN + (server ? salt_len : 0),
           salt_len);

    srtp_policy_t pol;
    memset(&pol, 0, sizeof(pol));
    if (profile == MEDIA_SRTP_AEAD_AES_128_GCM) {
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtcp);
    } else {
        srtp_crypto_policy_set_rtp_default(&pol.rtp);
        srtp_crypto_policy_set_rtcp_default(&pol.rtcp);
    }
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
    err = esrtp_session(&s->tx, profile, keying, true, ssrc_any_outbound);
    if (!err)
        err = esrtp_session(&s->rx, profile, keying, false, ssrc_any_inbound);
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
    if (s->tx)
        srtp_dealloc(s->tx);
    if (s->rx)
        srtp_dealloc(s->rx);
    free(s);
}

int esrtp_protect_rtp(struct media_srtp *s, uint8_t *pkt, size_t len)
{
    int n = (int)len;
    if (srtp_protect(s->tx, pkt, &n) != srtp_err_status_ok)
        return -EIO;
    return n;
}

int esrtp_protect_rtcp(struct media_srtp *s, uint8_t *pkt, size_t len)
{
    int n = (int)len;
    if (srtp_protect_rtcp(s->tx, pkt, &n) != srtp_err_status_ok)
        return -EIO;
    return n;
}

int esrtp_unprotect_rtcp(struct media_srtp *s, uint8_t *pkt, size_t len)
{
    if (len < 8 || len > 65535)
        return -EBADMSG;
    int n = (int)len;
    if (srtp_unprotect_rtcp(s->rx, pkt, &n) != srtp_err_status_ok)
        return -EBADMSG;
    return n;
}
