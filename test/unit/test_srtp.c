/* test_srtp.c: the egress SRTP contexts against libsrtp2 as an independent receiver: the
 * RFC 5764 4.2 key layout for both profiles, retransmission of an already protected sequence
 * number (NACK) giving the identical datagram, SRTCP both ways with replay refusal, and refusal of
 * bad profiles, lengths and forged packets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>

#include <cmocka.h>
#include <srtp2/srtp.h>

#include "egress/media.h"
#include "egress/srtp.h"

/* The viewer's side: unprotects what the server key protects, protects with the client key.
 * The layout is spelled out here independently: client key | server key | client salt |
 * server salt. */
static srtp_t peer_session(uint16_t profile, const uint8_t *km, bool inbound_server)
{
    size_t salt = profile == MEDIA_SRTP_AEAD_AES_128_GCM ? 12 : 14;
    uint8_t key[30];
    memcpy(key, km + (inbound_server ? 16 : 0), 16);
    memcpy(key + 16, km + 32 + (inbound_server ? salt : 0), salt);
    srtp_policy_t p;
    memset(&p, 0, sizeof(p));
    if (profile == MEDIA_SRTP_AEAD_AES_128_GCM) {
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtcp);
    } else {
        srtp_crypto_policy_set_rtp_default(&p.rtp);
        srtp_crypto_policy_set_rtcp_default(&p.rtcp);
    }
    p.ssrc.type = inbound_server ? ssrc_any_inbound : ssrc_any_outbound;
    p.key = key;
    p.window_size = 128;
    srtp_t s = NULL;
    assert_int_equal(srtp_create(&s, &p), srtp_err_status_ok);
    return s;
}

/* An RTP header; the payload (fill bytes) is passed separately as protect gathers it. */
static void rtp_header(uint8_t *b, uint16_t seq)
{
    b[0] = 0x80;
    b[1] = 96;
    b[2] = (uint8_t)(seq >> 8);
    b[3] = (uint8_t)seq;
    memset(b + 4, 0x11, 4);               /* ts */
    memcpy(b + 8, "\x12\x34\x56\x78", 4); /* ssrc */
}

/* Protects seq (index: roc << 16 | seq) with a 1000-byte payload given in two pieces. */
static int protect(struct media_srtp *s, uint8_t *b, uint8_t *plain, uint64_t index)
{
    static uint8_t payload[1000];
    memset(payload, (uint8_t)index, sizeof(payload));
    payload[0] = 0x7c;
    rtp_header(b, (uint16_t)index);
    memcpy(plain, b, 12);
    memcpy(plain + 12, payload, sizeof(payload));
    struct iovec iov[2] = {{payload, 300}, {payload + 300, 700}};
    return esrtp_protect_rtp(s, b, 12, iov, 2, index);
}

static void roundtrip(uint16_t profile)
{
    uint8_t km[MEDIA_KEYING_MAX];
    size_t kl = media_srtp_keying_len(profile);
    for (size_t i = 0; i < kl; i++)
        km[i] = (uint8_t)(i * 7 + 3);
    struct media_srtp *s = NULL;
    assert_int_equal(esrtp_create(&s, profile, km, kl), 0);
    srtp_t rx = peer_session(profile, km, true);
    srtp_t tx = peer_session(profile, km, false);

    _Alignas(4) uint8_t a[1200 + ESRTP_TRAILER_MAX], b[1200 + ESRTP_TRAILER_MAX];
    uint8_t plain[1200];
    /* Across the 16-bit wrap: the caller's index carries the rollover counter. */
    for (uint64_t index = 65530; index != 65546; index++) {
        int len = protect(s, a, plain, index);
        assert_int_equal(len, 1012 + (profile == MEDIA_SRTP_AEAD_AES_128_GCM ? 16 : 10));
        assert_memory_not_equal(a + 12, plain + 12, 16);
        int l = len;
        assert_int_equal(srtp_unprotect(rx, a, &l), srtp_err_status_ok);
        assert_int_equal(l, 1012);
        assert_memory_equal(a, plain, 1012);
    }
    /* A NACK: the same index protected again gives the identical datagram. */
    int la = protect(s, a, plain, 65540);
    int lb = protect(s, b, plain, 65540);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, (size_t)la);

    /* SRTCP: ours to the viewer and the viewer's to us; a flipped bit is refused. */
    uint8_t rr[64] = {0x81, 201, 0, 7, 1, 2, 3, 4};
    int len = esrtp_protect_rtcp(s, rr, 32);
    assert_true(len > 32);
    assert_int_equal(srtp_unprotect_rtcp(rx, rr, &len), srtp_err_status_ok);
    for (int i = 0; i < 3; i++) { /* the SRTCP index advances */
        _Alignas(4) uint8_t sr[64] = {0x80, 200, 0, 6, 1, 2, 3, 4};
        len = esrtp_protect_rtcp(s, sr, 28);
        assert_true(len > 28);
        assert_int_equal(srtp_unprotect_rtcp(rx, sr, &len), srtp_err_status_ok);
        assert_int_equal(len, 28);
    }
    _Alignas(4) uint8_t fb[64] = {0x81, 205, 0, 3, 9, 9, 9, 9, 0x12, 0x34, 0x56, 0x78, 0, 5, 0, 0};
    len = 16;
    assert_int_equal(srtp_protect_rtcp(tx, fb, &len), srtp_err_status_ok);
    uint8_t forged[64], again[64];
    memcpy(forged, fb, (size_t)len);
    memcpy(again, fb, (size_t)len);
    forged[10] ^= 1;
    assert_int_equal(esrtp_unprotect_rtcp(s, forged, (size_t)len), -EBADMSG);
    assert_int_equal(esrtp_unprotect_rtcp(s, fb, (size_t)len), 16);
    assert_int_equal(fb[13], 5);
    assert_int_equal(esrtp_unprotect_rtcp(s, again, (size_t)len), -EBADMSG); /* a replay */
    assert_int_equal(esrtp_unprotect_rtcp(s, fb, 4), -EBADMSG);

    srtp_dealloc(rx);
    srtp_dealloc(tx);
    esrtp_free(s);
}

static void test_gcm(void **state)
{
    (void)state;
    assert_int_equal(media_srtp_keying_len(MEDIA_SRTP_AEAD_AES_128_GCM), 56);
    roundtrip(MEDIA_SRTP_AEAD_AES_128_GCM);
}

static void test_cm(void **state)
{
    (void)state;
    assert_int_equal(media_srtp_keying_len(MEDIA_SRTP_AES128_CM_SHA1_80), 60);
    roundtrip(MEDIA_SRTP_AES128_CM_SHA1_80);
}

static void test_refused(void **state)
{
    (void)state;
    uint8_t km[MEDIA_KEYING_MAX] = {0};
    struct media_srtp *s = NULL;
    assert_int_equal(esrtp_create(&s, 0x0002, km, 60), -EPROTONOSUPPORT);
    assert_int_equal(esrtp_create(&s, MEDIA_SRTP_AEAD_AES_128_GCM, km, 60), -EINVAL);
    assert_null(s);
    esrtp_free(NULL);
}

int main(void)
{
    if (srtp_init() != srtp_err_status_ok) /* libsrtp2 is the test's peer only */
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gcm),
        cmocka_unit_test(test_cm),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
