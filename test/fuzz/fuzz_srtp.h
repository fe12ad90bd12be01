/* SPDX-License-Identifier: MIT */
/* fuzz_srtp.h: the driver shared by the SRTP and SRTCP receive fuzz targets. The first byte
 * picks AES-GCM (even) or AES-CM/HMAC-SHA1 (odd), the rest is the datagram, unprotected from a
 * copy sized exactly (ASan flags any access past its end). A packet it accepts keeps its header,
 * shrinks by exactly the trailer, and is refused when it comes again (replay); anything else
 * is -EBADMSG. The keys are those of the known answers in test_srtp.c (RFC 7714 for GCM, RFC
 * 3711 B.3's master key for CM), so the seeds are authentic packets and mutations start past
 * the tag check. */
#ifndef RINGCAST_FUZZ_SRTP_H
#define RINGCAST_FUZZ_SRTP_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rtc/esrtp.h"

/* What differs between SRTP and SRTCP. */
struct fuzz_srtp_target {
    bool rtp;      /* SRTP with the RTP keys (esrtp_rtp_rx_keyed), else SRTCP */
    size_t header; /* bytes an accepted packet keeps as they came: 12 (RTP), 8 (RTCP) */
    size_t index;  /* trailer bytes besides the tag: 4 for SRTCP's E flag and index */
    int (*unprotect)(struct esrtp *s, uint8_t *pkt, size_t len);
};

static struct esrtp_keys fuzz_gcm_keys, fuzz_cm_rtp, fuzz_cm_rtcp;

static void fuzz_srtp_keys(void)
{
    static const uint8_t gk[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    static const uint8_t gs[12] = "Quid pro quo";
    static const uint8_t mk[16] = {0xe1, 0xf9, 0x7a, 0x0d, 0x3e, 0x01, 0x8b, 0xe0,
                                   0xd6, 0x4f, 0xa3, 0x2c, 0x06, 0xde, 0x41, 0x39};
    static const uint8_t ms[14] = {0x0e, 0xc6, 0x75, 0xad, 0x49, 0x8a, 0xfe,
                                   0xeb, 0xb6, 0x96, 0x0b, 0x3a, 0xab, 0xe6};
    memcpy(fuzz_gcm_keys.key, gk, sizeof(gk));
    memcpy(fuzz_gcm_keys.salt, gs, sizeof(gs));
    if (esrtp_derive_keys(&fuzz_cm_rtp, &fuzz_cm_rtcp, ESRTP_AES128_CM_SHA1_80, mk, ms) < 0)
        abort();
}

static int fuzz_srtp_run(const struct fuzz_srtp_target *t, const uint8_t *data, size_t size)
{
    static int init;
    if (!init++)
        fuzz_srtp_keys();
    if (size < 1)
        return 0;
    bool cm = data[0] & 1;
    const struct esrtp_keys *k = !cm ? &fuzz_gcm_keys : t->rtp ? &fuzz_cm_rtp : &fuzz_cm_rtcp;
    struct esrtp *s = NULL;
    if (esrtp_create_keyed(&s, cm ? ESRTP_AES128_CM_SHA1_80 : ESRTP_AEAD_AES_128_GCM, k, k, k) <
            0 ||
        (t->rtp && esrtp_rtp_rx_keyed(s, k) < 0))
        abort();
    size_t len = size - 1;
    uint8_t *p = malloc(len ? len : 1), *again = malloc(len ? len : 1);
    if (!p || !again)
        abort();
    memcpy(p, data + 1, len);
    memcpy(again, data + 1, len);
    int n = t->unprotect(s, p, len);
    size_t trailer = t->index + (cm ? 10 : 16);
    if (n >= 0 && ((size_t)n + trailer != len || memcmp(p, data + 1, t->header) != 0 ||
                   t->unprotect(s, again, len) != -EBADMSG))
        abort();
    if (n < 0 && n != -EBADMSG)
        abort();
    free(p);
    free(again);
    esrtp_free(s);
    return 0;
}

#endif
