/* SPDX-License-Identifier: MIT */
/* test_srtp.c: the egress SRTP contexts. Known answers: RFC 3711 B.2 (AES-CM keystream) and
 * B.3 (key derivation), libsrtp2's AES-CM reference RTP and SRTCP packets, RFC 7714 16.1.1
 * and 17.1 (AES-GCM RTP and SRTCP). Against libsrtp2 as an independent receiver: the RFC 5764
 * 4.2 key layout for both profiles, retransmission of an already protected sequence number
 * (NACK) giving the identical datagram, SRTCP both ways with replay refusal, and refusal of
 * bad profiles, lengths and forged packets. The packet-index bookkeeping: first packet, a
 * renumbering that restarts below the old numbering, the floor, NACKs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

#include <cmocka.h>
#include <srtp2/srtp.h>

#include "egress/media.h"
#include "rtc/esrtp.h"

/* The viewer's side: unprotects what the server key protects, protects with the client key.
 * The layout is spelled out here independently: client key | server key | client salt |
 * server salt. */
static srtp_t peer_session(uint16_t profile, const uint8_t *km, bool inbound_server)
{
    size_t salt = profile == ESRTP_AEAD_AES_128_GCM ? 12 : 14;
    uint8_t key[30];
    memcpy(key, km + (inbound_server ? 16 : 0), 16);
    memcpy(key + 16, km + 32 + (inbound_server ? salt : 0), salt);
    srtp_policy_t p;
    memset(&p, 0, sizeof(p));
    if (profile == ESRTP_AEAD_AES_128_GCM) {
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
static int protect(struct esrtp *s, uint8_t *b, uint8_t *plain, uint64_t index)
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
    uint8_t km[ESRTP_KEYING_MAX];
    size_t kl = esrtp_keying_len(profile);
    for (size_t i = 0; i < kl; i++)
        km[i] = (uint8_t)(i * 7 + 3);
    struct esrtp *s = NULL;
    assert_int_equal(esrtp_create(&s, profile, km, kl), 0);
    srtp_t rx = peer_session(profile, km, true);
    srtp_t tx = peer_session(profile, km, false);

    _Alignas(4) uint8_t a[1200 + ESRTP_TRAILER_MAX], b[1200 + ESRTP_TRAILER_MAX];
    uint8_t plain[1200];
    /* Across the 16-bit wrap: the caller's index carries the rollover counter. */
    for (uint64_t index = 65530; index != 65546; index++) {
        int len = protect(s, a, plain, index);
        assert_int_equal(len, 1012 + (profile == ESRTP_AEAD_AES_128_GCM ? 16 : 10));
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
    assert_int_equal(esrtp_keying_len(ESRTP_AEAD_AES_128_GCM), 56);
    roundtrip(ESRTP_AEAD_AES_128_GCM);
}

static void test_cm(void **state)
{
    (void)state;
    assert_int_equal(esrtp_keying_len(ESRTP_AES128_CM_SHA1_80), 60);
    roundtrip(ESRTP_AES128_CM_SHA1_80);
}

/* Hex to bytes, spaces ignored: the vectors below are written as the RFCs print them. */
static size_t unhex(const char *h, uint8_t *out)
{
    size_t n = 0;
    for (; *h; h++) {
        if (*h == ' ')
            continue;
        unsigned v;
        assert_int_equal(sscanf(h, "%2x", &v), 1);
        out[n++] = (uint8_t)v;
        h++;
    }
    return n;
}

static void keys_of(struct esrtp_keys *k, const char *key, const char *salt)
{
    memset(k, 0, sizeof(*k));
    assert_int_equal(unhex(key, k->key), ESRTP_KEY_LEN);
    unhex(salt, k->salt);
}

/* RFC 3711 B.2: the AES-CM keystream for session key 2B7E..., salt F0F1...FD, SSRC 0, index 0:
 * encrypting zeros shows it, at the first three and the last three counter values the RFC
 * lists (the 16-bit block counter at FEFF..FF01: a 1 MB payload). */
static void test_rfc3711_keystream(void **state)
{
    (void)state;
    struct esrtp_keys k;
    keys_of(&k, "2B7E151628AED2A6ABF7158809CF4F3C", "F0F1F2F3F4F5F6F7F8F9FAFBFCFD");
    struct esrtp *s = NULL;
    assert_int_equal(esrtp_create_keyed(&s, ESRTP_AES128_CM_SHA1_80, &k, &k, &k), 0);
    size_t len = 0xff02 * 16;
    uint8_t *zeros = calloc(1, len), *pkt = calloc(1, 12 + len + ESRTP_TRAILER_MAX);
    pkt[0] = 0x80;
    struct iovec iov = {zeros, len};
    assert_int_equal(esrtp_protect_rtp(s, pkt, 12, &iov, 1, 0), (int)(12 + len + 10));
    static const struct {
        size_t block;
        const char *ks;
    } want[] = {
        {0x0000, "E03EAD0935C95E80E166B16DD92B4EB4"}, {0x0001, "D23513162B02D0F72A43A2FE4A5F97AB"},
        {0x0002, "41E95B3BB0A2E8DD477901E4FCA894C0"}, {0xfeff, "EC8CDF7398607CB0F2D21675EA9EA1E4"},
        {0xff00, "362B7C3C6773516318A077D7FC5073AE"}, {0xff01, "6A2CC3787889374FBEB4C81B17BA6C44"},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        uint8_t b[16];
        unhex(want[i].ks, b);
        assert_memory_equal(pkt + 12 + 16 * want[i].block, b, 16);
    }
    free(zeros);
    free(pkt);
    esrtp_free(s);
}

/* RFC 3711 B.3: the session keys of the SRTP labels from master key E1F9..., salt 0EC6... */
static void test_rfc3711_kdf(void **state)
{
    (void)state;
    uint8_t mkey[16], msalt[14], b[20];
    unhex("E1F97A0D3E018BE0D64FA32C06DE4139", mkey);
    unhex("0EC675AD498AFEEBB6960B3AABE6", msalt);
    struct esrtp_keys rtp, rtcp;
    assert_int_equal(esrtp_derive_keys(&rtp, &rtcp, ESRTP_AES128_CM_SHA1_80, mkey, msalt), 0);
    unhex("C61E7A93744F39EE10734AFE3FF7A087", b);
    assert_memory_equal(rtp.key, b, 16);
    unhex("30CBBC08863D8C85D49DB34A9AE1", b);
    assert_memory_equal(rtp.salt, b, 14);
    unhex("CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4", b);
    assert_memory_equal(rtp.auth, b, 20);
    assert_int_equal(esrtp_derive_keys(&rtp, &rtcp, 0x0002, mkey, msalt), -EPROTONOSUPPORT);
}

/* Protects plain (hdr_len bytes of header, then the payload) at index into out. */
static int protect_plain(struct esrtp *s, uint8_t *out, const uint8_t *plain, size_t len,
                         size_t hdr_len, uint64_t index)
{
    memcpy(out, plain, hdr_len);
    struct iovec iov = {(void *)(plain + hdr_len), len - hdr_len};
    return esrtp_protect_rtp(s, out, hdr_len, &iov, 1, index);
}

/* Protects plain as SRTCP with the next index, on a copy; the result into out. */
static int protect_rtcp_copy(struct esrtp *s, uint8_t *out, const uint8_t *plain, size_t len)
{
    memcpy(out, plain, len);
    return esrtp_protect_rtcp(s, out, len);
}

/* AES_CM_128_HMAC_SHA1_80, RTP and RTCP end to end: libsrtp2's reference packets (its
 * srtp_driver, keyed with the RFC 3711 B.3 master key and salt), which also exercise the
 * SRTCP labels of the KDF. libsrtp2 numbers its first SRTCP packet 1, this code 0. */
static void test_cm_reference_packets(void **state)
{
    (void)state;
    uint8_t mkey[16], msalt[14], plain[64], want[96], out[96];
    unhex("E1F97A0D3E018BE0D64FA32C06DE4139", mkey);
    unhex("0EC675AD498AFEEBB6960B3AABE6", msalt);
    struct esrtp_keys rtp, rtcp;
    assert_int_equal(esrtp_derive_keys(&rtp, &rtcp, ESRTP_AES128_CM_SHA1_80, mkey, msalt), 0);
    struct esrtp *s = NULL;
    assert_int_equal(esrtp_create_keyed(&s, ESRTP_AES128_CM_SHA1_80, &rtp, &rtcp, &rtcp), 0);

    size_t pl = unhex("800f1234 decafbad cafebabe abababab abababab abababab abababab", plain);
    size_t wl = unhex("800f1234 decafbad cafebabe 4e55dc4c e79978d8 8ca4d215 949d2402 "
                      "b78d6acc 99ea179b 8dbb",
                      want);
    assert_int_equal(protect_plain(s, out, plain, pl, 12, 0x1234), (int)wl);
    assert_memory_equal(out, want, wl);

    pl = unhex("81c8000b cafebabe abababab abababab abababab abababab", plain);
    wl = unhex("81c8000b cafebabe 7128035b e487b9bd bef89041 f977a5a8 80000001 993e08cd "
               "54d6c123 0798",
               want);
    assert_true(protect_rtcp_copy(s, out, plain, pl) > 0); /* index 0 */
    assert_int_equal(protect_rtcp_copy(s, out, plain, pl), (int)wl);
    assert_memory_equal(out, want, wl);
    assert_int_equal(esrtp_unprotect_rtcp(s, want, wl), (int)pl);
    assert_memory_equal(want, plain, pl);
    esrtp_free(s);
}

/* RFC 7714 16.1.1 (AEAD_AES_128_GCM, RTP encryption) and 17.1 (SRTCP encryption, index
 * 0x5d4; decryption too), session key 00..0f, salt "Quid pro quo"; 17.3's SRTCP that is
 * authenticated only (E = 0) is refused: WebRTC never negotiates it. */
static void test_rfc7714(void **state)
{
    (void)state;
    struct esrtp_keys k;
    keys_of(&k, "000102030405060708090a0b0c0d0e0f", "517569642070726f2071756f");
    struct esrtp *s = NULL;
    assert_int_equal(esrtp_create_keyed(&s, ESRTP_AEAD_AES_128_GCM, &k, &k, &k), 0);
    uint8_t plain[96], want[128];
    _Alignas(4) uint8_t out[128];

    size_t pl = unhex("8040f17b 8041f8d3 5501a0b2 47616c6c 69612065 7374206f 6d6e6973 "
                      "20646976 69736120 696e2070 61727465 73207472 6573",
                      plain);
    size_t wl = unhex("8040f17b 8041f8d3 5501a0b2 f24de3a3 fb34de6c acba861c 9d7e4bca "
                      "be633bd5 0d294e6f 42a5f47a 51c7d19b 36de3adf 8833899d 7f27beb1 "
                      "6a9152cf 765ee439 0cce",
                      want);
    assert_int_equal(protect_plain(s, out, plain, pl, 12, 0xf17b), (int)wl);
    assert_memory_equal(out, want, wl);

    pl = unhex("81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930 4c756e61 "
               "deadbeef deadbeef deadbeef deadbeef deadbeef",
               plain);
    wl = unhex("81c8000d 4d617273 63e94885 dcdab67c a727d766 2f6b7e99 7ff5c0f7 6c06f32d "
               "c676a5f1 730d6fda 4ce09b46 86303ded 0bb9275b c84aa458 96cf4d2f c5abf872 "
               "45d9eade 800005d4",
               want);
    for (unsigned i = 0; i < 0x5d4; i++) /* protect numbers SRTCP from 0 */
        assert_true(protect_rtcp_copy(s, out, plain, pl) > 0);
    assert_int_equal(protect_rtcp_copy(s, out, plain, pl), (int)wl);
    assert_memory_equal(out, want, wl);
    memcpy(out, want, wl);
    assert_int_equal(esrtp_unprotect_rtcp(s, out, wl), (int)pl);
    assert_memory_equal(out, plain, pl);

    size_t tl = unhex("81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930 "
                      "4c756e61 deadbeef deadbeef deadbeef deadbeef deadbeef 841dd968 "
                      "3dd78ec9 2ae58790 125f62b3 000005d4",
                      out);
    assert_int_equal(esrtp_unprotect_rtcp(s, out, tl), -EBADMSG);
    esrtp_free(s);
}

/* The packet-index bookkeeping of rtc/esrtp.h on its own. */
static void test_index(void **state)
{
    (void)state;
    struct esrtp_index x;
    uint64_t idx;
    uint16_t g;
    esrtp_index_init(&x, 64530);
    assert_int_equal(esrtp_index_nacked(&x, 65530, 4096, &g), -ERANGE); /* nothing sent */
    /* The first packet: ROC 0, SEQ = global + seq0; then across the 16-bit wrap. */
    for (uint64_t gl = 1000; gl < 1010; gl++) {
        assert_int_equal(esrtp_index_for(&x, gl, &idx), 0);
        assert_int_equal(idx, 65530 + (gl - 1000));
    }
    assert_int_equal(esrtp_index_for(&x, 999, &idx), -ERANGE); /* before the first */
    assert_int_equal(esrtp_index_for(&x, 1003, &idx), 0);      /* again: the same index */
    assert_int_equal(idx, 65533);
    /* NACKs: sent ones map back to the global number; unsent or too old ones do not. */
    assert_int_equal(esrtp_index_nacked(&x, 2, 4096, &g), 0);
    assert_int_equal(g, 1008);
    assert_int_equal(esrtp_index_nacked(&x, 4, 4096, &g), -ERANGE);  /* not sent yet */
    assert_int_equal(esrtp_index_nacked(&x, 65535, 1, &g), -ERANGE); /* older than max_age */
    /* A replaced ring numbering from 0, its first packet sent at global 500: indexes go on
     * from the last; nothing of the old numbering, nor of the new one before 500, is served. */
    esrtp_index_renumber(&x);
    assert_int_equal(esrtp_index_nacked(&x, 2, 4096, &g), -ERANGE);
    assert_int_equal(esrtp_index_for(&x, 500, &idx), 0);
    assert_int_equal(idx, 65540);
    assert_int_equal(esrtp_index_for(&x, 501, &idx), 0);
    assert_int_equal(idx, 65541);
    assert_int_equal(esrtp_index_for(&x, 100, &idx), -ERANGE);
    assert_int_equal(esrtp_index_nacked(&x, 2, 4096, &g), -ERANGE); /* below the floor */
    assert_int_equal(esrtp_index_nacked(&x, 4, 4096, &g), 0);
    assert_int_equal(g, 500);
    /* Renumbered upwards (far above) works the same. */
    esrtp_index_renumber(&x);
    assert_int_equal(esrtp_index_for(&x, 1ull << 40, &idx), 0);
    assert_int_equal(idx, 65542);
}

/* Receiving RTP from the DTLS client (a WHIP publisher), libsrtp2 protecting with the client
 * key: across the 16-bit wrap (the rollover counter guessed), reordered packets taken once
 * (one 200 packets late too), replays, forgeries and packets older than the window refused, a
 * second SSRC numbered on its own. */
static void rx_roundtrip(uint16_t profile)
{
    uint8_t km[ESRTP_KEYING_MAX];
    size_t kl = esrtp_keying_len(profile);
    for (size_t i = 0; i < kl; i++)
        km[i] = (uint8_t)(i * 5 + 1);
    struct esrtp *s = NULL;
    assert_int_equal(esrtp_create(&s, profile, km, kl), 0);
    _Alignas(4) uint8_t pkt[1200 + ESRTP_TRAILER_MAX], copy[1200 + ESRTP_TRAILER_MAX],
        first[1200 + ESRTP_TRAILER_MAX];
    uint8_t plain[1200];
    size_t first_len = 0;
    int len;
    assert_int_equal(esrtp_unprotect_rtp(s, pkt, 100), -ENOTCONN);
    assert_int_equal(esrtp_rtp_rx_start(s, km, kl - 1), -EINVAL);
    assert_int_equal(esrtp_rtp_rx_start(s, km, kl), 0);
    srtp_t tx = peer_session(profile, km, false);
    uint16_t seqs[] = {65530, 65531, 65533, 65532, 65534, 65535, 0, 2, 1, 3, 4};
    for (size_t i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++) {
        rtp_header(pkt, seqs[i]);
        memset(pkt + 12, (int)i, 500);
        memcpy(plain, pkt, 512);
        len = 512;
        assert_int_equal(srtp_protect(tx, pkt, &len), srtp_err_status_ok);
        memcpy(copy, pkt, (size_t)len);
        if (i == 0) {
            memcpy(first, pkt, (size_t)len);
            first_len = (size_t)len;
        }
        assert_int_equal(esrtp_unprotect_rtp(s, pkt, (size_t)len), 512);
        assert_memory_equal(pkt, plain, 512);
        assert_int_equal(esrtp_unprotect_rtp(s, copy, (size_t)len), -EBADMSG); /* a replay */
    }
    /* A packet that comes 200 later (a NACKed one, retransmitted: at 8 Mbit/s that is more
     * than 64 packets behind) is taken, once; one held back for longer than the window is
     * refused, as is the first packet again. */
    _Alignas(4) uint8_t late[100 + ESRTP_TRAILER_MAX], old[100 + ESRTP_TRAILER_MAX];
    int late_len = 100, old_len = 100;
    rtp_header(late, 5);
    assert_int_equal(srtp_protect(tx, late, &late_len), srtp_err_status_ok);
    rtp_header(old, 6);
    assert_int_equal(srtp_protect(tx, old, &old_len), srtp_err_status_ok);
    uint16_t seq = 7;
    for (; seq < 207; seq++) {
        rtp_header(pkt, seq);
        len = 100;
        assert_int_equal(srtp_protect(tx, pkt, &len), srtp_err_status_ok);
        assert_int_equal(esrtp_unprotect_rtp(s, pkt, (size_t)len), 100);
    }
    memcpy(copy, late, (size_t)late_len);
    assert_int_equal(esrtp_unprotect_rtp(s, late, (size_t)late_len), 100);
    assert_int_equal(esrtp_unprotect_rtp(s, copy, (size_t)late_len), -EBADMSG);
    for (; seq < 7 + ESRTP_RX_WINDOW; seq++) {
        rtp_header(pkt, seq);
        len = 100;
        assert_int_equal(srtp_protect(tx, pkt, &len), srtp_err_status_ok);
        assert_int_equal(esrtp_unprotect_rtp(s, pkt, (size_t)len), 100);
    }
    assert_int_equal(esrtp_unprotect_rtp(s, old, (size_t)old_len), -EBADMSG);
    assert_int_equal(esrtp_unprotect_rtp(s, first, first_len), -EBADMSG);
    /* Forged: one bit of the payload. */
    rtp_header(pkt, seq);
    len = 100;
    assert_int_equal(srtp_protect(tx, pkt, &len), srtp_err_status_ok);
    pkt[20] ^= 1;
    assert_int_equal(esrtp_unprotect_rtp(s, pkt, (size_t)len), -EBADMSG);
    /* Another SSRC starts its own numbering. */
    rtp_header(pkt, 7);
    pkt[8] = 0x99;
    len = 100;
    assert_int_equal(srtp_protect(tx, pkt, &len), srtp_err_status_ok);
    assert_int_equal(esrtp_unprotect_rtp(s, pkt, (size_t)len), 100);
    /* Not RTP, shorter than a header and a tag. */
    assert_int_equal(esrtp_unprotect_rtp(s, pkt, 20), -EBADMSG);
    pkt[0] = 0x40;
    assert_int_equal(esrtp_unprotect_rtp(s, pkt, 100), -EBADMSG);
    srtp_dealloc(tx);
    esrtp_free(s);
}

static void test_rx(void **state)
{
    (void)state;
    rx_roundtrip(ESRTP_AEAD_AES_128_GCM);
    rx_roundtrip(ESRTP_AES128_CM_SHA1_80);
}

/* The known answers read back: RFC 7714 16.1.1 and libsrtp2's AES-CM reference packet. */
static void test_rx_vectors(void **state)
{
    (void)state;
    struct esrtp_keys k;
    keys_of(&k, "000102030405060708090a0b0c0d0e0f", "517569642070726f2071756f");
    struct esrtp *s = NULL;
    assert_int_equal(esrtp_create_keyed(&s, ESRTP_AEAD_AES_128_GCM, &k, &k, &k), 0);
    assert_int_equal(esrtp_rtp_rx_keyed(s, &k), 0);
    uint8_t plain[96], pkt[128];
    size_t pl = unhex("8040f17b 8041f8d3 5501a0b2 47616c6c 69612065 7374206f 6d6e6973 "
                      "20646976 69736120 696e2070 61727465 73207472 6573",
                      plain);
    size_t wl = unhex("8040f17b 8041f8d3 5501a0b2 f24de3a3 fb34de6c acba861c 9d7e4bca "
                      "be633bd5 0d294e6f 42a5f47a 51c7d19b 36de3adf 8833899d 7f27beb1 "
                      "6a9152cf 765ee439 0cce",
                      pkt);
    assert_int_equal(esrtp_unprotect_rtp(s, pkt, wl), (int)pl);
    assert_memory_equal(pkt, plain, pl);
    esrtp_free(s);

    uint8_t mkey[16], msalt[14];
    unhex("E1F97A0D3E018BE0D64FA32C06DE4139", mkey);
    unhex("0EC675AD498AFEEBB6960B3AABE6", msalt);
    struct esrtp_keys rtp, rtcp;
    assert_int_equal(esrtp_derive_keys(&rtp, &rtcp, ESRTP_AES128_CM_SHA1_80, mkey, msalt), 0);
    assert_int_equal(esrtp_create_keyed(&s, ESRTP_AES128_CM_SHA1_80, &rtp, &rtcp, &rtcp), 0);
    assert_int_equal(esrtp_rtp_rx_keyed(s, &rtp), 0);
    pl = unhex("800f1234 decafbad cafebabe abababab abababab abababab abababab", plain);
    wl = unhex("800f1234 decafbad cafebabe 4e55dc4c e79978d8 8ca4d215 949d2402 "
               "b78d6acc 99ea179b 8dbb",
               pkt);
    assert_int_equal(esrtp_unprotect_rtp(s, pkt, wl), (int)pl);
    assert_memory_equal(pkt, plain, pl);
    esrtp_free(s);
}

static void test_refused(void **state)
{
    (void)state;
    uint8_t km[ESRTP_KEYING_MAX] = {0};
    struct esrtp *s = NULL;
    assert_int_equal(esrtp_create(&s, 0x0002, km, 60), -EPROTONOSUPPORT);
    assert_int_equal(esrtp_create(&s, ESRTP_AEAD_AES_128_GCM, km, 60), -EINVAL);
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
        cmocka_unit_test(test_rfc3711_keystream),
        cmocka_unit_test(test_rfc3711_kdf),
        cmocka_unit_test(test_cm_reference_packets),
        cmocka_unit_test(test_rfc7714),
        cmocka_unit_test(test_index),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_rx),
        cmocka_unit_test(test_rx_vectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
