/* SPDX-License-Identifier: MIT */
/* whip_nack.c: NACK retries for a WHIP publisher (see whip_nack.h). Pending sequence numbers
 * sit in slots indexed by their low bits, all within WHIP_NACK_SLOTS of q->low, so one pass
 * from q->low lists them in sequence order and the NACK packs them densely. Sequence
 * arithmetic is modulo 2^16 (RFC 3550 A.1). */
#include "ingest/whip_nack.h"

#include <string.h>

#define SLOT_MASK (WHIP_NACK_SLOTS - 1)

_Static_assert((WHIP_NACK_SLOTS & SLOT_MASK) == 0, "slots are a power of two");

void whip_nack_init(struct whip_nack *q, uint64_t window_ns, struct whip_nack_counts *n)
{
    memset(q, 0, sizeof(*q));
    q->n = n;
    q->window_ns = window_ns;
    q->rtt_ns = WHIP_NACK_RTT_NS;
}

static void whip_nack_drop(struct whip_nack *q, struct whip_nack_slot *s)
{
    s->used = false;
    q->pending--;
}

void whip_nack_reset(struct whip_nack *q)
{
    for (unsigned i = 0; i < WHIP_NACK_SLOTS && q->pending; i++)
        if (q->slot[i].used) {
            whip_nack_drop(q, &q->slot[i]);
            q->n->given_up++;
        }
}

/* Moves the window of pending numbers to start at low, giving up on those it leaves. */
static void whip_nack_slide(struct whip_nack *q, uint16_t low)
{
    for (unsigned i = 0; i < WHIP_NACK_SLOTS && q->pending; i++) {
        struct whip_nack_slot *s = &q->slot[i];
        if (s->used && (uint16_t)(s->seq - low) >= WHIP_NACK_SLOTS) {
            whip_nack_drop(q, s);
            q->n->given_up++;
        }
    }
    q->low = low;
}

void whip_nack_missing(struct whip_nack *q, uint16_t from, uint16_t to, uint64_t now_ns)
{
    for (uint16_t seq = from; seq != to; seq++) {
        struct whip_nack_slot *s = &q->slot[seq & SLOT_MASK];
        if (q->pending == 0)
            q->low = seq;
        else if ((int16_t)(uint16_t)(seq - q->low) < 0)
            whip_nack_slide(q, seq);
        else if ((uint16_t)(seq - q->low) >= WHIP_NACK_SLOTS)
            whip_nack_slide(q, (uint16_t)(seq - WHIP_NACK_SLOTS + 1));
        if (s->used) /* the same number found missing twice */
            continue;
        *s = (struct whip_nack_slot){.used = true, .seq = seq, .first_ns = now_ns};
        q->pending++;
    }
}

void whip_nack_received(struct whip_nack *q, uint16_t seq, uint64_t now_ns)
{
    struct whip_nack_slot *s = &q->slot[seq & SLOT_MASK];
    if (!q->pending || !s->used || s->seq != seq)
        return;
    if (s->tries > 0)
        q->n->recovered++;
    /* Karn: only an answer to a single request says which request it answers. */
    if (s->tries == 1 && now_ns > s->sent_ns)
        q->rtt_ns = (7 * q->rtt_ns + (now_ns - s->sent_ns)) / 8;
    whip_nack_drop(q, s);
}

size_t whip_nack_due(struct whip_nack *q, uint64_t now_ns, uint16_t *out, size_t max)
{
    uint64_t gap = q->rtt_ns + q->rtt_ns / 2;
    if (gap < WHIP_NACK_GAP_NS)
        gap = WHIP_NACK_GAP_NS;
    size_t n = 0;
    for (unsigned i = 0; i < WHIP_NACK_SLOTS && q->pending; i++) {
        uint16_t seq = (uint16_t)(q->low + i);
        struct whip_nack_slot *s = &q->slot[seq & SLOT_MASK];
        if (!s->used || s->seq != seq || (s->tries && now_ns - s->sent_ns < gap))
            continue; /* not pending, or its last request may still be answered */
        /* A copy asked for now would come after the reorder buffer moved on. */
        bool late = now_ns + q->rtt_ns > s->first_ns + q->window_ns;
        if (s->tries == WHIP_NACK_TRIES || (s->tries && late)) {
            whip_nack_drop(q, s);
            q->n->given_up++;
            continue;
        }
        if (n == max)
            continue;
        if (s->tries)
            q->n->retried++;
        else
            q->n->asked++;
        s->tries++;
        s->sent_ns = now_ns;
        out[n++] = seq;
    }
    return n;
}
