/* SPDX-License-Identifier: MIT */
/* file.c: the file: source. Maps an H.264 Annex-B file once to split it into access units,
 * keeps only their offsets, and reads each unit as it is due (pread into one buffer the size
 * of the largest), writing them to the pipeline forever at real-time pace from a uv timer,
 * with 90 kHz timestamps that keep counting across loops (so a loop looks like the next GOP);
 * a few frames per wake-up while nobody watches the path.
 * A clip of many megabytes, looped by a hundred paths, costs none of them its size. */
#include "ingest/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codec/codec.h"
#include "codec/h264.h"
#include "common/log.h"

#define FILE_DEFAULT_FPS  30
#define FILE_MAX_BYTES    (256u << 20)
#define FILE_CATCH_UP_MAX 8 /* frames per timer callback after a stall, then yield */

struct au_ref {
    uint32_t off, len;
};

struct file_source {
    struct source base;
    uv_loop_t *loop;
    struct ingest *ing;
    char name[64];
    char file[1024];
    int fd;
    const uint8_t *data; /* the file mapped, while it is split (file_source_create) */
    size_t len;
    uint8_t *buf; /* the unit being written, read from fd; as long as the largest */
    size_t buf_len;
    bool read_failed; /* logged once */
    struct au_ref *aus;
    size_t n_aus, cap_aus;
    uint32_t fps_num, fps_den;
    uint32_t batch;    /* frames per wake-up while nobody watches: INGEST_UNWATCHED_MS of them,
                          at most half a catch-up (so a batch is never taken for a stall) */
    uint64_t next;     /* frames written since start: drives timestamps and pacing */
    uint64_t start_ns; /* uv_hrtime() of frame 0 */
    uv_timer_t timer;
    void (*done)(void *arg);
    void *done_arg;
};

/* H.264 7.4.1.2.3: after the first VCL NAL of a unit, these start the next unit. */
static bool starts_new_au(const uint8_t *nal, size_t n)
{
    int t = nal[0] & 0x1f;
    if (t == 6 || t == 7 || t == 8 || t == 9 || (t >= 14 && t <= 18))
        return true;
    /* first_mb_in_slice is ue(v) first in the slice header: 0 is coded as a single 1 bit. */
    return (t == 1 || t == 5) && n >= 2 && (nal[1] & 0x80);
}

int file_h264_split(const uint8_t *p, size_t len,
                    void (*cb)(void *arg, const uint8_t *au, size_t au_len), void *arg)
{
    size_t pos = 0, n, au_start = 0, prev_end = 0;
    const uint8_t *nal;
    bool seen_vcl = false, any = false;
    int units = 0;
    while (codec_annexb_next(p, len, &pos, &nal, &n) == 1) {
        size_t off = (size_t)(nal - p);
        if (!any) {
            /* The unit starts at the start code, its leading zero included. */
            au_start = off - 3;
            if (au_start > 0 && p[au_start - 1] == 0)
                au_start--;
            any = true;
        } else if (seen_vcl && starts_new_au(nal, n)) {
            cb(arg, p + au_start, prev_end - au_start);
            units++;
            au_start = prev_end;
            seen_vcl = false;
        }
        int t = nal[0] & 0x1f;
        if (t >= 1 && t <= 5)
            seen_vcl = true;
        prev_end = off + n;
    }
    if (!any)
        return -EBADMSG;
    cb(arg, p + au_start, prev_end - au_start);
    return units + 1;
}

static void collect_au(void *arg, const uint8_t *au, size_t au_len)
{
    struct file_source *fs = arg;
    if (fs->n_aus == fs->cap_aus) {
        size_t cap = fs->cap_aus ? 2 * fs->cap_aus : 1024;
        struct au_ref *a = realloc(fs->aus, cap * sizeof(*a));
        if (!a)
            return; /* counted as missing by the caller */
        fs->aus = a;
        fs->cap_aus = cap;
    }
    fs->aus[fs->n_aus++] = (struct au_ref){(uint32_t)(au - fs->data), (uint32_t)au_len};
}

