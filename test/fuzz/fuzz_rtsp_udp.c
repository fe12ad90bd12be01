/* SPDX-License-Identifier: MIT */
/* fuzz_rtsp_udp.c: what arrives on the RTSP client's UDP sockets, from anyone: a sequence
 * of datagrams (each prefixed here by a length byte and a flags byte choosing RTP or RTCP
 * and the clock step) through the reorder buffer, the reception statistics, the sender
 * report reader and the receiver report builder; an input of odd length uses WHIP's 150 ms
 * window, whose slots grow. Packets must come out of the reorder buffer unchanged, each at
 * most once per push, and reports must fit their buffer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/rtsp_reorder.h"
#include "ingest/rtsp_rtcp.h"

static unsigned emitted;

static void on_emit(void *arg, const uint8_t *pkt, size_t len)
{
    (void)arg;
    if (len < 12 || len > 255 || pkt == NULL)
        abort();
    emitted++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct rtsp_reorder r;
    struct rtsp_rx_stats st;
    uint64_t now = 1000000000ull;
    uint64_t window = size % 2 ? 150000000ull : RTSP_REORDER_WINDOW_NS;
    rtsp_reorder_init(&r, window, on_emit, NULL);
    rtsp_rx_init(&st, 90000);
    emitted = 0;
    unsigned pushed = 0;
    size_t off = 0;
    while (off + 2 <= size) {
        size_t n = data[off];
        uint8_t flags = data[off + 1];
        off += 2;
        if (n > size - off)
            n = size - off;
        uint8_t *pkt = malloc(n ? n : 1); /* exact size: ASan sees any overread */
        if (!pkt)
            return 0;
        memcpy(pkt, data + off, n);
        off += n;
        now += (uint64_t)(flags >> 2) * 5000000ull; /* 0..315 ms steps */
        if (flags & 1) {
            (void)rtsp_rx_rtcp(&st, pkt, n, now);
        } else if (n >= 12) {
            uint16_t seq = (uint16_t)(pkt[2] << 8 | pkt[3]);
            uint32_t ts = (uint32_t)pkt[4] << 24 | (uint32_t)pkt[5] << 16 | pkt[6] << 8 | pkt[7];
            rtsp_rx_packet(&st, seq, ts, 0x1234, now);
            rtsp_reorder_push(&r, pkt, n, now);
            pushed++;
        }
        if (flags & 2)
            rtsp_reorder_expire(&r, now);
        free(pkt);
        uint8_t rr[64];
        if (rtsp_rr_build(&st, 1, "ringcast", rr, sizeof(rr), now) < 0)
            abort();
    }
    rtsp_reorder_expire(&r, now + window);
    if (emitted > pushed || r.stored != 0)
        abort(); /* duplicates are never emitted twice; nothing stays held past the window */
    return 0;
}
