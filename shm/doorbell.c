/* doorbell.c: the futex doorbell. Ringing is one atomic increment and one shared FUTEX_WAKE;
 * a waiter is a thread blocked in FUTEX_WAIT on the last value it saw, which forwards each
 * change to its libuv loop through a uv_async (uv_async_send coalesces bursts). */
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

struct doorbell_waiter {
    uv_async_t async; /* first: the close callback frees the whole struct through it */
    _Atomic uint32_t *word;
    void (*cb)(void *arg);
    void *arg;
    uint32_t seen; /* the value the thread waits to change */
    pthread_t thread;
    _Atomic bool stop;
    _Atomic bool exited;
};

/* Shared (not FUTEX_PRIVATE) futexes: the word lives in a MAP_SHARED mapping and the
 * waiters are other processes. */
static long doorbell_futex(_Atomic uint32_t *word, int op, uint32_t val)
{
    return syscall(SYS_futex, (uint32_t *)word, op, val, NULL, NULL, 0);
}

void doorbell_ring(_Atomic uint32_t *word)
{
    atomic_fetch_add_explicit(word, 1, memory_order_release);
    (void)doorbell_futex(word, FUTEX_WAKE, INT_MAX);
}

static void *doorbell_thread(void *p)
{
    struct doorbell_waiter *w = p;
    uint32_t seen = w->seen;
    while (!atomic_load_explicit(&w->stop, memory_order_acquire)) {
        /* Returns at once (EAGAIN) if the word already moved past seen: no lost rings. */
        (void)doorbell_futex(w->word, FUTEX_WAIT, seen);
        uint32_t now = atomic_load_explicit(w->word, memory_order_acquire);
        if (now != seen) {
            seen = now;
            uv_async_send(&w->async);
        }
    }
    atomic_store_explicit(&w->exited, true, memory_order_release);
    return NULL;
}

static void doorbell_async_cb(uv_async_t *a)
{
    struct doorbell_waiter *w = (struct doorbell_waiter *)a;
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
    w->seen = atomic_load_explicit(word, memory_order_acquire);
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
        nanosleep(&pause, NULL);
    }
    pthread_join(w->thread, NULL);
    uv_close((uv_handle_t *)&w->async, doorbell_close_cb);
}
