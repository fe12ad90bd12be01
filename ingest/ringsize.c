/* SPDX-License-Identifier: MIT */
/* ringsize.c: ring sizing decisions (see ringsize.h): a ring holds the latest GOP and the
 * NACK window behind it, grows when it would not, and never shrinks while the ingest runs. */
#include "ingest/ringsize.h"

uint64_t ringsize_from_ns(uint64_t now, unsigned hold_s, uint64_t key_ns)
{
    uint64_t back = hold_s ? (uint64_t)hold_s * 1000000000ull : RINGSIZE_HOLD_NS;
    if (!hold_s && key_ns)
        return key_ns > RINGSIZE_NACK_NS ? key_ns - RINGSIZE_NACK_NS : 0;
    return now > back ? now - back : 0;
}

static uint64_t pow2_at_least(uint64_t v)
{
    uint64_t p = 1;
    while (p < v)
        p <<= 1;
    return p;
}

bool ringsize_plan(const struct ringsize *cur, const struct ring_usage *u, size_t len,
                   uint64_t max_data, struct ringsize *next)
{
    /* The frame itself, and the tail the byte ring may skip to keep it contiguous. */
    uint64_t need_data = u->bytes + 2 * (uint64_t)len;
    uint64_t need_slots = u->frames + 1;
    if (4 * (uint64_t)len > need_data)
        need_data = 4 * (uint64_t)len; /* the ring's frame limit is a quarter of its bytes */
    if (!u->lost && need_data <= cur->data && need_slots <= cur->slots)
        return false;
    uint64_t data = pow2_at_least(need_data + need_data / 4);
    uint64_t slots = pow2_at_least(need_slots + need_slots / 4);
    if (u->lost) {
        /* What is needed is already overwritten: its size is unknown, only more than this. */
        data = data > 2 * cur->data ? data : 2 * cur->data;
        slots = slots > 2 * (uint64_t)cur->slots ? slots : 2 * (uint64_t)cur->slots;
    }
    data = data < cur->data ? cur->data : data > max_data ? max_data : data;
    slots = slots < cur->slots           ? cur->slots
            : slots > RINGSIZE_MAX_SLOTS ? RINGSIZE_MAX_SLOTS
                                         : slots;
    if (data <= cur->data && slots <= cur->slots)
        return false;
    next->data = data > cur->data ? data : cur->data;
    next->slots = (uint32_t)(slots > cur->slots ? slots : cur->slots);
    return true;
}
