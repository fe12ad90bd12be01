/* SPDX-License-Identifier: MIT */
/* ringdump: prints a path's ring as JSON lines for tests and debugging: the ring header,
 * each declared track (codec, clock, fmtp, parameter sets in hex), then every frame still
 * in the ring from the oldest (sequence, track, flags, timestamps, packets, payload in hex).
 *   ringdump [--no-data] NAME        NAME is "<shm_prefix>.<path>" */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shm/ring.h"

static void put_hex(const uint8_t *p, size_t n)
{
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        putchar(hx[p[i] >> 4]);
        putchar(hx[p[i] & 15]);
    }
}

static void put_json_string(const char *s, size_t cap)
{
    putchar('"');
    for (size_t i = 0; i < cap && s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static void dump_tracks(const struct ring_reader *r)
{
    for (unsigned i = 0; i < RING_MAX_TRACKS; i++) {
        static struct ring_track t;
        if (ring_reader_track(r, i, &t, NULL) < 0 || t.codec == RING_CODEC_NONE)
            continue;
        printf("{\"track\":%u,\"codec\":%u,\"clock_rate\":%u,\"channels\":%u,\"fmtp\":", i, t.codec,
               t.clock_rate, t.channels);
        put_json_string(t.fmtp, sizeof(t.fmtp));
        printf(",\"params\":\"");
        put_hex(t.params, t.params_len < RING_PARAMS_MAX ? t.params_len : RING_PARAMS_MAX);
        printf("\"}\n");
    }
}

static unsigned dump_frames(const struct ring_reader *r, int with_data)
{
    uint64_t head = ring_reader_head(r);
    unsigned n = 0;
    for (uint64_t seq = head > RING_DEFAULT_SLOTS * 8u ? head - RING_DEFAULT_SLOTS * 8u : 1;
         seq < head; seq++) {
        struct ring_frame f;
        if (ring_reader_get(r, seq, &f) != 1)
            continue;
        printf("{\"seq\":%llu,\"track\":%u,\"flags\":%u,\"key\":%s,\"ts\":%u,\"arrival_ns\":%llu,"
               "\"first_pkt\":%llu,\"pkt_count\":%u,\"len\":%u",
               (unsigned long long)f.seq, f.track, f.flags,
               (f.flags & RING_FRAME_KEY) ? "true" : "false", f.rtp_ts,
               (unsigned long long)f.arrival_ns, (unsigned long long)f.first_pkt, f.pkt_count,
               f.len);
        if (with_data) {
            printf(",\"data\":\"");
            put_hex(f.data, f.len);
            putchar('"');
        }
        /* The writer may have overwritten the frame while we printed it. */
        printf(",\"valid\":%s}\n", ring_frame_still_valid(r, &f) ? "true" : "false");
        n++;
    }
    return n;
}

int main(int argc, char **argv)
{
    int with_data = 1;
    const char *name = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--no-data") == 0)
            with_data = 0;
        else if (argv[i][0] != '-' && !name)
            name = argv[i];
        else {
            fprintf(stderr, "usage: ringdump [--no-data] PREFIX.PATH\n");
            return 2;
        }
    }
    if (!name) {
        fprintf(stderr, "usage: ringdump [--no-data] PREFIX.PATH\n");
        return 2;
    }
    struct ring_reader *r;
    char err[256];
    int e = ring_reader_open(&r, name, err, sizeof(err));
    if (e < 0) {
        fprintf(stderr, "ringdump: /%s: %s\n", name, err);
        return 1;
    }
    printf("{\"ring\":");
    put_json_string(name, strlen(name));
    printf(",\"generation\":%u,\"head\":%llu,\"mtu\":%u}\n", ring_reader_generation(r),
           (unsigned long long)ring_reader_head(r), ring_reader_mtu(r));
    dump_tracks(r);
    unsigned n = dump_frames(r, with_data);
    fprintf(stderr, "ringdump: %u frames\n", n);
    ring_reader_close(r);
    return 0;
}
