/* SPDX-License-Identifier: MIT */
/* fuzz_depack_params.c: libFuzzer target for the parameter-set parsers a depacketizing
 * ingest feeds with remote input: SDP fmtp sprop-* (base64), H.264 SPS, Annex-B iteration
 * and parameter-set extraction. */
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"
#include "codec/h264.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t out[RING_PARAMS_MAX];
    uint32_t codec = size > 0 && (data[0] & 1) ? RING_CODEC_H265 : RING_CODEC_H264;
    int n = codec_params_from_fmtp(codec, (const char *)data, size, out, sizeof(out));
    if (n > (int)sizeof(out))
        abort();
    int m = codec_params_from_au(codec, data, size, out, sizeof(out));
    if (m > (int)sizeof(out))
        abort();
    struct h264_sps sps;
    if (h264_sps_parse(data, size, &sps) == 0) {
        if (sps.width == 0 || sps.height == 0 || sps.width > 16384 || sps.height > 16384 * 2)
            abort();
        uint32_t num, den;
        if (h264_sps_fps(&sps, &num, &den) == 0 && (num == 0 || den == 0))
            abort();
        char pli[7];
        h264_profile_level_id(&sps, pli);
        if (strlen(pli) != 6)
            abort();
    }
    return 0;
}
