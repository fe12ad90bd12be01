/* SPDX-License-Identifier: MIT */
/* fuzz_loadgen_sdp.c: the load generator's SDP answer parser on arbitrary bytes: never reads
 * out of bounds, and an accepted answer holds what ICE and DTLS need (credentials made of
 * ice-chars, an IPv4 candidate with a port, an H.264 payload type). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tools/loadgen/lg_sdp.c"

static int ice_str_ok(const char *s)
{
    size_t n = strnlen(s, LG_ICE_STR_MAX);
    return n > 0 && n < LG_ICE_STR_MAX &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/") == n;
}

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t len)
{
    struct lg_answer a;
    int rc = lg_sdp_parse_answer(p, len, &a);
    if (rc == 0) {
        if (!ice_str_ok(a.ice_ufrag) || !ice_str_ok(a.ice_pwd) || !a.has_fingerprint ||
            !a.has_cand || a.cand.sin_port == 0 || a.h264_pt < 0 || a.h264_pt > 127 ||
            a.video_port <= 0)
            abort();
    } else if (rc != -EBADMSG) {
        abort();
    }
    return 0;
}
