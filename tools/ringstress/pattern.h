/* SPDX-License-Identifier: MIT */
/* pattern.h: the verifiable frame stream of ringstress. Everything about frame seq (its
 * length, keyframe flag, packet count and bytes) is a function of (seed, seq), so a reader
 * can check any frame it gets without talking to the writer. */
#ifndef RINGSTRESS_PATTERN_H
#define RINGSTRESS_PATTERN_H

#include <stdbool.h>
#include <stdint.h>

#define STRESS_KEY_INTERVAL 30
#define STRESS_MTU          1200
#define STRESS_TS_STEP      3000 /* 30 fps at 90 kHz */

struct stress_pattern {
    uint8_t *bytes; /* max_len + 64 KiB of pseudo-random bytes; a frame is a window of it */
    uint64_t seed;
    uint32_t max_len;
};

/* 0 or -ENOMEM. max_len >= 1. */
int stress_pattern_init(struct stress_pattern *p, uint64_t seed, uint32_t max_len);
void stress_pattern_free(struct stress_pattern *p);

/* Frame length, 1..max_len, log-uniform: exp(ln(max_len) * u) for a
 * uniform u, a mean of about max_len / ln(max_len) (16.8 KB for 200 KiB): a million frames
 * are 17 GB, which two shared cores write and verify in well under a minute. */
uint32_t stress_len(const struct stress_pattern *p, uint64_t seq);
static inline bool stress_is_key(uint64_t seq)
{
    return seq % STRESS_KEY_INTERVAL == 0;
}
static inline uint32_t stress_pkts(uint32_t len)
{
    return len / STRESS_MTU + 1;
}
/* Writes frame seq's stress_len bytes into out. */
void stress_fill(const struct stress_pattern *p, uint64_t seq, uint8_t *out);
/* True if data (len bytes) is exactly frame seq. */
bool stress_check(const struct stress_pattern *p, uint64_t seq, const uint8_t *data, uint32_t len);

#endif
