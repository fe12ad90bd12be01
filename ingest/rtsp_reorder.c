/* SPDX-License-Identifier: MIT */
/* rtsp_reorder.c: sequence-number reorder buffer for RTP over UDP (see rtsp_reorder.h).
 * Sequence arithmetic is modulo 2^16 (RFC 3550 A.1): a difference is read as int16_t. A
 * packet sits in the slot of its number's low bits (seq & (slots - 1)). */
#include "ingest/rtsp_reorder.h"

#include <stddef.h>
#include <string.h>

#include "codec/depack.h"

_Static_assert((RTSP_REORDER_SLOTS & (RTSP_REORDER_SLOTS - 1)) == 0, "a power of two");
_Static_assert((RTSP_REORDER_SLOTS_MAX & (RTSP_REORDER_SLOTS_MAX - 1)) == 0, "a power of two");
_Static_assert(RTSP_REORDER_SLOTS % 64 == 0, "whole words of used bits");
_Static_assert(RTSP_REORDER_SLOTS_MAX >= RTSP_REORDER_SLOTS, "the first slots fit");

static bool held(const struct rtsp_reorder *r, unsigned i)
{
    return r->used[i / 64] >> (i % 64) & 1;
}

static void mark(struct rtsp_reorder *r, unsigned i, bool on)
{
    uint64_t bit = (uint64_t)1 << (i % 64);
    r->used[i / 64] = on ? r->used[i / 64] | bit : r->used[i / 64] & ~bit;
}

void rtsp_reorder_init(struct rtsp_reorder *r, uint64_t window_ns, rtsp_reorder_cb emit, void *arg)
{
    /* Not the slots: they are read only where marked used, and left alone their pages cost
     * no memory (four tracks' slots are ~4 MiB per RTSP ingest over UDP, of which its 50 ms
     * window ever writes the first 128 a track: 256 KiB). */
    memset(r, 0, offsetof(struct rtsp_reorder, slot));
    r->window_ns = window_ns;
    uint64_t need = window_ns * RTSP_REORDER_PPS_MAX / 1000000000u;
    r->slots = r->slots_max = RTSP_REORDER_SLOTS;
    while (r->slots_max < need && r->slots_max < RTSP_REORDER_SLOTS_MAX)
        r->slots_max *= 2;
    r->emit = emit;
    r->arg = arg;
}

void rtsp_reorder_reset(struct rtsp_reorder *r)
{
    memset(r->used, 0, sizeof(r->used));
    r->stored = 0;
    r->started = false;
}

/* Emits the held packets that continue the sequence. */
static void drain(struct rtsp_reorder *r)
{
    for (;;) {
        unsigned i = r->next & (r->slots - 1);
        struct rtsp_reorder_slot *s = &r->slot[i];
        if (!held(r, i) || s->seq != r->next)
            return;
        mark(r, i, false);
        r->stored--;
        r->next++;
        r->emit(r->arg, s->data, s->len);
    }
}

/* Gives up on every gap: emits all held packets in order. */
static void release_all(struct rtsp_reorder *r)
{
    while (r->stored > 0) {
        uint16_t skip = 1;
        while (skip < r->slots) {
            unsigned i = (uint16_t)(r->next + skip) & (r->slots - 1);
            if (held(r, i) && r->slot[i].seq == (uint16_t)(r->next + skip))
                break;
            skip++;
        }
        if (skip == r->slots) {
            /* Unreachable while slots only hold seqs within the window; stay safe. */
            rtsp_reorder_reset(r);
            return;
        }
        r->lost += skip;
        r->next = (uint16_t)(r->next + skip);
        drain(r);
    }
}

/* Doubles the slots in use until number next + d has one (at most slots_max): each held packet
 * moves to the slot of its number's new low bits, one that was never in use before. */
static void grow(struct rtsp_reorder *r, int d)
{
    unsigned old = r->slots;
    while (r->slots <= (unsigned)d && r->slots < r->slots_max)
        r->slots *= 2;
    for (unsigned i = 0; i < old; i++) {
        unsigned j = r->slot[i].seq & (r->slots - 1);
        if (!held(r, i) || j == i)
            continue;
        mark(r, i, false);
        mark(r, j, true);
        r->slot[j].seq = r->slot[i].seq;
        r->slot[j].len = r->slot[i].len;
        memcpy(r->slot[j].data, r->slot[i].data, r->slot[i].len);
    }
    r->grown++;
}

void rtsp_reorder_push(struct rtsp_reorder *r, const uint8_t *pkt, size_t len, uint64_t now_ns)
{
    uint16_t seq = (uint16_t)(pkt[2] << 8 | pkt[3]);
    if (!r->started) {
        r->started = true;
        r->next = seq;
    }
    int16_t d = (int16_t)(uint16_t)(seq - r->next);
    if (d < 0 && d > -RTP_SEQ_RESYNC_BACK) {
        r->late++;
        return;
    }
    /* The slots in use are full of what followed a gap still in its window: the stream is
     * faster than they hold in the window (a jump past them, most numbers between missing,
     * is a loss instead). */
    if (d >= (int)r->slots && r->slots < r->slots_max && r->stored >= r->slots / 2 &&
        now_ns < r->waiting_since + r->window_ns)
        grow(r, d);
    if (d < 0 || d >= (int)r->slots) {
        /* Too far ahead to hold, or a restarted sender: flush and follow the new numbers. */
        release_all(r);
        if (d > 0)
            r->lost += (uint16_t)(seq - r->next);
        r->next = seq;
        d = 0;
    }
    if (d == 0) {
        r->next++;
        r->emit(r->arg, pkt, len);
        drain(r);
        if (r->stored > 0)
            r->waiting_since = now_ns; /* a later gap: give it its own window */
        return;
    }
    unsigned i = seq & (r->slots - 1);
    struct rtsp_reorder_slot *s = &r->slot[i];
    if (held(r, i) && s->seq == seq) {
        r->late++; /* duplicate */
        return;
    }
    if (len > RTSP_REORDER_PKT_MAX) {
        r->oversize++;
        return;
    }
    if (r->stored == 0)
        r->waiting_since = now_ns;
    mark(r, i, true);
    s->seq = seq;
    s->len = (uint16_t)len;
    memcpy(s->data, pkt, len);
    r->stored++;
}

uint64_t rtsp_reorder_deadline(const struct rtsp_reorder *r)
{
    return r->stored ? r->waiting_since + r->window_ns : 0;
}

void rtsp_reorder_expire(struct rtsp_reorder *r, uint64_t now_ns)
{
    if (r->stored && now_ns >= r->waiting_since + r->window_ns)
        release_all(r);
}
