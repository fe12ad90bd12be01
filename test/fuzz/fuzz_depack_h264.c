/* SPDX-License-Identifier: MIT */
/* fuzz_depack_h264.c: libFuzzer target for the H264 depacketizer (codec/depack.c). */
#include "test/fuzz/fuzz_depack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_depack_run(RING_CODEC_H264, data, size);
}
