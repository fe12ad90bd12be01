/* SPDX-License-Identifier: MIT */
/* doorbell.c: the futex doorbell. The low 31 bits of the word count rings; the top bit says
 * that some waiter sleeps on it, so ringing costs one compare-and-swap, plus one shared
 * FUTEX_WAKE only when somebody sleeps. A waiter is a thread that forwards each change to
 * its libuv loop through a uv_async and re-arms only after the loop ran the callback: a
 * busy or slow reader therefore never makes the writer pay for wake-ups. */
#include "shm/doorbell.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define DOORBELL_SLEEPERS 0x80000000u

struct doorbell_waiter {
    uv_async_t async; /* first: the close callback frees the whole struct through it */
    _Atomic uint32_t *word;
    void (*cb)(void *arg);
    void *arg;
    _Atomic uint32_t seen;    /* ring count last delivered; see doorbell_async_cb */
    _Atomic uint32_t pending; /* 1 from uv_async_send until the loop runs the callback */
    pthread_t thread;
    _Atomic bool stop;
    _Atomic bool exited;
};

static long doorbell_futex(_Atomic uint32_t *word, int op, uint32_t val)
{
    return syscall(SYS_futex, (uint32_t *)word, op, val, NULL, NULL, 0);
}

void doorbell_ring(_Atomic uint32_t *word)
{
    uint32_t old = atomic_load_explicit(word, memory_order_relaxed), next;
    do {
        next = (old + 1) & ~DOORBELL_SLEEPERS;
    } while (!atomic_compare_exchange_weak_explicit(word, &old, next, memory_order_release,
                                                    memory_order_relaxed));
    /* Shared, not FUTEX_PRIVATE: the waiters are other processes mapping the same word. */
    if (old & DOORBELL_SLEEPERS)
        (void)doorbell_futex(word, FUTEX_WAKE, INT_MAX);
}

/* Blocks until the ring count differs from seen (or a stop wake-up). Setting the sleepers
 * bit and the ringer clearing it are both read-modify-writes of the word, so either the
 * ringer sees the bit and wakes us, or FUTEX_WAIT sees a changed word and returns. */
static void doorbell_sleep(struct doorbell_waiter *w, uint32_t seen)
{
    uint32_t v = atomic_load_explicit(w->word, memory_order_acquire);
    while ((v & ~DOORBELL_SLEEPERS) == seen && !atomic_load(&w->stop)) {
        if (!(v & DOORBELL_SLEEPERS) &&
            !atomic_compare_exchange_weak_explicit(w->word, &v, v | DOORBELL_SLEEPERS,
                                                   memory_order_acq_rel, memory_order_acquire))
            continue;
        (void)doorbell_futex(w->word, FUTEX_WAIT, v | DOORBELL_SLEEPERS);
        v = atomic_load_explicit(w->word, memory_order_acquire);
    }
}

static void *doorbell_thread(void *p)
{
    struct doorbell_waiter *w = p;
    while (!atomic_load_explicit(&w->stop, memory_order_acquire)) {
        uint32_t seen = atomic_load_explicit(&w->seen, memory_order_relaxed);
        doorbell_sleep(w, seen);
        uint32_t now = atomic_load_explicit(w->word, memory_order_acquire) & ~DOORBELL_SLEEPERS;
        if (now == seen)
            continue;
        atomic_store_explicit(&w->seen, now, memory_order_relaxed);
        atomic_store_explicit(&w->pending, 1, memory_order_release);
        (void)uv_async_send(&w->async);
        while (atomic_load_explicit(&w->pending, memory_order_acquire) &&
               !atomic_load_explicit(&w->stop, memory_order_acquire))
            (void)doorbell_futex(&w->pending, FUTEX_WAIT_PRIVATE, 1);
    }
    atomic_store_explicit(&w->exited, true, memory_order_release);
    return NULL;
}

static void doorbell_async_cb(uv_async_t *a)
{
    struct doorbell_waiter *w = (struct doorbell_waiter *)a;
    /* Re-arm before the callback, from the count the callback is about to see: rings up
     * to here are handled by this call, later ones by a further call. The thread reads
     * seen again only after it sees pending drop (release/acquire). */
    uint32_t now = atomic_load_explicit(w->word, memory_order_acquire) & ~DOORBELL_SLEEPERS;
    atomic_store_explicit(&w->seen, now, memory_order_relaxed);
    atomic_store_explicit(&w->pending, 0, memory_order_release);
    (void)doorbell_futex(&w->pending, FUTEX_WAKE_PRIVATE, 1);
    w->cb(w->arg);
}

static void doorbell_close_cb(uv_handle_t *h)
{
    free(h);
}

int doorbell_waiter_start(struct doorbell_waiter **out, uv_loop_t *loop, _Atomic uint32_t *word,
                          void (*cb)(void *arg), void *arg)
{
    *out = NULL;
    struct doorbell_waiter *w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    w->word = word;
    w->cb = cb;
    w->arg = arg;
    /* Sampled here, not in the thread: a ring between start and the thread's first wait
     * must still be delivered. */
    atomic_init(&w->seen, atomic_load_explicit(word, memory_order_acquire) & ~DOORBELL_SLEEPERS);
    int e = uv_async_init(loop, &w->async, doorbell_async_cb);
    if (e < 0) {
        free(w);
        return e;
    }
    e = pthread_create(&w->thread, NULL, doorbell_thread, w);
    if (e != 0) {
        uv_close((uv_handle_t *)&w->async, doorbell_close_cb);
        return -e;
    }
    *out = w;
    return 0;
}

void doorbell_waiter_stop(struct doorbell_waiter *w)
{
    if (!w)
        return;
    atomic_store_explicit(&w->stop, true, memory_order_release);
    /* The thread may check stop just before it blocks, so one wake could be lost; keep
     * waking (without changing the word, so other waiters see no ring) until it is out. */
    const struct timespec pause = {0, 200000};
    while (!atomic_load_explicit(&w->exited, memory_order_acquire)) {
        (void)doorbell_futex(w->word, FUTEX_WAKE, INT_MAX);
        (void)doorbell_futex(&w->pending, FUTEX_WAKE_PRIVATE, 1);
        nanosleep(&pause, NULL);
    }
    pthread_join(w->thread, NULL);
    uv_close((uv_handle_t *)&w->async, doorbell_close_cb);
}
