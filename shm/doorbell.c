/* SPDX-License-Identifier: MIT */
/* doorbell.c: the futex doorbell. The low 31 bits of the word count rings; the top bit says
 * that some waiter sleeps on it, so ringing costs one compare-and-swap, plus one shared
 * FUTEX_WAKE only when somebody sleeps. A set's thread waits on up to 127 words at once
 * (futex_waitv) and forwards changes to its libuv loop through one uv_async. It re-arms only
 * after the loop ran the callback, or, watching many rings, after a window: the reader is woken
 * once for all the rings rung meanwhile, and a busy or slow reader never makes the writers pay
 * for wake-ups. */
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
/* futex_waitv takes FUTEX_WAITV_MAX words: a shard's doorbells and its control word. */
#define DOORBELL_SHARD_WORDS (FUTEX_WAITV_MAX - 1)

/* One waiting thread and the words it watches. */
struct doorbell_shard {
    uv_async_t async; /* first: the close callback frees the whole struct through it */
    void (*cb)(void *arg);
    void *arg;
    uint64_t window_ns;
    pthread_t thread;
    /* Held by the thread while it reads or marks the words, by the loop while it changes the
     * list: a removed word is never touched again by the thread once removal returns. */
    pthread_mutex_t lock;
    _Atomic uint32_t *words[DOORBELL_SHARD_WORDS];
    uint32_t seen[DOORBELL_SHARD_WORDS]; /* ring count last forwarded to the loop, per word */
    unsigned n;
    _Atomic uint32_t changed; /* bumped and woken on every change of the list and on stop */
    _Atomic uint32_t pending; /* 1 from uv_async_send until the loop runs the callback */
    _Atomic bool stop;
};

