/* SPDX-License-Identifier: MIT */
/* tcpframe.c: RFC 4571 frame reassembly for ICE-TCP: a fixed buffer per connection, frames
 * handed out in place, lengths checked before any byte of the payload is trusted. */
#include "rtc/tcpframe.h"

#include <errno.h>
#include <string.h>

int tcpframe_parse(const uint8_t *p, size_t len)
{
    if (len < TCPFRAME_HDR)
        return 0;
    size_t n = (size_t)p[0] << 8 | p[1];
    if (n == 0 || n > TCPFRAME_MAX)
        return -EBADMSG; /* RFC 4571 2: nothing of length 0 is sent; ours are datagram-sized */
    return len >= TCPFRAME_HDR + n ? (int)(TCPFRAME_HDR + n) : 0;
}

uint8_t *tcpframe_rx_space(struct tcpframe_rx *rx, size_t *room)
{
    if (rx->off) {
        memmove(rx->buf, rx->buf + rx->off, (size_t)(rx->len - rx->off));
        rx->len = (uint16_t)(rx->len - rx->off);
        rx->off = 0;
    }
    *room = sizeof(rx->buf) - rx->len;
    return rx->buf + rx->len;
}

void tcpframe_rx_fill(struct tcpframe_rx *rx, size_t n)
{
    rx->len = (uint16_t)(rx->len + n);
}

int tcpframe_rx_next(struct tcpframe_rx *rx, const uint8_t **p, size_t *len)
{
    /* The buffer holds two maximal frames: once compacted, an incomplete frame always fits,
     * so a complete one is never stuck behind a full buffer. */
    int n = tcpframe_parse(rx->buf + rx->off, (size_t)(rx->len - rx->off));
    if (n <= 0)
        return n;
    *p = rx->buf + rx->off + TCPFRAME_HDR;
    *len = (size_t)n - TCPFRAME_HDR;
    rx->off = (uint16_t)(rx->off + n);
    return 1;
}
