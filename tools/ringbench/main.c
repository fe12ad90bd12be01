/* SPDX-License-Identifier: MIT */
/* ringbench: the ring part of `make bench`. Measures the writer's frames/s and MB/s with 0, 1
 * and 8 reader processes attached, and the doorbell-to-reader wake-up latency (p50/p99/max)
 * with 1 and 8 reader processes; each figure is the median of --runs runs.
 *   ringbench [--runs N] [--frames N] [--size BYTES] [--latency-frames N] [--interval-us US] */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "shm/ctl.h"
#include "shm/ring.h"

struct bench_opts {
    int runs;
    uint32_t frames, size, lat_frames, interval_us;
};

struct run_result {
    double fps, mbps, laps, p50_us, p99_us, max_us;
};

static char ring_name[64];
static struct bench_shared *shared;
static pid_t children[BENCH_MAX_READERS];

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Forks n readers on a fresh ring and waits (at most 10 s) until all are attached. */
static int bench_start(struct ring_writer **w, int n)
{
    struct ring_writer_opts o = {.slot_count = 8192, .data_size = 64u << 20, .mtu = 1200};
    char err[256];
    int e = ring_writer_open(w, ring_name, &o, err, sizeof(err));
    if (e < 0) {
        fprintf(stderr, "ringbench: %s\n", err);
        return e;
    }
    struct ring_track t = {.codec = RING_CODEC_H264, .clock_rate = 90000, .channels = 1};
    ring_writer_set_track(*w, 0, &t);
    memset(shared, 0, sizeof(*shared));
    fflush(NULL);
    for (int i = 0; i < n; i++) {
        children[i] = fork();
        if (children[i] < 0)
            return -errno;
        if (children[i] == 0)
            bench_reader_main(ring_name, shared, i);
    }
    uint64_t deadline = ctl_now_ns() + 10000000000ull;
    uint32_t ready;
    while ((ready = atomic_load(&shared->ready)) < (uint32_t)n) {
        if (ctl_now_ns() > deadline) {
            fprintf(stderr, "ringbench: only %u of %d readers attached\n", ready, n);
            return -ETIMEDOUT;
        }
        struct timespec to = {1, 0};
        syscall(SYS_futex, &shared->ready, FUTEX_WAIT, ready, &to, NULL, 0);
    }
    return 0;
}

