/* SPDX-License-Identifier: MIT */
/* fuzz_srtp_rx.c: esrtp_unprotect_rtp on arbitrary bytes (what any host can send a WHIP
 * ingest's media port), both profiles, driven by fuzz_srtp.h: an accepted packet keeps its
 * 12-byte header and loses exactly the tag. */
#include "test/fuzz/fuzz_srtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct fuzz_srtp_target t = {
        .rtp = true, .header = 12, .index = 0, .unprotect = esrtp_unprotect_rtp};
    return fuzz_srtp_run(&t, data, size);
}
