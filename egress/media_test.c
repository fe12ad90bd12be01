/* SPDX-License-Identifier: MIT */
/* media_test.c: the test seam of media_test.h over the worker's internal state, and the
 * synthetic H.264 feed. */
#include "egress/media_test.h"

#include <errno.h>

#include <string.h>

#include "egress/media_priv.h"

void media_test_knobs_get(const struct media_worker *w, struct media_test_knobs *k)
{
    *k = (struct media_test_knobs){
        .ring_stale_ns = w->ring_stale_ns, .wakeup_pkts = w->wakeup_pkts, .gso = w->gso};
}

void media_test_knobs_set(struct media_worker *w, const struct media_test_knobs *k)
{
    w->ring_stale_ns = k->ring_stale_ns;
    w->wakeup_pkts = k->wakeup_pkts;
    w->gso = k->gso;
}

bool media_test_send_run(struct media_worker *w)
{
    return media_send_run(w);
}

static void media_test_path_fill(const struct media_path *p, struct media_test_path *out)
{
    *out = (struct media_test_path){.r = p->r,
                                    .next_frame = p->next_frame,
                                    .has_pending = p->has_pending,
                                    .rtx_rate = p->rtx_rate,
                                    .watched = p->watched};
    memcpy(out->codec, p->codec, sizeof(out->codec));
}

void media_test_path_of(const struct media_viewer *v, struct media_test_path *out)
{
    media_test_path_fill(v->path, out);
}

int media_test_path_named(const struct media_worker *w, const char *name,
                          struct media_test_path *out)
{
    for (unsigned i = 0; i < w->n_paths; i++)
        if (strcmp(w->paths[i]->name, name) == 0) {
            media_test_path_fill(w->paths[i], out);
            return 0;
        }
    return -ENOENT;
}

uint64_t media_test_batches(const struct media_worker *w)
{
    return w->batches;
}

const uint8_t media_test_h264_params[37] = {
    0,    0,    0,    1,    0x67, 0x42, 0xc0, 0x1f, 0xd9, 0x00, 0x50, 0x05, 0xbb,
    0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x03, 0x03, 0xc0, 0xf1,
    0x83, 0x24, 0x80, 0,    0,    0,    1,    0x68, 0xcb, 0x8c, 0xb2};

size_t media_test_frame(uint8_t *out, bool key, size_t body, unsigned seed)
{
    size_t n = 0;
    if (key) {
        memcpy(out, media_test_h264_params, sizeof(media_test_h264_params));
        n = sizeof(media_test_h264_params);
    }
    memcpy(out + n, "\0\0\0\1", 4);
    n += 4;
    out[n++] = key ? 0x65 : 0x41;
    for (size_t i = 0; i < body; i++)
        out[n++] = (uint8_t)((i * 31 + seed * 7) % 251 + 1);
    return n;
}
