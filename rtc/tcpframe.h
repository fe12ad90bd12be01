/* SPDX-License-Identifier: MIT */
/* tcpframe.h: RFC 4571 framing of STUN, DTLS, RTP and RTCP over a TCP stream (ICE-TCP, RFC
 * 6544): each packet is preceded by its length, 16 bits big-endian. The receive side
 * reassembles frames in a fixed buffer and refuses lengths no WebRTC peer sends. No sockets:
 * bytes in, frames out. */
#ifndef RINGCAST_RTC_TCPFRAME_H
#define RINGCAST_RTC_TCPFRAME_H

#include <stddef.h>
#include <stdint.h>

/* The largest packet accepted from a peer: a 1500-byte MTU's datagram plus room for a TURN
 * or DTLS record overhead. A browser sends packets of at most about 1200 bytes. */
#define TCPFRAME_MAX 1600
#define TCPFRAME_HDR 2

/* Reassembly state of one connection's receive side: plain bytes, no pointers. */
struct tcpframe_rx {
    uint16_t len; /* bytes held in buf */
    uint16_t off; /* of them, bytes of frames handed out already */
    uint8_t buf[2 * (TCPFRAME_HDR + TCPFRAME_MAX)];
};

/* The frame at the start of p[0..len): its total size (header included) when complete, 0
 * when more bytes are needed, -EBADMSG for a length of 0 or above TCPFRAME_MAX. */
int tcpframe_parse(const uint8_t *p, size_t len);

/* Where the next read() may put bytes, and how many (never 0 while frames are taken out
 * with tcpframe_rx_next until it returns 0). Compacts the buffer first. */
uint8_t *tcpframe_rx_space(struct tcpframe_rx *rx, size_t *room);
/* n bytes were read into the space. */
void tcpframe_rx_fill(struct tcpframe_rx *rx, size_t n);
/* The next complete frame's payload in *p, *len (valid until the next call that changes rx):
 * 1, or 0 when none is complete, or -EBADMSG for bad framing (the stream cannot resynchronize:
 * close it). */
int tcpframe_rx_next(struct tcpframe_rx *rx, const uint8_t **p, size_t *len);

/* Writes the 2-byte length header for a packet of len bytes (len <= 65535). */
static inline void tcpframe_header(uint8_t hdr[TCPFRAME_HDR], size_t len)
{
    hdr[0] = (uint8_t)(len >> 8);
    hdr[1] = (uint8_t)len;
}

#endif
