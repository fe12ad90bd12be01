/* SPDX-License-Identifier: MIT */
/* doorbell.h: cross-process wake-ups on 32-bit words in shared memory. A writer bumps its word
 * and futex-wakes (shared futex); a reader process waits on a set of words with one thread per
 * 127 of them (futex_waitv) that turns changes into one uv_async on its loop. No polling. */
#ifndef RINGCAST_DOORBELL_H
#define RINGCAST_DOORBELL_H

#include <stdatomic.h>
#include <stdint.h>
#include <uv.h>

/* Increments *word and wakes every waiter in every process. Async-signal-safe. The ring
 * count is the low 31 bits; the top bit marks sleeping waiters, so ringing a doorbell nobody
 * sleeps on costs no system call. Compare counts with doorbell_count(). */
#define doorbell_count(v) ((v)&0x7fffffffu)
void doorbell_ring(_Atomic uint32_t *word);

struct doorbell_set;

/* A set of doorbells whose rings call cb(arg) on loop's thread. Rings of any words of the set
 * that come before the call coalesce into it (a reader that has many rings to serve is woken
 * once for all); a ring during cb causes one more call. window_ns > 0: a thread watching many
 * words (DOORBELL_COALESCE_MIN_WORDS) calls at most once a window: a ring after a quiet window
 * at once, the rings during a window together at its end (latency traded for wake-ups). Either
 * way rings while the reader is busy cost the writers no system call. Call everything on the
 * loop's thread. */
#define DOORBELL_COALESCE_MIN_WORDS 16
int doorbell_set_init(struct doorbell_set **out, uv_loop_t *loop, void (*cb)(void *arg), void *arg,
                      uint64_t window_ns);
/* Adds word (mapped writable, the waiter sets its top bit to sleep): rings from now on call
 * cb. 0 or -errno. */
int doorbell_set_add(struct doorbell_set *s, _Atomic uint32_t *word);
/* Removes word; once this returns the waiting thread no longer touches it: it may be unmapped. */
void doorbell_set_remove(struct doorbell_set *s, _Atomic uint32_t *word);
/* Stops and joins the threads; their async handles are closed and freed by the loop.
 * Tolerates NULL. */
void doorbell_set_free(struct doorbell_set *s);

#endif
