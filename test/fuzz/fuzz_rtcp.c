/* SPDX-License-Identifier: MIT */
/* fuzz_rtcp.c: codec_rtcp_parse on arbitrary bytes (what a viewer's SRTCP decrypts to, a
 * hostile viewer's, or an RTSP server's RTCP on a UDP port anyone can reach): never reads out
 * of bounds, walks no more packets than 4-byte headers fit in the input, and everything it
 * reports survives the writers unchanged (a report block through codec_rtcp_write_rr, a NACK
 * entry's sequence numbers through codec_rtcp_write_nack, each parsed again). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/rtcp.h"

static unsigned events;
static struct codec_rtcp_rb again_rb;
static uint16_t again_pid, again_blp;
static unsigned again;

static void again_report(void *a, const struct codec_rtcp_rb *rb)
{
    (void)a;
    again_rb = *rb;
    again++;
}
static void again_nack(void *a, uint32_t ssrc, uint16_t pid, uint16_t blp)
{
    (void)a;
    (void)ssrc;
    again_pid = pid;
    again_blp = blp;
    again++;
}
static const struct codec_rtcp_handler again_h = {.report = again_report, .nack = again_nack};

static void on_sr(void *a, const struct codec_rtcp_sr *sr)
{
    (void)a;
    (void)sr;
    events++;
}
static void on_report(void *a, const struct codec_rtcp_rb *rb)
{
    (void)a;
    if (rb->lost < -(1 << 23) || rb->lost >= (1 << 23))
        abort(); /* a 24-bit signed field */
    uint8_t out[32];
    again = 0;
    if (codec_rtcp_write_rr(out, sizeof(out), 1, rb, 1) != 32 ||
        codec_rtcp_parse(out, 32, &again_h, NULL) != 1 || again != 1 || again_rb.ssrc != rb->ssrc ||
        again_rb.fraction != rb->fraction || again_rb.lost != rb->lost ||
        again_rb.last_seq != rb->last_seq || again_rb.jitter != rb->jitter ||
        again_rb.lsr != rb->lsr || again_rb.dlsr != rb->dlsr)
        abort();
    events++;
}
static void on_nack(void *a, uint32_t ssrc, uint16_t pid, uint16_t blp)
{
    (void)a;
    uint16_t seqs[17];
    size_t n = 0;
    for (unsigned i = 0; i < 17; i++)
        if (i == 0 || (blp & (1u << (i - 1))))
            seqs[n++] = (uint16_t)(pid + i);
    uint8_t out[16];
    again = 0;
    if (codec_rtcp_write_nack(out, sizeof(out), 1, ssrc, seqs, n) != 16 ||
        codec_rtcp_parse(out, 16, &again_h, NULL) != 1 || again != 1 || again_pid != pid ||
        again_blp != blp)
        abort();
    events++;
}
static void on_ssrc(void *a, uint32_t ssrc)
{
    (void)a;
    (void)ssrc;
    events++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct codec_rtcp_handler h = {
        .sr = on_sr, .report = on_report, .nack = on_nack, .pli = on_ssrc, .fir = on_ssrc};
    /* A private copy sized exactly: ASan then flags any read past the end. */
    uint8_t *p = malloc(size ? size : 1);
    if (!p)
        return 0;
    memcpy(p, data, size);
    events = 0;
    int n = codec_rtcp_parse(p, size, &h, NULL);
    if (n > (int)(size / 4) || (n < 0 && events))
        abort();
    free(p);
    return 0;
}
