/* SPDX-License-Identifier: MIT */
/* pattern.c: frame lengths and contents for ringstress, derived from (seed, seq). A frame is
 * a window of one random buffer at a seq-dependent offset with seq stamped into its first and
 * last 8 bytes: checking it is one memcmp, and a stale frame of another seq never passes. */
#include "pattern.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define STRESS_WINDOW (64u << 10)

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

int stress_pattern_init(struct stress_pattern *p, uint64_t seed, uint32_t max_len)
{
    size_t n = (size_t)max_len + STRESS_WINDOW + 8;
    p->bytes = malloc(n);
    if (!p->bytes)
        return -ENOMEM;
    p->seed = seed;
    p->max_len = max_len;
    uint64_t x = seed;
    for (size_t i = 0; i < n; i += 8) {
        x = splitmix64(x);
        memcpy(p->bytes + i, &x, n - i < 8 ? n - i : 8);
    }
    return 0;
}

void stress_pattern_free(struct stress_pattern *p)
{
    free(p->bytes);
    p->bytes = NULL;
}

uint32_t stress_len(const struct stress_pattern *p, uint64_t seq)
{
    double u = (double)(splitmix64(p->seed ^ (seq * 2 + 1)) >> 11) / (double)(1ull << 53);
    double len = exp(log((double)p->max_len) * u);
    if (len < 1)
        return 1;
    return len > p->max_len ? p->max_len : (uint32_t)len;
}

static uint32_t stress_offset(const struct stress_pattern *p, uint64_t seq)
{
    return (uint32_t)(splitmix64(p->seed ^ (seq * 2)) % STRESS_WINDOW);
}

static void xor_le(uint8_t *b, uint64_t v, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        b[i] ^= (uint8_t)(v >> (8 * i));
}

/* The seq stamp: first min(8, len) bytes XOR seq, last 8 bytes (len >= 16) XOR ~seq. */
static void stress_stamp(uint8_t *out, uint64_t seq, uint32_t len)
{
    xor_le(out, seq, len < 8 ? len : 8);
    if (len >= 16)
        xor_le(out + len - 8, ~seq, 8);
}

void stress_fill(const struct stress_pattern *p, uint64_t seq, uint8_t *out)
{
    uint32_t len = stress_len(p, seq);
    memcpy(out, p->bytes + stress_offset(p, seq), len);
    stress_stamp(out, seq, len);
}

bool stress_check(const struct stress_pattern *p, uint64_t seq, const uint8_t *data, uint32_t len)
{
    if (len != stress_len(p, seq))
        return false;
    if (len < 16) {
        uint8_t want[16];
        stress_fill(p, seq, want);
        return memcmp(data, want, len) == 0;
    }
    const uint8_t *want = p->bytes + stress_offset(p, seq);
    uint8_t head[8], tail[8];
    memcpy(head, data, 8);
    memcpy(tail, data + len - 8, 8);
    stress_stamp(head, seq, 8); /* XOR undoes the stamp */
    xor_le(tail, ~seq, 8);
    return memcmp(head, want, 8) == 0 && memcmp(tail, want + len - 8, 8) == 0 &&
           memcmp(data + 8, want + 8, len - 16) == 0;
}