/* Tells the readers to finish (one last frame wakes them), reaps them, removes the ring. */
static int bench_stop(struct ring_writer *w, int n)
{
    static const uint8_t last[1];
    atomic_store(&shared->stop, 1);
    if (w)
        ring_writer_write(w, 0, 0, 0, 1, last, sizeof(last));
    int bad = 0;
    for (int i = 0; i < n; i++) {
        int st;
        if (waitpid(children[i], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            bad = 1;
    }
    ring_writer_close(w, true);
    return bad ? -ECHILD : 0;
}

static int bench_throughput(const struct bench_opts *o, int n, struct run_result *res)
{
    struct ring_writer *w = NULL;
    uint8_t *buf = malloc(o->size);
    int e = buf ? bench_start(&w, n) : -ENOMEM;
    if (e == 0) {
        memset(buf, 0x5a, o->size);
        uint64_t t0 = ctl_now_ns();
        for (uint32_t i = 0; i < o->frames; i++)
            ring_writer_write(w, 0, i % 30 ? 0 : RING_FRAME_KEY, i * 3000, o->size / 1200 + 1, buf,
                              o->size);
        double s = (double)(ctl_now_ns() - t0) / 1e9;
        res->fps = o->frames / s;
        res->mbps = (double)o->frames * o->size / s / 1e6;
    }
    int e2 = bench_stop(w, n);
    res->laps = 0;
    for (int i = 0; i < n; i++)
        res->laps += (double)shared->r[i].laps;
    free(buf);
    return e ? e : e2;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int bench_latency(const struct bench_opts *o, int n, struct run_result *res)
{
    struct ring_writer *w = NULL;
    uint8_t buf[1024];
    memset(buf, 0xa5, sizeof(buf));
    int e = bench_start(&w, n);
    if (e == 0) {
        struct timespec next;
        clock_gettime(CLOCK_MONOTONIC, &next);
        for (uint32_t i = 0; i < o->lat_frames; i++) {
            /* Paced: each frame finds the readers asleep, as live video does. */
            next.tv_nsec += (long)o->interval_us * 1000;
            while (next.tv_nsec >= 1000000000L) {
                next.tv_nsec -= 1000000000L;
                next.tv_sec++;
            }
            clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
            ring_writer_write(w, 0, 0, i * 3000, 1, buf, sizeof(buf));
        }
    }
    int e2 = bench_stop(w, n);
    static uint32_t all[BENCH_MAX_READERS * BENCH_MAX_SAMPLES];
    size_t cnt = 0;
    for (int i = 0; i < n; i++) {
        memcpy(all + cnt, shared->r[i].lat_ns, shared->r[i].n_lat * sizeof(uint32_t));
        cnt += shared->r[i].n_lat;
    }
    if (cnt == 0)
        return e ? e : -EIO;
    qsort(all, cnt, sizeof(*all), cmp_u32);
    res->p50_us = all[cnt / 2] / 1e3;
    res->p99_us = all[cnt * 99 / 100] / 1e3;
    res->max_us = all[cnt - 1] / 1e3;
    return e ? e : e2;
}

/* Runs one configuration o->runs times and stores the median of each figure in *out. */
static int bench_median(const struct bench_opts *o, int n, bool latency, struct run_result *out)
{
    double v[6][16];
    int runs = o->runs;
    for (int r = 0; r < runs; r++) {
        struct run_result res = {0};
        int e = latency ? bench_latency(o, n, &res) : bench_throughput(o, n, &res);
        if (e < 0) {
            fprintf(stderr, "ringbench: run with %d readers failed: %s\n", n, strerror(-e));
            return e;
        }
        double f[6] = {res.fps, res.mbps, res.laps, res.p50_us, res.p99_us, res.max_us};
        for (int k = 0; k < 6; k++)
            v[k][r] = f[k];
    }
    out->fps = median(v[0], runs);
    out->mbps = median(v[1], runs);
    out->laps = median(v[2], runs);
    out->p50_us = median(v[3], runs);
    out->p99_us = median(v[4], runs);
    out->max_us = median(v[5], runs);
    return 0;
}

int main(int argc, char **argv)
{
    struct bench_opts o = {
        .runs = 5, .frames = 200000, .size = 8192, .lat_frames = 1000, .interval_us = 1000};
    static const struct option longopts[] = {
        {"runs", required_argument, NULL, 'r'},
        {"frames", required_argument, NULL, 'f'},
        {"size", required_argument, NULL, 's'},
        {"latency-frames", required_argument, NULL, 'l'},
        {"interval-us", required_argument, NULL, 'i'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        long v = strtol(optarg, NULL, 0);
        switch (c) {
        case 'r':
            o.runs = (int)v;
            break;
        case 'f':
            o.frames = (uint32_t)v;
            break;
        case 's':
            o.size = (uint32_t)v;
            break;
        case 'l':
            o.lat_frames = (uint32_t)v;
            break;
        case 'i':
            o.interval_us = (uint32_t)v;
            break;
        default:
            fprintf(stderr, "usage: ringbench [--runs N] [--frames N] [--size BYTES] "
                            "[--latency-frames N] [--interval-us US]\n");
            return 2;
        }
    }
    if (o.runs < 1 || o.runs > 16 || o.size < 1 || o.size > (1u << 20) ||
        o.lat_frames > BENCH_MAX_SAMPLES - 1 || o.interval_us < 1) {
        fprintf(stderr, "ringbench: runs 1..16, size 1..1 MiB, latency-frames < %d\n",
                BENCH_MAX_SAMPLES);
        return 2;
    }
    snprintf(ring_name, sizeof(ring_name), "rcb-ringbench-%d", (int)getpid());
    shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED)
        return 1;

    printf("ring write throughput: %u frames of %u bytes, median of %d runs\n", o.frames, o.size,
           o.runs);
    printf("  %-8s %12s %10s %12s\n", "readers", "frames/s", "MB/s", "reader laps");
    static const int tp_readers[] = {0, 1, 8};
    for (unsigned i = 0; i < 3; i++) {
        struct run_result m;
        if (bench_median(&o, tp_readers[i], false, &m) < 0)
            return 1;
        printf("  %-8d %12.0f %10.0f %12.0f\n", tp_readers[i], m.fps, m.mbps, m.laps);
        fflush(stdout);
    }
    printf("doorbell -> reader callback latency: %u frames of 1 KiB every %u us, median of %d "
           "runs\n",
           o.lat_frames, o.interval_us, o.runs);
    printf("  %-8s %10s %10s %10s\n", "readers", "p50 us", "p99 us", "max us");
    static const int lat_readers[] = {1, 8};
    for (unsigned i = 0; i < 2; i++) {
        struct run_result m;
        if (bench_median(&o, lat_readers[i], true, &m) < 0)
            return 1;
        printf("  %-8d %10.1f %10.1f %10.1f\n", lat_readers[i], m.p50_us, m.p99_us, m.max_us);
        fflush(stdout);
    }
    return 0;
}
