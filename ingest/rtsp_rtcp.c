/* SPDX-License-Identifier: MIT */
/* rtsp_rtcp.c: reception statistics and receiver reports for the RTSP client, following
 * the reference algorithms of RFC 3550 appendix A; the packets themselves are read and
 * written by codec/rtcp. */
#include "ingest/rtsp_rtcp.h"

#include <string.h>

#include "codec/rtcp.h"

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

struct rtsp_rx_sr_ctx {
    struct rtsp_rx_stats *s;
    uint64_t now_ns;
};

/* LSR is the middle 32 bits of the SR's NTP time (RFC 3550 6.4.1). */
static void rtsp_rx_on_sr(void *arg, const struct codec_rtcp_sr *sr)
{
    struct rtsp_rx_sr_ctx *c = arg;
    c->s->lsr = codec_rtcp_ntp_mid(sr->ntp_sec, sr->ntp_frac);
    c->s->lsr_at_ns = c->now_ns;
}

int rtsp_rx_rtcp(struct rtsp_rx_stats *s, const uint8_t *p, size_t len, uint64_t now_ns)
{
    static const struct codec_rtcp_handler h = {.sr = rtsp_rx_on_sr};
    struct rtsp_rx_sr_ctx c = {s, now_ns};
    int n = codec_rtcp_parse(p, len, &h, &c);
    return n < 0 ? n : 0;
}

uint64_t rtsp_rx_lost(const struct rtsp_rx_stats *s)
{
    if (!s->init)
        return 0;
    uint32_t expected = s->cycles + s->max_seq - s->base_seq + 1;
    return expected > s->received ? expected - s->received : 0;
}

/* The report block (6.4.1): fraction lost in the interval since the last report, cumulative
 * lost (24-bit signed, clamped), extended highest sequence, jitter, LSR and DLSR. *expected
 * gets the packets expected so far, for the next interval once the report is sent. */
static void report_block(const struct rtsp_rx_stats *s, struct codec_rtcp_rb *rb,
                         uint32_t *expected, uint64_t now_ns)
{
    uint32_t ext_max = s->cycles + s->max_seq;
    *expected = ext_max - s->base_seq + 1;
    int64_t lost = (int64_t)*expected - s->received;
    if (lost > 0x7fffff)
        lost = 0x7fffff;
    if (lost < -0x800000)
        lost = -0x800000;
    uint32_t exp_int = *expected - s->expected_prior;
    uint32_t rec_int = s->received - s->received_prior;
    int64_t lost_int = (int64_t)exp_int - rec_int;
    *rb = (struct codec_rtcp_rb){
        .ssrc = s->ssrc,
        .fraction = exp_int == 0 || lost_int <= 0 ? 0 : (uint8_t)((lost_int << 8) / exp_int),
        .lost = (int32_t)lost,
        .last_seq = ext_max,
        .jitter = s->jitter_q4 >> 4,
        .lsr = s->lsr_at_ns ? s->lsr : 0,
        .dlsr = s->lsr_at_ns ? codec_rtcp_dlsr(now_ns - s->lsr_at_ns) : 0,
    };
}

int rtsp_rr_build(struct rtsp_rx_stats *s, uint32_t own_ssrc, const char *cname, uint8_t *out,
                  size_t cap, uint64_t now_ns)
{
    struct codec_rtcp_rb rb;
    uint32_t expected = 0;
    unsigned rc = s->init ? 1 : 0;
    if (rc)
        report_block(s, &rb, &expected, now_ns);
    int n = codec_rtcp_write_rr(out, cap, own_ssrc, &rb, rc);
    if (n < 0)
        return n;
    int m = codec_rtcp_write_sdes(out + n, cap - (size_t)n, &own_ssrc, 1, cname);
    if (m < 0)
        return m;
    /* Fraction lost is per interval: the next one starts when this report is sent. */
    if (rc) {
        s->expected_prior = expected;
        s->received_prior = s->received;
    }
    return n + m;
}
