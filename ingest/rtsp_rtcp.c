/* SPDX-License-Identifier: MIT */
/* rtsp_rtcp.c: reception statistics and receiver reports for the RTSP client, following
 * the reference algorithms of RFC 3550 appendix A. */
#include "ingest/rtsp_rtcp.h"

#include <errno.h>
#include <string.h>

#include "common/bytes.h"

#define RTCP_SR      200
#define RTCP_RR      201
#define RTCP_SDES    202
#define MAX_DROPOUT  3000
#define MAX_MISORDER 100

void rtsp_rx_init(struct rtsp_rx_stats *s, uint32_t clock_rate)
{
    memset(s, 0, sizeof(*s));
    s->clock_rate = clock_rate;
}

/* Arrival time in the track's clock units since t0 (A.8 wants both in the same units). */
static int64_t arrival_units(const struct rtsp_rx_stats *s, uint64_t now_ns)
{
    uint64_t d = now_ns - s->t0_ns;
    return (int64_t)((d / 1000000000u) * s->clock_rate +
                     (d % 1000000000u) * s->clock_rate / 1000000000u);
}

void rtsp_rx_packet(struct rtsp_rx_stats *s, uint16_t seq, uint32_t rtp_ts, uint32_t ssrc,
                    uint64_t now_ns)
{
    if (!s->init || ssrc != s->ssrc) {
        uint32_t rate = s->clock_rate;
        rtsp_rx_init(s, rate);
        s->init = true;
        s->ssrc = ssrc;
        s->base_seq = seq;
        s->max_seq = seq;
        s->t0_ns = now_ns;
        s->transit = -(int64_t)rtp_ts;
        s->received = 1;
        return;
    }
    uint16_t udelta = (uint16_t)(seq - s->max_seq);
    if (udelta < MAX_DROPOUT) {
        if (seq < s->max_seq)
            s->cycles += 1u << 16;
        s->max_seq = seq;
    } else if (udelta <= (uint16_t)(65536 - MAX_MISORDER)) {
        /* A large jump: the sender restarted its numbering (A.1 resyncs after two in a
         * row; for reports one is good enough). */
        s->base_seq = seq;
        s->max_seq = seq;
        s->cycles = 0;
        s->received = 0;
        s->expected_prior = s->received_prior = 0;
    }
    s->received++;
    int64_t transit = arrival_units(s, now_ns) - (int64_t)rtp_ts;
    /* Timestamps wrap at 2^32: the difference of transits is taken modulo 2^32. */
    int32_t d = (int32_t)(uint32_t)(transit - s->transit);
    s->transit = transit;
    uint32_t ad = d < 0 ? 0u - (uint32_t)d : (uint32_t)d; /* INT32_MIN has no int negation */
    s->jitter_q4 += ad - ((s->jitter_q4 + 8) >> 4);
}

int rtsp_rx_rtcp(struct rtsp_rx_stats *s, const uint8_t *p, size_t len, uint64_t now_ns)
{
    size_t off = 0;
    while (off + 4 <= len) {
        const uint8_t *h = p + off;
        size_t plen = 4 + 4 * (size_t)(h[2] << 8 | h[3]);
        if ((h[0] >> 6) != 2 || off + plen > len)
            return -EBADMSG;
        /* SR: header, SSRC, NTP (8), RTP ts, counts; LSR is NTP's middle 32 bits. */
        if (h[1] == RTCP_SR && plen >= 28) {
            s->lsr = (uint32_t)h[10] << 24 | (uint32_t)h[11] << 16 | (uint32_t)h[12] << 8 | h[13];
            s->lsr_at_ns = now_ns;
        }
        off += plen;
    }
    return off == len ? 0 : -EBADMSG;
}

/* The report block (6.4.1): fraction lost in the interval, cumulative lost (24-bit signed,
 * clamped), extended highest sequence, jitter, LSR and DLSR in 1/65536 s. */
static void report_block(struct rtsp_rx_stats *s, uint8_t *b, uint64_t now_ns)
{
    uint32_t ext_max = s->cycles + s->max_seq;
    uint32_t expected = ext_max - s->base_seq + 1;
    int64_t lost = (int64_t)expected - s->received;
    if (lost > 0x7fffff)
        lost = 0x7fffff;
    if (lost < -0x800000)
        lost = -0x800000;
    uint32_t exp_int = expected - s->expected_prior;
    uint32_t rec_int = s->received - s->received_prior;
    s->expected_prior = expected;
    s->received_prior = s->received;
    int64_t lost_int = (int64_t)exp_int - rec_int;
    uint8_t fraction = exp_int == 0 || lost_int <= 0 ? 0 : (uint8_t)((lost_int << 8) / exp_int);
    uint32_t dlsr = 0;
    if (s->lsr_at_ns)
        dlsr = (uint32_t)(((now_ns - s->lsr_at_ns) << 16) / 1000000000u);
    be32_put(b, s->ssrc);
    be32_put(b + 4, (uint32_t)fraction << 24 | ((uint32_t)lost & 0xffffff));
    be32_put(b + 8, ext_max);
    be32_put(b + 12, s->jitter_q4 >> 4);
    be32_put(b + 16, s->lsr_at_ns ? s->lsr : 0);
    be32_put(b + 20, dlsr);
}

int rtsp_rr_build(struct rtsp_rx_stats *s, uint32_t own_ssrc, const char *cname, uint8_t *out,
                  size_t cap, uint64_t now_ns)
{
    size_t cn = strlen(cname);
    if (cn > 255)
        cn = 255;
    unsigned rc = s->init ? 1 : 0;
    size_t rr_len = 8 + 24 * rc;
    /* SDES chunk: SSRC, CNAME item (type, length, text), then at least one zero octet
     * ending the item list, padded to a 32-bit boundary (6.5). */
    size_t chunk = 4 + 2 + cn + 1;
    chunk = (chunk + 3) & ~(size_t)3;
    size_t sdes_len = 4 + chunk;
    if (rr_len + sdes_len > cap)
        return -ENOSPC;
    memset(out, 0, rr_len + sdes_len);
    out[0] = (uint8_t)(0x80 | rc);
    out[1] = RTCP_RR;
    out[3] = (uint8_t)(rr_len / 4 - 1);
    be32_put(out + 4, own_ssrc);
    if (rc)
        report_block(s, out + 8, now_ns);
    uint8_t *d = out + rr_len;
    d[0] = 0x81;
    d[1] = RTCP_SDES;
    d[2] = (uint8_t)((sdes_len / 4 - 1) >> 8);
    d[3] = (uint8_t)(sdes_len / 4 - 1);
    be32_put(d + 4, own_ssrc);
    d[8] = 1; /* CNAME */
    d[9] = (uint8_t)cn;
    memcpy(d + 10, cname, cn);
    return (int)(rr_len + sdes_len);
}
