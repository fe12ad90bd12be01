/* SPDX-License-Identifier: MIT */
/* fuzz_tcp_framing.c: RFC 4571 reassembly (rtc/tcpframe) on an arbitrary byte stream, as an
 * ICE-TCP peer may send it, cut into reads of arbitrary sizes: every frame handed out is 1 to
 * TCPFRAME_MAX bytes and is exactly the stream's next frame, the buffer always has room while
 * frames are taken out, and bad framing is reported where the stream has it. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rtc/tcpframe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    /* The first byte seeds the read sizes; the rest is the stream. */
    unsigned seed = data[0];
    const uint8_t *s = data + 1;
    size_t n = size - 1, fed = 0, taken = 0;
    static struct tcpframe_rx rx;
    memset(&rx, 0, sizeof(rx));
    while (fed < n) {
        size_t room;
        uint8_t *space = tcpframe_rx_space(&rx, &room);
        if (room == 0)
            abort(); /* a complete frame would be stuck behind a full buffer */
        seed = seed * 1103515245u + 12345u;
        size_t chunk = 1 + (seed >> 16) % 2000;
        if (chunk > room)
            chunk = room;
        if (chunk > n - fed)
            chunk = n - fed;
        memcpy(space, s + fed, chunk);
        tcpframe_rx_fill(&rx, chunk);
        fed += chunk;
        const uint8_t *p;
        size_t len;
        int rc;
        while ((rc = tcpframe_rx_next(&rx, &p, &len)) > 0) {
            if (len == 0 || len > TCPFRAME_MAX || taken + TCPFRAME_HDR + len > fed)
                abort();
            if (((size_t)s[taken] << 8 | s[taken + 1]) != len ||
                memcmp(p, s + taken + TCPFRAME_HDR, len) != 0)
                abort(); /* not the stream's next frame */
            taken += TCPFRAME_HDR + len;
        }
        if (rc < 0) {
            /* Only a bad length at the next frame's start is refused. */
            if (tcpframe_parse(s + taken, n - taken) != -EBADMSG)
                abort();
            return 0;
        }
    }
    return 0;
}