struct doorbell_set {
    uv_loop_t *loop;
    void (*cb)(void *arg);
    void *arg;
    uint64_t window_ns;
    struct doorbell_shard **shards;
    unsigned n_shards;
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

static long doorbell_waitv(struct futex_waitv *wv, unsigned n)
{
    return syscall(SYS_futex_waitv, wv, n, 0, NULL, 0);
}

/* Under the lock: whether the thread forwards at most once a window instead of waiting for each
 * callback (many words, which ring more often than once a window). */
static bool doorbell_shard_windowed(const struct doorbell_shard *sh)
{
    return sh->window_ns && sh->n >= DOORBELL_COALESCE_MIN_WORDS;
}

/* Under the lock: whether a word was rung since it was last forwarded (a windowed shard, which
 * does not wait for the callback to re-read them, then takes every word's count as forwarded),
 * else marks every word as slept on and fills wv with the values to sleep on. Setting the sleepers
 * bit and a ringer clearing it are both read-modify-writes of the word, so either the ringer
 * sees the bit and wakes us, or futex_waitv sees a changed word and returns. */
static bool doorbell_shard_scan(struct doorbell_shard *sh, struct futex_waitv *wv, unsigned *n)
{
    bool rung = false;
    *n = 0;
    for (unsigned i = 0; i < sh->n; i++) {
        uint32_t v = atomic_load_explicit(sh->words[i], memory_order_acquire);
        while (doorbell_count(v) == sh->seen[i] && !(v & DOORBELL_SLEEPERS) &&
               !atomic_compare_exchange_weak_explicit(sh->words[i], &v, v | DOORBELL_SLEEPERS,
                                                      memory_order_acq_rel, memory_order_acquire))
            ;
        if (doorbell_count(v) != sh->seen[i]) {
            rung = true;
            break;
        }
        wv[(*n)++] = (struct futex_waitv){
            .val = v | DOORBELL_SLEEPERS, .uaddr = (uintptr_t)sh->words[i], .flags = FUTEX_32};
    }
    if (rung && doorbell_shard_windowed(sh)) /* the callback sees these counts or later ones */
        for (unsigned i = 0; i < sh->n; i++)
            sh->seen[i] = doorbell_count(atomic_load_explicit(sh->words[i], memory_order_acquire));
    return rung;
}

static void *doorbell_thread(void *p)
{
    struct doorbell_shard *sh = p;
    struct futex_waitv wv[FUTEX_WAITV_MAX];
    for (;;) {
        /* Read before stop: a stop after this read moves changed on, so futex_waitv below
         * returns at once instead of sleeping through it. */
        uint32_t changed = atomic_load_explicit(&sh->changed, memory_order_acquire);
        if (atomic_load_explicit(&sh->stop, memory_order_acquire))
            break;
        unsigned n;
        pthread_mutex_lock(&sh->lock);
        bool rung = doorbell_shard_scan(sh, wv, &n);
        bool windowed = doorbell_shard_windowed(sh);
        pthread_mutex_unlock(&sh->lock);
        if (rung && windowed) {
            /* Many words ring more often than once a window: the rings of the next window
             * wait for its end and come in one call, the first one after a quiet window at
             * once. No need to wait for the callback: a busy loop coalesces the calls. */
            (void)uv_async_send(&sh->async);
            struct timespec ts = {(time_t)(sh->window_ns / 1000000000u),
                                  (long)(sh->window_ns % 1000000000u)};
            nanosleep(&ts, NULL);
            continue;
        }
        if (rung) {
            atomic_store_explicit(&sh->pending, 1, memory_order_release);
            (void)uv_async_send(&sh->async);
            while (atomic_load_explicit(&sh->pending, memory_order_acquire) &&
                   !atomic_load_explicit(&sh->stop, memory_order_acquire))
                (void)doorbell_futex(&sh->pending, FUTEX_WAIT_PRIVATE, 1);
            continue;
        }
        /* The words are only read by the kernel from here: a word removed (and unmapped)
         * meanwhile makes futex_waitv fail or return at once (changed moved on). */
        wv[n++] = (struct futex_waitv){.val = changed,
                                       .uaddr = (uintptr_t)&sh->changed,
                                       .flags = FUTEX_32 | FUTEX_PRIVATE_FLAG};
        (void)doorbell_waitv(wv, n);
    }
    return NULL;
}

static void doorbell_async_cb(uv_async_t *a)
{
    struct doorbell_shard *sh = (struct doorbell_shard *)a;
    /* Re-arm before the callback, from the counts the callback is about to see: rings up to
     * here (also those after the thread's scan) are handled by this call, later ones by a
     * further call. */
    pthread_mutex_lock(&sh->lock);
    for (unsigned i = 0; i < sh->n; i++)
        sh->seen[i] = doorbell_count(atomic_load_explicit(sh->words[i], memory_order_acquire));
    pthread_mutex_unlock(&sh->lock);
    if (atomic_exchange_explicit(&sh->pending, 0, memory_order_acq_rel))
        (void)doorbell_futex(&sh->pending, FUTEX_WAKE_PRIVATE, 1);
    sh->cb(sh->arg);
}

static void doorbell_close_cb(uv_handle_t *h)
{
    struct doorbell_shard *sh = (struct doorbell_shard *)h;
    pthread_mutex_destroy(&sh->lock);
    free(sh);
}

/* Wakes the thread to re-read its list (or to see stop). */
static void doorbell_shard_poke(struct doorbell_shard *sh)
{
    atomic_fetch_add_explicit(&sh->changed, 1, memory_order_release);
    (void)doorbell_futex(&sh->changed, FUTEX_WAKE_PRIVATE, 1);
}

static void doorbell_shard_stop(struct doorbell_shard *sh)
{
    atomic_store_explicit(&sh->stop, true, memory_order_release);
    /* A thread about to wait for the loop finds nothing to wait for. */
    atomic_store_explicit(&sh->pending, 0, memory_order_release);
    (void)doorbell_futex(&sh->pending, FUTEX_WAKE_PRIVATE, 1);
    doorbell_shard_poke(sh);
    pthread_join(sh->thread, NULL);
    uv_close((uv_handle_t *)&sh->async, doorbell_close_cb);
}

static int doorbell_shard_new(struct doorbell_set *s, struct doorbell_shard **out)
{
    struct doorbell_shard *sh = calloc(1, sizeof(*sh));
    if (!sh)
        return -ENOMEM;
    sh->cb = s->cb;
    sh->arg = s->arg;
    sh->window_ns = s->window_ns;
    int e = pthread_mutex_init(&sh->lock, NULL);
    if (e != 0) {
        free(sh);
        return -e;
    }
    e = uv_async_init(s->loop, &sh->async, doorbell_async_cb);
    if (e < 0) {
        pthread_mutex_destroy(&sh->lock);
        free(sh);
        return e;
    }
    e = pthread_create(&sh->thread, NULL, doorbell_thread, sh);
    if (e != 0) {
        uv_close((uv_handle_t *)&sh->async, doorbell_close_cb);
        return -e;
    }
    *out = sh;
    return 0;
}

int doorbell_set_init(struct doorbell_set **out, uv_loop_t *loop, void (*cb)(void *arg), void *arg,
                      uint64_t window_ns)
{
    *out = calloc(1, sizeof(**out));
    if (!*out)
        return -ENOMEM;
    (*out)->loop = loop;
    (*out)->cb = cb;
    (*out)->arg = arg;
    (*out)->window_ns = window_ns;
    return 0;
}

int doorbell_set_add(struct doorbell_set *s, _Atomic uint32_t *word)
{
    struct doorbell_shard *sh = NULL;
    for (unsigned i = 0; i < s->n_shards && !sh; i++)
        if (s->shards[i]->n < DOORBELL_SHARD_WORDS)
            sh = s->shards[i];
    if (!sh) {
        struct doorbell_shard **grown = realloc(s->shards, (s->n_shards + 1) * sizeof(*s->shards));
        if (!grown)
            return -ENOMEM;
        s->shards = grown;
        int e = doorbell_shard_new(s, &sh);
        if (e < 0)
            return e;
        s->shards[s->n_shards++] = sh;
    }
    pthread_mutex_lock(&sh->lock);
    sh->words[sh->n] = word;
    /* Sampled here, not in the thread: a ring between now and its next scan is delivered. */
    sh->seen[sh->n++] = doorbell_count(atomic_load_explicit(word, memory_order_acquire));
    pthread_mutex_unlock(&sh->lock);
    doorbell_shard_poke(sh);
    return 0;
}

void doorbell_set_remove(struct doorbell_set *s, _Atomic uint32_t *word)
{
    for (unsigned i = 0; i < s->n_shards; i++) {
        struct doorbell_shard *sh = s->shards[i];
        pthread_mutex_lock(&sh->lock);
        for (unsigned k = 0; k < sh->n; k++)
            if (sh->words[k] == word) {
                sh->n--;
                sh->words[k] = sh->words[sh->n];
                sh->seen[k] = sh->seen[sh->n];
                pthread_mutex_unlock(&sh->lock);
                doorbell_shard_poke(sh);
                return;
            }
        pthread_mutex_unlock(&sh->lock);
    }
}

void doorbell_set_free(struct doorbell_set *s)
{
    if (!s)
        return;
    for (unsigned i = 0; i < s->n_shards; i++)
        doorbell_shard_stop(s->shards[i]);
    free(s->shards);
    free(s);
}
