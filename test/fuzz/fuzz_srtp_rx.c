/* SPDX-License-Identifier: MIT */
/* fuzz_srtp_rx.c: esrtp_unprotect_rtp on arbitrary bytes (what any host can send a WHIP
 * ingest's media port), both profiles: the first byte picks AES-GCM (even) or
 * AES-CM/HMAC-SHA1 (odd), the rest is the datagram. Never reads or writes out of bounds; a
 * packet it accepts keeps its 12-byte header, shrinks by exactly the tag, and is refused when
 * it comes again (replay). The keys are those of the known answers in test_srtp.c (RFC 7714
 * for GCM, RFC 3711 B.3's master key for CM), so the seeds are authentic packets and
 * mutations start past the tag check. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rtc/esrtp.h"

static struct esrtp_keys gcm_keys, cm_keys, cm_rtcp;

static void fuzz_keys(void)
{
    static const uint8_t gk[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    static const uint8_t gs[12] = "Quid pro quo";
    static const uint8_t mk[16] = {0xe1, 0xf9, 0x7a, 0x0d, 0x3e, 0x01, 0x8b, 0xe0,
                                   0xd6, 0x4f, 0xa3, 0x2c, 0x06, 0xde, 0x41, 0x39};
    static const uint8_t ms[14] = {0x0e, 0xc6, 0x75, 0xad, 0x49, 0x8a, 0xfe,
                                   0xeb, 0xb6, 0x96, 0x0b, 0x3a, 0xab, 0xe6};
    memcpy(gcm_keys.key, gk, sizeof(gk));
    memcpy(gcm_keys.salt, gs, sizeof(gs));
    if (esrtp_derive_keys(&cm_keys, &cm_rtcp, ESRTP_AES128_CM_SHA1_80, mk, ms) < 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    if (!init++)
        fuzz_keys();
    if (size < 1)
        return 0;
    bool cm = data[0] & 1;
    const struct esrtp_keys *k = cm ? &cm_keys : &gcm_keys;
    struct esrtp *s = NULL;
    if (esrtp_create_keyed(&s, cm ? ESRTP_AES128_CM_SHA1_80 : ESRTP_AEAD_AES_128_GCM, k, k, k) <
            0 ||
        esrtp_rtp_rx_keyed(s, k) < 0)
        abort();
    size_t len = size - 1;
    /* Private copies sized exactly: ASan then flags any access past the end. */
    uint8_t *p = malloc(len ? len : 1), *again = malloc(len ? len : 1);
    if (!p || !again)
        abort();
    memcpy(p, data + 1, len);
    memcpy(again, data + 1, len);
    int n = esrtp_unprotect_rtp(s, p, len);
    size_t tag = cm ? 10 : 16;
    if (n >= 0 && ((size_t)n + tag != len || memcmp(p, data + 1, 12) != 0 ||
                   esrtp_unprotect_rtp(s, again, len) != -EBADMSG))
        abort();
    if (n < 0 && n != -EBADMSG)
        abort();
    free(p);
    free(again);
    esrtp_free(s);
    return 0;
}
