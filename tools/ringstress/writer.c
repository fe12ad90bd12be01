/* SPDX-License-Identifier: MIT */
/* writer.c: the ringstress writer: writes the pattern stream as fast as it can, continuing
 * the ring's sequence after a predecessor's death, and reports its rate. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "pattern.h"
#include "shm/ctl.h"
#include "shm/ring.h"
#include "stress.h"

static int stress_open(struct ring_writer **w, const struct stress_opts *o)
{
    struct ring_writer_opts wo = {
        .slot_count = o->slots, .data_size = o->data_size, .mtu = STRESS_MTU};
    char err[256];
    int e = ring_writer_open(w, o->name, &wo, err, sizeof(err));
    if (e < 0) {
        fprintf(stderr, "ringstress write: %s\n", err);
        return e;
    }
    struct ring_track t = {.codec = RING_CODEC_H264, .clock_rate = 90000, .channels = 1};
    return ring_writer_set_track(*w, 0, &t);
}

int stress_create(const struct stress_opts *o)
{
    struct ring_writer *w;
    int e = stress_open(&w, o);
    ring_writer_close(w, false);
    return e;
}

int stress_write(const struct stress_opts *o)
{
    struct stress_pattern p;
    struct ring_writer *w = NULL;
    int e = stress_pattern_init(&p, o->seed, o->max_len);
    uint8_t *buf = malloc(o->max_len);
    if (e < 0 || !buf || (e = stress_open(&w, o)) < 0)
        goto out;
    uint64_t first = ring_writer_next_seq(w), seq = first, bytes = 0;
    uint64_t t0 = ctl_now_ns();
    printf("writer gen=%u starts at seq %llu\n", ring_writer_generation(w),
           (unsigned long long)first);
    fflush(stdout);
    while ((!o->frames || seq - first < o->frames) && (!o->until || seq <= o->until)) {
        uint32_t len = stress_len(&p, seq);
        stress_fill(&p, seq, buf);
        uint32_t flags = stress_is_key(seq) ? RING_FRAME_KEY : 0;
        int64_t got = ring_writer_write(w, 0, flags, (uint32_t)((seq - first) * STRESS_TS_STEP),
                                        stress_pkts(len), buf, len);
        if (got != (int64_t)seq) {
            fprintf(stderr, "ringstress write: seq %llu written as %lld\n", (unsigned long long)seq,
                    (long long)got);
            e = -EPROTO;
            goto out;
        }
        bytes += len;
        seq++;
        if ((seq & 4095) == 0)
            ring_writer_heartbeat(w);
        if (o->progress && (seq - first) % o->progress == 0) {
            printf("progress %llu\n", (unsigned long long)(seq - 1));
            fflush(stdout);
        }
    }
    double s = (double)(ctl_now_ns() - t0) / 1e9;
    printf("writer gen=%u: seq %llu..%llu frames=%llu seconds=%.3f fps=%.0f MBps=%.1f\n",
           ring_writer_generation(w), (unsigned long long)first, (unsigned long long)(seq - 1),
           (unsigned long long)(seq - first), s, (double)(seq - first) / s,
           (double)bytes / s / 1e6);
out:
    ring_writer_close(w, false);
    free(buf);
    stress_pattern_free(&p);
    return e;
}
