/* SPDX-License-Identifier: MIT */
/* rtsp_rtcp.h: the RTSP client's receiver side of RTCP (RFC 3550 6.4.2, A.1, A.3, A.8):
 * per-track reception statistics, the sender report timestamps they echo, and the compound
 * RR + SDES packet sent back to the server (codec/rtcp writes it). Fixed-size state, no
 * allocation, no I/O. */
#ifndef RINGCAST_RTSP_RTCP_H
#define RINGCAST_RTSP_RTCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rtsp_rx_stats {
    bool init;
    uint32_t clock_rate;
    uint32_t ssrc; /* the sender's */
    uint16_t max_seq;
    uint32_t cycles; /* sequence wraps, shifted by 16 */
    uint32_t base_seq;
    uint32_t received;
    uint32_t expected_prior;
    uint32_t received_prior;
    uint64_t t0_ns; /* arrival clock origin, keeps transit arithmetic in 64 bits */
    int64_t transit;
    uint32_t jitter_q4; /* interarrival jitter << 4 (A.8) */
    uint32_t lsr;       /* middle 32 bits of the last SR's NTP time */
    uint64_t lsr_at_ns; /* when that SR arrived; 0 = none yet */
};

/* Starts stats for a track of clock_rate. */
void rtsp_rx_init(struct rtsp_rx_stats *s, uint32_t clock_rate);
/* Accounts one RTP packet as it arrives (before any reordering). */
void rtsp_rx_packet(struct rtsp_rx_stats *s, uint16_t seq, uint32_t rtp_ts, uint32_t ssrc,
                    uint64_t now_ns);
/* Reads the sender reports in a compound RTCP packet from the server. Returns 0, or
 * -EBADMSG when not even its first packet is well formed (the SRs before any damage count). */
int rtsp_rx_rtcp(struct rtsp_rx_stats *s, const uint8_t *p, size_t len, uint64_t now_ns);
/* Packets lost so far (RFC 3550 A.3: expected less received; 0 while duplicates outnumber
 * losses), for reports about the sender. */
uint64_t rtsp_rx_lost(const struct rtsp_rx_stats *s);
/* Builds RR (one report block once packets arrived) + SDES CNAME (at most 255 bytes) into
 * out. Returns its length, or -ENOSPC (-EINVAL for a longer CNAME). Once built, the next
 * report's interval starts (fraction lost is per interval). */
int rtsp_rr_build(struct rtsp_rx_stats *s, uint32_t own_ssrc, const char *cname, uint8_t *out,
                  size_t cap, uint64_t now_ns);

#endif
