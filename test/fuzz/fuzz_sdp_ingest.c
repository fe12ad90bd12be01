/* SPDX-License-Identifier: MIT */
/* fuzz_sdp_ingest.c: a DESCRIBE answer's SDP from a hostile server, through the line reader
 * and the track selection in rtsp_sdp_parse: no crash, no leak, and every track it reports
 * is usable (terminated strings, a control URL, a payload type in range when supported). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ingest/rtsp_sdp.h"
#include "shm/ring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct rtsp_sdp s;
    if (rtsp_sdp_parse(&s, data, size, "rtsp://127.0.0.1:8554/test/") != 0)
        return 0;
    if (s.n > RTSP_SDP_MAX_MEDIA || strncasecmp(s.control, "rtsp", 4) != 0)
        abort();
    for (unsigned i = 0; i < s.n; i++) {
        const struct rtsp_sdp_track *t = &s.t[i];
        if (memchr(t->control, '\0', sizeof(t->control)) == NULL || !t->control[0])
            abort();
        if (t->codec != RING_CODEC_NONE && (t->pt < 0 || t->pt > 127 || t->clock_rate == 0))
            abort();
    }
    return 0;
}
