/* SPDX-License-Identifier: MIT */
/* doorbell.h: cross-process wake-ups on a 32-bit word in shared memory. The writer bumps
 * the word and futex-wakes (shared futex); a reader process runs one waiter thread that
 * turns each change into a uv_async on its loop. No polling timers. */
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

struct doorbell_waiter;

/* Starts a thread that waits on *word and calls cb(arg) on loop's thread after each change
 * (several rings may coalesce into one call; rings during cb cause one more call). The word
 * must outlive the waiter and be mapped writable: the waiter sets its top bit to sleep. */
int doorbell_waiter_start(struct doorbell_waiter **out, uv_loop_t *loop, _Atomic uint32_t *word,
                          void (*cb)(void *arg), void *arg);
/* Stops and joins the thread; the async handle is closed and freed by the loop. Call on the
 * loop's thread; tolerates NULL. */
void doorbell_waiter_stop(struct doorbell_waiter *w);

#endif
