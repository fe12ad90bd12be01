/* SPDX-License-Identifier: MIT */
/* fuzz_loadgen_rtp.c: what the load generator does with decrypted RTP: header parse,
 * sequence accounting and first-keyframe detection over the input cut into packets (its RTCP
 * is codec/rtcp's, fuzzed by fuzz_rtcp). Never reads out of bounds; counters stay
 * consistent. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tools/loadgen/lg_rtp.c"

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t len)
{
    /* Packets: a length byte, then that many bytes (copied so that ASan sees the end). */
    struct lg_seq s;
    struct lg_keyframe k;
    memset(&s, 0, sizeof(s));
    memset(&k, 0, sizeof(k));
    uint64_t fed = 0;
    for (size_t off = 0; off < len;) {
        size_t n = p[off++];
        if (n > len - off)
            n = len - off;
        uint8_t *pkt = malloc(n ? n : 1);
        memcpy(pkt, p + off, n);
        off += n;
        struct lg_rtp_hdr h;
        if (lg_rtp_parse(pkt, n, &h) == 0) {
            if (h.hdr_len > n)
                abort();
            fed++;
            if (lg_seq_update(&s, h.seq) != LG_SEQ_DUP)
                (void)lg_keyframe_feed(&k, &h, pkt + h.hdr_len, n - h.hdr_len);
        }
        free(pkt);
    }
    if (s.unique + s.dups > fed || s.unique > lg_seq_expected(&s) + s.late)
        abort();
    return 0;
}