/* Opens and maps file for the split; the mapping goes once the units are known. */
static int map_whole(struct file_source *fs)
{
    fs->fd = open(fs->file, O_RDONLY | O_CLOEXEC);
    if (fs->fd < 0)
        return -errno;
    struct stat st;
    if (fstat(fs->fd, &st) < 0)
        return -errno;
    if (st.st_size <= 0 || (unsigned long long)st.st_size > FILE_MAX_BYTES)
        return st.st_size == 0 ? -ENODATA : -EFBIG;
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fs->fd, 0);
    if (p == MAP_FAILED)
        return -errno;
    fs->data = p;
    fs->len = (size_t)st.st_size;
    return 0;
}

static void unmap_whole(struct file_source *fs)
{
    if (fs->data)
        munmap((void *)fs->data, fs->len);
    fs->data = NULL;
}

/* Reads unit a into fs->buf. 0, or -errno (the file shrank or failed under us). */
static int read_unit(struct file_source *fs, const struct au_ref *a)
{
    ssize_t r = pread(fs->fd, fs->buf, a->len, a->off);
    if (r == (ssize_t)a->len)
        return 0;
    return r < 0 ? -errno : -EIO;
}

/* Frame rate: the configured one, else the first SPS's VUI timing, else 30. */
static void choose_fps(struct file_source *fs, unsigned configured)
{
    fs->fps_num = configured ? configured : FILE_DEFAULT_FPS;
    fs->fps_den = 1;
    if (configured)
        return;
    size_t pos = 0, n;
    const uint8_t *nal;
    while (codec_annexb_next(fs->data, fs->len, &pos, &nal, &n) == 1) {
        struct h264_sps sps;
        uint32_t num, den;
        if ((nal[0] & 0x1f) == 7 && h264_sps_parse(nal, n, &sps) == 0 &&
            h264_sps_fps(&sps, &num, &den) == 0 && num / den >= 1 && num / den <= 240) {
            fs->fps_num = num;
            fs->fps_den = den;
            return;
        }
    }
}

uint64_t file_frame_time(uint64_t i, uint64_t unit, uint32_t num, uint32_t den)
{
    return (uint64_t)((unsigned __int128)i * unit * den / num);
}

static uint64_t frame_due_ns(const struct file_source *fs, uint64_t i)
{
    return fs->start_ns + file_frame_time(i, 1000000000u, fs->fps_num, fs->fps_den);
}

static void on_timer(uv_timer_t *t)
{
    struct file_source *fs = t->data;
    uint64_t now = uv_hrtime();
    /* After a stall (a stopped process, an overloaded machine) the frames missed are not
     * written in a burst, which would lap every viewer: pacing restarts from now, and the
     * timestamps, which count frames, just continue (viewers see a pause). */
    if (frame_due_ns(fs, fs->next + FILE_CATCH_UP_MAX) < now)
        fs->start_ns = now - file_frame_time(fs->next, 1000000000u, fs->fps_num, fs->fps_den);
    for (int k = 0; k < FILE_CATCH_UP_MAX && frame_due_ns(fs, fs->next) <= now; k++) {
        const struct au_ref *a = &fs->aus[fs->next % fs->n_aus];
        uint32_t ts = (uint32_t)file_frame_time(fs->next, 90000, fs->fps_num, fs->fps_den);
        int e = read_unit(fs, a);
        /* Write failures are counted and logged by the pipeline; the loop goes on. */
        if (e == 0)
            (void)ingest_au(fs->ing, 0, ts, fs->buf, a->len);
        else if (!fs->read_failed) {
            fs->read_failed = true;
            log_warn("%s: reading a unit at byte %u: %s (skipping what cannot be read)", fs->file,
                     a->off, strerror(-e));
        }
        fs->next++;
    }
    uint64_t due = frame_due_ns(fs, fs->next + (ingest_watched(fs->ing) ? 0 : fs->batch - 1));
    uint64_t wait_ms = due > now ? (due - now + 999999) / 1000000 : 0;
    (void)uv_timer_start(&fs->timer, on_timer, wait_ms, 0);
}

