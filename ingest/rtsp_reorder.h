/* SPDX-License-Identifier: MIT */
/* rtsp_reorder.h: the UDP reorder buffer of the RTSP client and the WHIP ingest. RTP over UDP
 * may arrive out of order; the depacketizers need sequence order. Packets in order pass
 * straight through (no copy); one arriving early waits in a slot until the gap fills or has
 * waited the window, after which the gap is declared lost. The slots in use grow with the
 * stream's rate, up to what the window needs at 20 Mbit/s. No allocation after init. */
#ifndef RINGCAST_RTSP_REORDER_H
#define RINGCAST_RTSP_REORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Slots are used from the first RTSP_REORDER_SLOTS: a gap is held while fewer than that many
 * numbers follow it (a bigger jump with nothing held is a loss at once). When a held gap's
 * window needs more, because the numbers after it arrive faster than that per window, the
 * slots in use double, up to the window's worth at RTSP_REORDER_PPS_MAX (a power of two, at
 * most RTSP_REORDER_SLOTS_MAX): 128 for 50 ms, 512 for 150 ms. Only slots in use are ever
 * written, so a slower stream leaves the pages of the others untouched. */
#define RTSP_REORDER_SLOTS     128  /* power of two; 50 ms of a 20 Mbit/s stream */
#define RTSP_REORDER_SLOTS_MAX 512  /* 150 ms of 20 Mbit/s (313 packets) */
#define RTSP_REORDER_PPS_MAX   2084 /* 20 Mbit/s of 1200-byte packets */
#define RTSP_REORDER_PKT_MAX   2048 /* bigger early packets are dropped (and lost) */
#define RTSP_REORDER_WINDOW_NS (50u * 1000 * 1000)

typedef void (*rtsp_reorder_cb)(void *arg, const uint8_t *pkt, size_t len);

struct rtsp_reorder_slot {
    uint16_t seq;
    uint16_t len;
    uint8_t data[RTSP_REORDER_PKT_MAX];
};

struct rtsp_reorder {
    rtsp_reorder_cb emit;
    void *arg;
    uint64_t window_ns;
    unsigned slots;     /* in use: a power of two, RTSP_REORDER_SLOTS up to slots_max */
    unsigned slots_max; /* the window's worth at RTSP_REORDER_PPS_MAX */
    bool started;
    uint16_t next; /* sequence number expected next */
    unsigned stored;
    uint64_t waiting_since; /* when the current gap started to hold packets back */
    uint64_t late;          /* dropped: behind next (late or duplicate) */
    uint64_t lost;          /* sequence numbers given up on */
    uint64_t oversize;      /* early packets too big to hold */
    uint64_t grown;         /* times the slots in use doubled */
    /* Bit i: slot[i] holds a packet. Apart from the slots, so that a slot is written (and its
     * page made resident) only when a packet arrives early: in order, none is. */
    uint64_t used[RTSP_REORDER_SLOTS_MAX / 64];
    struct rtsp_reorder_slot slot[RTSP_REORDER_SLOTS_MAX];
};

/* Prepares r (about 1 MiB: embed it in a heap object; only its head is written here, and of the
 * slots at most the window's worth at RTSP_REORDER_PPS_MAX ever). emit gets packets in order. */
void rtsp_reorder_init(struct rtsp_reorder *r, uint64_t window_ns, rtsp_reorder_cb emit, void *arg);
/* Forgets everything held and the sequence state (new session); the slots in use stay. */
void rtsp_reorder_reset(struct rtsp_reorder *r);
/* Offers one RTP packet (at least 4 bytes; the caller has checked the header) that arrived
 * at now_ns. Calls emit for it and for any held packets it releases. */
void rtsp_reorder_push(struct rtsp_reorder *r, const uint8_t *pkt, size_t len, uint64_t now_ns);
/* When the held packets must be released at the latest, or 0 if none are held. */
uint64_t rtsp_reorder_deadline(const struct rtsp_reorder *r);
/* Releases everything held if the wait reached the window at now_ns, skipping the gaps. */
void rtsp_reorder_expire(struct rtsp_reorder *r, uint64_t now_ns);

#endif
