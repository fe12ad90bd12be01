/* SPDX-License-Identifier: MIT */
/* fuzz_sdp_answer.c: answer_build on arbitrary offers for a path with H.264 and Opus: never
 * reads out of bounds or leaks (libre allocations included), and every success yields a
 * NUL-terminated answer with at least one sent track and the peer's ICE credentials. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <re.h>
#define DEBUG_MODULE "fuzz_sdp_answer"
#define DEBUG_LEVEL  0
#include <re_dbg.h>

#include "egress/sdp_answer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct media_track_info tracks[2] = {
        {.index = 0,
         .codec = RING_CODEC_H264,
         .clock_rate = 90000,
         .channels = 1,
         .profile_level_id = "42e01f"},
        {.index = 1, .codec = RING_CODEC_OPUS, .clock_rate = 48000, .channels = 2},
    };
    static int quiet;
    if (!quiet) {
        dbg_init(DBG_EMERG, DBG_NONE);
        quiet = 1;
    }
    struct answer_local local = {.ufrag = "abcd",
                                 .pwd = "0123456789abcdef012345",
                                 .fingerprint = "sha-256 AA:BB",
                                 .candidates = {"127.0.0.1"},
                                 .n_candidates = 1,
                                 .port = 18850,
                                 .ssrc = {1, 2}};
    uint8_t *p = malloc(size ? size : 1);
    if (!p)
        return 0;
    memcpy(p, data, size);
    struct answer_result r;
    int rc = answer_build(p, size, tracks, 2, &local, &r);
    if (rc == 0) {
        if (!r.sdp || strlen(r.sdp) != r.sdp_len || !r.remote_ufrag[0] || !r.remote_pwd[0] ||
            !((r.tracks[0].flags | r.tracks[1].flags) & MEDIA_TRACK_SEND))
            abort();
        answer_result_free(&r);
    } else if (r.sdp || !r.reason[0]) {
        abort();
    }
    free(p);
    return 0;
}
