/* SPDX-License-Identifier: MIT */
/* fuzz_ring.c: a ring reader attached to a hostile object. The input overlays a valid small
 * ring (header and track states, slots, track 0's descriptor) and may shrink or grow it; the
 * reader must refuse the object or serve only frames that lie inside its byte ring.
 * Input: [size byte][up to 512 header bytes][up to 256 slot bytes][up to 64 track bytes]. */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "shm/ring.h"

#define SLOTS      4
#define DATA       4096
#define TRACKS_OFF sizeof(struct ring_hdr)
#define SLOTS_OFF  (TRACKS_OFF + RING_MAX_TRACKS * sizeof(struct ring_track_desc))
#define OBJ_SIZE   (SLOTS_OFF + SLOTS * sizeof(struct ring_slot) + DATA)
#define OBJ_MAX    (OBJ_SIZE + 4 * 4096)

static uint8_t tmpl[OBJ_SIZE], obj[OBJ_MAX];
static char name[64];

/* A small ring with a few frames on two tracks, copied out once as the template. */
static void make_template(void)
{
    snprintf(name, sizeof(name), "rcf-fuzz-ring-%d", (int)getpid());
    struct ring_writer_opts o = {.slot_count = SLOTS, .data_size = DATA, .mtu = 1200};
    struct ring_writer *w;
    char err[256];
    if (ring_writer_open(&w, name, &o, err, sizeof(err)) < 0)
        abort();
    struct ring_track v = {.codec = RING_CODEC_H264, .clock_rate = 90000, .channels = 1};
    struct ring_track a = {.codec = RING_CODEC_OPUS, .clock_rate = 48000, .channels = 2};
    ring_writer_set_track(w, 0, &v);
    ring_writer_set_track(w, 1, &a);
    static const uint8_t bytes[900];
    ring_writer_write(w, 0, RING_FRAME_KEY, 0, 3, bytes, 900);
    ring_writer_write(w, 1, 0, 0, 1, bytes, 100);
    ring_writer_write(w, 0, 0, 3000, 2, bytes, 700);
    char shm[80];
    snprintf(shm, sizeof(shm), "/%s", name);
    int fd = shm_open(shm, O_RDONLY, 0);
    if (fd < 0 || pread(fd, tmpl, sizeof(tmpl), 0) != (ssize_t)sizeof(tmpl))
        abort();
    close(fd);
    ring_writer_close(w, true);
}

static size_t overlay(size_t at, const uint8_t **p, size_t *len, size_t max)
{
    size_t n = *len < max ? *len : max;
    memcpy(obj + at, *p, n);
    *p += n;
    *len -= n;
    return n;
}

/* What the reader hands out must lie inside the byte ring the object declares. */
static void check_frame(const struct ring_frame *f, uint64_t data_size)
{
    if (f->track >= RING_MAX_TRACKS || f->len > data_size / 4 ||
        (f->data_pos & (data_size - 1)) + f->len > data_size)
        abort();
    volatile uint8_t sink = 0;
    for (uint32_t i = 0; i < f->len; i++)
        sink ^= f->data[i];
    (void)sink;
}

static void exercise(struct ring_reader *r, uint64_t data_size)
{
    struct ring_frame f;
    uint32_t idx;
    ring_reader_seek_keyframe(r, 0);
    for (int i = 0; i < 16; i++) {
        int got = ring_reader_next(r, &f);
        if (got == 1)
            check_frame(&f, data_size);
        else if (got == 0)
            break;
    }
    uint64_t head = ring_reader_head(r);
    for (uint64_t back = 0; back <= 6; back++)
        if (ring_reader_get(r, head - back, &f) == 1)
            check_frame(&f, data_size);
    for (unsigned t = 0; t <= RING_MAX_TRACKS; t++) {
        static struct ring_track tr;
        if (ring_reader_track(r, t, &tr, NULL) == 0 &&
            (tr.params_len > RING_PARAMS_MAX || tr.fmtp[RING_FMTP_MAX - 1] != '\0'))
            abort();
        for (uint16_t p = 0; p < 8; p++)
            if (ring_reader_find_packet(r, t, (uint16_t)(p * 0x2001), &f, &idx) == 1) {
                check_frame(&f, data_size);
                if (idx >= f.pkt_count)
                    abort();
            }
        (void)ring_reader_latest_keyframe(r, t);
    }
    (void)ring_reader_generation(r);
    (void)ring_reader_mtu(r);
    (void)ring_reader_heartbeat(r);
    ring_reader_request_keyframe(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!name[0])
        make_template();
    if (size < 1)
        return 0;
    size_t obj_size = OBJ_SIZE;
    if (data[0] & 0x80)
        obj_size = OBJ_SIZE + (size_t)(data[0] & 3) * 4096;
    else if (data[0] & 0x40)
        obj_size = (size_t)(data[0] & 0x3f) * (OBJ_SIZE / 64);
    data++;
    size--;
    memset(obj, 0, sizeof(obj));
    memcpy(obj, tmpl, sizeof(tmpl));
    overlay(0, &data, &size, 512);
    overlay(SLOTS_OFF, &data, &size, SLOTS * sizeof(struct ring_slot));
    overlay(TRACKS_OFF, &data, &size, 64);

    char shm[80];
    snprintf(shm, sizeof(shm), "/%s", name);
    int fd = shm_open(shm, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || ftruncate(fd, (off_t)obj_size) < 0 ||
        pwrite(fd, obj, obj_size, 0) != (ssize_t)obj_size)
        abort();
    close(fd);
    struct ring_reader *r = NULL;
    char err[256] = "";
    int rc = ring_reader_open(&r, name, err, sizeof(err));
    if (rc == 0) {
        uint64_t data_size;
        memcpy(&data_size, obj + offsetof(struct ring_hdr, data_size), sizeof(data_size));
        exercise(r, data_size);
        ring_reader_close(r);
    } else if (!strstr(err, name)) {
        abort(); /* every refusal names the ring */
    }
    shm_unlink(shm);
    return 0;
}