static int file_start(struct source *s)
{
    struct file_source *fs = (struct file_source *)s;
    ingest_restart(fs->ing);
    struct ingest_track_desc d = {.codec = RING_CODEC_H264, .clock_rate = 90000, .channels = 1};
    uint8_t params[RING_PARAMS_MAX];
    int n = read_unit(fs, &fs->aus[0]);
    if (n < 0)
        return n;
    n = codec_params_from_au(RING_CODEC_H264, fs->buf, fs->aus[0].len, params, sizeof(params));
    if (n > 0) {
        d.params = params;
        d.params_len = (size_t)n;
    }
    int e = ingest_add_track(fs->ing, &d);
    if (e < 0)
        return e;
    log_info("looping %s: %zu access units at %.3f fps", fs->file, fs->n_aus,
             (double)fs->fps_num / fs->fps_den);
    uint64_t batch = (uint64_t)INGEST_UNWATCHED_MS * fs->fps_num / fs->fps_den / 1000u;
    fs->batch = batch < 1                       ? 1
                : batch > FILE_CATCH_UP_MAX / 2 ? FILE_CATCH_UP_MAX / 2
                                                : (uint32_t)batch;
    fs->start_ns = uv_hrtime();
    return uv_timer_start(&fs->timer, on_timer, 0, 0);
}

static void file_free(struct file_source *fs)
{
    unmap_whole(fs);
    if (fs->fd >= 0)
        close(fs->fd);
    free(fs->aus);
    free(fs->buf);
    free(fs);
}

static void on_closed(uv_handle_t *h)
{
    struct file_source *fs = h->data;
    void (*done)(void *) = fs->done;
    void *arg = fs->done_arg;
    file_free(fs);
    if (done)
        done(arg);
}

static void file_close(struct source *s, void (*done)(void *arg), void *arg)
{
    struct file_source *fs = (struct file_source *)s;
    fs->done = done;
    fs->done_arg = arg;
    (void)uv_timer_stop(&fs->timer);
    uv_close((uv_handle_t *)&fs->timer, on_closed);
}

static const struct source_ops file_ops = {
    .kind = "file",
    .start = file_start,
    .close = file_close,
};

int file_source_create(struct source **out, uv_loop_t *loop, struct ingest *ing,
                       const struct config_path *path)
{
    if (strncmp(path->source, "file:", 5) != 0)
        return -EINVAL;
    struct file_source *fs = calloc(1, sizeof(*fs));
    if (!fs)
        return -ENOMEM;
    fs->base.ops = &file_ops;
    fs->loop = loop;
    fs->ing = ing;
    snprintf(fs->name, sizeof(fs->name), "%s", path->name);
    snprintf(fs->file, sizeof(fs->file), "%s", path->source + 5);
    fs->fd = -1;
    int e = map_whole(fs);
    if (e == 0) {
        int units = file_h264_split(fs->data, fs->len, collect_au, fs);
        e = units < 0 ? units : (size_t)units != fs->n_aus ? -ENOMEM : 0;
    }
    for (size_t i = 0; e == 0 && i < fs->n_aus; i++)
        if (fs->aus[i].len > fs->buf_len)
            fs->buf_len = fs->aus[i].len;
    if (e == 0 && !(fs->buf = malloc(fs->buf_len)))
        e = -ENOMEM;
    if (e == 0)
        choose_fps(fs, path->fps);
    unmap_whole(fs); /* units are read as they are due from now on */
    if (e < 0) {
        file_free(fs);
        return e;
    }
    (void)uv_timer_init(loop, &fs->timer);
    fs->timer.data = fs;
    *out = &fs->base;
    return 0;
}
