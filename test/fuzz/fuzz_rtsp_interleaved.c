/* SPDX-License-Identifier: MIT */
/* fuzz_rtsp_interleaved.c: the TCP stream of an RTSP session (interleaved "$" frames mixed
 * with responses and server requests), fed as the client reads it: in arbitrary chunks,
 * each consumed prefix handed back. Items must lie inside the input, progress must be made,
 * and the demux must give the same items whatever the chunking. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rtsp/msg.h"

/* Splits the whole stream; returns a checksum of the items and the error that ended it. */
static uint64_t demux(const uint8_t *p, size_t size, size_t chunk, int *end)
{
    static struct rtsp_item it;
    uint64_t sum = 0;
    size_t off = 0, avail = 0;
    *end = 0;
    while (off < size) {
        avail = avail + chunk > size ? size : avail + chunk;
        for (;;) {
            int n = rtsp_stream_next(&it, p + off, avail - off);
            if (n < 0) {
                *end = n;
                return sum;
            }
            if (n == 0)
                break;
            if ((size_t)n > avail - off)
                abort();
            if (it.kind == RTSP_ITEM_INTERLEAVED &&
                (it.data != p + off + 4 || it.data_len + 4 != (size_t)n ||
                 it.data_len < RTSP_INTERLEAVED_MIN))
                abort();
            sum = sum * 31 + (uint64_t)n * 7 + it.kind;
            off += (size_t)n;
        }
        if (avail == size && off < size)
            break; /* an incomplete tail: needs more bytes */
    }
    return sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *p = malloc(size ? size : 1);
    if (!p)
        return 0;
    memcpy(p, data, size);
    int end1, end2;
    uint64_t a = demux(p, size, size ? size : 1, &end1);
    uint64_t b = demux(p, size, 7, &end2);
    /* Chunking may only change where a truncated item is noticed, never the items before. */
    if (end1 == end2 && end1 == 0 && a != b)
        abort();
    if (end1 != 0 && end1 != -EBADMSG && end1 != -ERANGE && end1 != -EMSGSIZE)
        abort();
    free(p);
    return 0;
}
