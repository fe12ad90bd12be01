/* SPDX-License-Identifier: MIT */
/* fuzz_srtcp.c: esrtp_unprotect_rtcp on arbitrary bytes (what any host can send a worker's
 * media port once it guesses a viewer's address), both profiles, driven by fuzz_srtp.h: an
 * accepted packet keeps its 8-byte header and loses exactly the SRTCP trailer (E flag and
 * index, then the tag). */
#include "test/fuzz/fuzz_srtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct fuzz_srtp_target t = {
        .rtp = false, .header = 8, .index = 4, .unprotect = esrtp_unprotect_rtcp};
    return fuzz_srtp_run(&t, data, size);
}
