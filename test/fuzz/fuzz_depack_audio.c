/* SPDX-License-Identifier: MIT */
/* fuzz_depack_audio.c: libFuzzer target for the Opus and G.711 depacketizers; the first byte
 * picks the codec. */
#include "test/fuzz/fuzz_depack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint32_t codecs[] = {RING_CODEC_OPUS, RING_CODEC_PCMU, RING_CODEC_PCMA};
    if (size < 1)
        return 0;
    return fuzz_depack_run(codecs[data[0] % 3], data + 1, size - 1);
}
