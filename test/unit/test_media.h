/* SPDX-License-Identifier: MIT */
/* test_media.h: the fixture test_media.c and test_send.c share: a ring writer filling a ring
 * with hand-made H.264 and Opus frames, a media worker sending to one viewer over a real
 * loopback UDP socket, and the viewer's side (libsrtp2 unprotect, depacketizing, RTCP it
 * sends: NACK, PLI, FIR). */
#ifndef RINGCAST_TEST_MEDIA_H
#define RINGCAST_TEST_MEDIA_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <re.h>
#include <srtp2/srtp.h>

#include "codec/depack.h"
#include "codec/pack.h"
#include "codec/rtcp.h"
#include "common/sockbuf.h"
#include "egress/media_test.h"

#define SLOTS 64
#define VPT   96
#define APT   111

/* A received packet as the viewer sees it after unprotect. */
struct rx_pkt {
    uint8_t b[1600];
    size_t len;
    struct depack_rtp h;
};

struct au {
    uint8_t *data;
    size_t len;
    uint32_t ts;
    bool key;
};

struct fx {
    char prefix[32];
    struct config cfg;
    struct ctl ctl;
    struct ctl_counters *cnt;
    uv_loop_t loop;
    int sfd, rfd;
    struct sockaddr_in raddr;
    struct ring_writer *wr;
    struct media_worker *w;
    struct media_viewer v;
    uint8_t keying[56];
    srtp_t srx, stx; /* the viewer's SRTP: unprotect ours, protect its RTCP */
    struct depack *dp;
    struct au aus[256];
    unsigned n_aus;
    uint64_t written[512]; /* ring sequence numbers of the frames written, in order */
    uint32_t frame_len[512];
    uint8_t *frames[512];
    unsigned n_written;
    uint32_t ts;
    unsigned counter;
};

static inline void on_au(void *arg, const struct depack_au *a)
{
    struct fx *f = arg;
    assert_true(f->n_aus < 256);
    struct au *o = &f->aus[f->n_aus++];
    o->data = malloc(a->len);
    memcpy(o->data, a->data, a->len);
    o->len = a->len;
    o->ts = a->ts;
    o->key = a->key;
}

static inline srtp_t viewer_srtp(const uint8_t *km, bool inbound)
{
    uint8_t key[28];
    memcpy(key, km + (inbound ? 16 : 0), 16);           /* server key / client key */
    memcpy(key + 16, km + 32 + (inbound ? 12 : 0), 12); /* server salt / client salt */
    srtp_policy_t p;
    memset(&p, 0, sizeof(p));
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtp);
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtcp);
    p.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
    p.key = key;
    p.window_size = 1024;
    srtp_t s = NULL;
    assert_int_equal(srtp_create(&s, &p), srtp_err_status_ok);
    return s;
}

static inline int udp_socket(struct sockaddr_in *a)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    assert_true(fd >= 0);
    memset(a, 0, sizeof(*a));
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)a, sizeof(*a)), 0);
    socklen_t l = sizeof(*a);
    assert_int_equal(getsockname(fd, (struct sockaddr *)a, &l), 0);
    assert_true(sockbuf_set_rcv(fd, 8 << 20) > 0);
    return fd;
}

/* The worker's state of the path the viewer watches. */
static inline struct media_test_path path_of(struct fx *f)
{
    struct media_test_path p;
    media_test_path_of(&f->v, &p);
    return p;
}

static inline void set_gso(struct fx *f, bool on)
{
    struct media_test_knobs k;
    media_test_knobs_get(f->w, &k);
    k.gso = on;
    media_test_knobs_set(f->w, &k);
}

static inline uint64_t write_video(struct fx *f, bool key, size_t body)
{
    uint8_t *buf = malloc(body + 64);
    size_t n = media_test_frame(buf, key, body, f->counter++);
    int pk = pack_count(RING_CODEC_H264, buf, n, 1200);
    assert_true(pk > 0);
    int64_t seq =
        ring_writer_write(f->wr, 0, key ? RING_FRAME_KEY : 0, f->ts, (uint32_t)pk, buf, n);
    assert_true(seq > 0);
    f->ts += 3000;
    assert_true(f->n_written < 512);
    f->written[f->n_written] = (uint64_t)seq;
    f->frame_len[f->n_written] = (uint32_t)n;
    f->frames[f->n_written++] = buf;
    return (uint64_t)seq;
}

static inline void write_audio(struct fx *f)
{
    uint8_t opus[80];
    memset(opus, 0x5a, sizeof(opus));
    assert_true(
        ring_writer_write(f->wr, 1, RING_FRAME_KEY, f->ts / 90 * 48, 1, opus, sizeof(opus)) > 0);
}

static inline int setup(void **state)
{
    static unsigned n;
    struct fx *f = calloc(1, sizeof(*f));
    snprintf(f->prefix, sizeof(f->prefix), "rctm-%d-%u", (int)getpid(), n++);
    config_defaults(&f->cfg);
    snprintf(f->cfg.shm_prefix, sizeof(f->cfg.shm_prefix), "%s", f->prefix);
    assert_int_equal(ctl_init_private(&f->ctl), 0);
    f->cnt = &ctl_slot(&f->ctl, 0)->counters;
    assert_int_equal(uv_loop_init(&f->loop), 0);
    /* The worker's socket is bound to every address, as whep binds it; media must leave from
     * the viewer's local_addr (127.0.0.2 here), not the kernel's choice (127.0.0.1). */
    f->sfd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in any = {.sin_family = AF_INET};
    assert_int_equal(bind(f->sfd, (struct sockaddr *)&any, sizeof(any)), 0);
    f->rfd = udp_socket(&f->raddr);

    assert_int_equal(media_worker_init(&f->w, &f->loop, &f->cfg, &f->ctl, f->cnt, f->sfd), 0);
    for (size_t i = 0; i < sizeof(f->keying); i++)
        f->keying[i] = (uint8_t)(i * 13 + 1);
    f->srx = viewer_srtp(f->keying, true);
    f->stx = viewer_srtp(f->keying, false);
    assert_int_equal(depack_create(&f->dp, RING_CODEC_H264, 1 << 20, on_au, f), 0);
    /* The shm object last: cmocka skips teardown when setup fails. */
    char name[96], err[128];
    snprintf(name, sizeof(name), "%s.cam", f->prefix);
    struct ring_writer_opts o = {.slot_count = SLOTS, .data_size = 1 << 20, .mtu = 1200};
    assert_int_equal(ring_writer_open(&f->wr, name, &o, err, sizeof(err)), 0);
    struct ring_track t = {.codec = RING_CODEC_H264, .clock_rate = 90000, .channels = 1};
    memcpy(t.params, media_test_h264_params, sizeof(media_test_h264_params));
    t.params_len = sizeof(media_test_h264_params);
    assert_int_equal(ring_writer_set_track(f->wr, 0, &t), 0);
    struct ring_track a = {.codec = RING_CODEC_OPUS, .clock_rate = 48000, .channels = 2};
    assert_int_equal(ring_writer_set_track(f->wr, 1, &a), 0);
    f->ts = 1000;
    *state = f;
    return 0;
}

static inline int teardown(void **state)
{
    struct fx *f = *state;
    media_viewer_stop(f->w, &f->v);
    media_worker_free(f->w);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    ring_writer_close(f->wr, true);
    ctl_free(&f->ctl);
    close(f->sfd);
    close(f->rfd);
    srtp_dealloc(f->srx);
    srtp_dealloc(f->stx);
    depack_free(f->dp);
    for (unsigned i = 0; i < f->n_aus; i++)
        free(f->aus[i].data);
    for (unsigned i = 0; i < f->n_written; i++)
        free(f->frames[i]);
    free(f);
    return 0;
}

static inline void start_viewer(struct fx *f, bool audio)
{
    media_viewer_init(&f->v);
    struct media_viewer_params p = {
        .path = "cam",
        .remote = (struct sockaddr *)&f->raddr,
        .remote_len = sizeof(f->raddr),
        .local_addr = htonl(0x7f000002),
        .srtp_profile = ESRTP_AEAD_AES_128_GCM,
        .keying = f->keying,
        .keying_len = sizeof(f->keying),
    };
    p.tracks[0] =
        (struct media_track_params){.flags = MEDIA_TRACK_SEND | MEDIA_TRACK_NACK | MEDIA_TRACK_PLI,
                                    .pt = VPT,
                                    .playout_delay_id = 6,
                                    .mid_id = 4,
                                    .mid = "0"};
    if (audio)
        p.tracks[1] = (struct media_track_params){.flags = MEDIA_TRACK_SEND, .pt = APT};
    assert_int_equal(media_viewer_start(f->w, &f->v, &p), 0);
    assert_int_equal(ctl_read(&f->cnt->viewers), 1);
}

/* Reads every datagram waiting (loopback delivers during sendmmsg: no waiting needed).
 * RTP is unprotected and returned in out; RTCP is skipped. */
/* Another viewer at the same address as f->v, taking only track (payload type pt). */
static inline void start_other_viewer(struct fx *f, struct media_viewer *v, unsigned track,
                                      uint8_t pt)
{
    media_viewer_init(v);
    struct media_viewer_params p = {.path = "cam",
                                    .remote = (struct sockaddr *)&f->raddr,
                                    .remote_len = sizeof(f->raddr),
                                    .local_addr = htonl(0x7f000002),
                                    .srtp_profile = ESRTP_AEAD_AES_128_GCM,
                                    .keying = f->keying,
                                    .keying_len = sizeof(f->keying)};
    p.tracks[track] = (struct media_track_params){.flags = MEDIA_TRACK_SEND, .pt = pt};
    assert_int_equal(media_viewer_start(f->w, v, &p), 0);
}

static inline unsigned drain(struct fx *f, struct rx_pkt *out, unsigned max)
{
    unsigned n = 0;
    for (;;) {
        struct rx_pkt p;
        struct sockaddr_in from;
        socklen_t fl = sizeof(from);
        ssize_t r = recvfrom(f->rfd, p.b, sizeof(p.b), 0, (struct sockaddr *)&from, &fl);
        if (r < 0) {
            assert_true(errno == EAGAIN);
            return n;
        }
        if (f->v.rec.local_addr) /* viewers started with a local address */
            assert_int_equal(from.sin_addr.s_addr, f->v.rec.local_addr);
        int len = (int)r;
        if (p.b[1] >= 192 && p.b[1] <= 223)
            continue;
        assert_int_equal(srtp_unprotect(f->srx, p.b, &len), srtp_err_status_ok);
        p.len = (size_t)len;
        assert_int_equal(depack_rtp_parse(p.b, p.len, &p.h), 0);
        if (out && n < max)
            out[n] = p;
        n++;
    }
}

static inline void feed(struct fx *f, const struct rx_pkt *p, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (p[i].h.pt == VPT)
            assert_int_equal(depack_push(f->dp, p[i].b, p[i].len), 0);
}

static inline void send_nack_fci(struct fx *f, const uint16_t (*fci)[2], unsigned n)
{
    _Alignas(4) uint8_t b[1500] = {0x81, 205, 0, (uint8_t)(2 + n), 0xde, 0xad, 0xbe, 0xef};
    assert_true(n <= 64);
    uint32_t ms = htonl(f->v.rec.tracks[0].ssrc);
    memcpy(b + 8, &ms, 4);
    for (unsigned i = 0; i < n; i++) {
        b[12 + 4 * i] = (uint8_t)(fci[i][0] >> 8);
        b[13 + 4 * i] = (uint8_t)fci[i][0];
        b[14 + 4 * i] = (uint8_t)(fci[i][1] >> 8);
        b[15 + 4 * i] = (uint8_t)fci[i][1];
    }
    int len = 12 + 4 * (int)n;
    assert_int_equal(srtp_protect_rtcp(f->stx, b, &len), srtp_err_status_ok);
    assert_int_equal(media_input(f->w, &f->v, b, (size_t)len), 0);
    uv_run(&f->loop, UV_RUN_NOWAIT); /* retransmissions leave after the loop's I/O phase */
}

/* A NACK as a browser sends it: one entry. */
static inline void send_nack(struct fx *f, uint16_t pid, uint16_t blp)
{
    const uint16_t fci[1][2] = {{pid, blp}};
    send_nack_fci(f, fci, 1);
}

static inline void send_fb(struct fx *f, unsigned fmt)
{
    _Alignas(4) uint8_t b[128] = {(uint8_t)(0x80 | fmt), 206, 0, 2, 1, 2, 3, 4};
    uint32_t ms = htonl(f->v.rec.tracks[0].ssrc);
    int len = 12;
    if (fmt == 4) { /* FIR: the SSRC goes in the FCI (RFC 5104 4.3.1.1) */
        b[3] = 4;
        memset(b + 8, 0, 4);
        memcpy(b + 12, &ms, 4);
        len = 20;
    } else {
        memcpy(b + 8, &ms, 4);
    }
    assert_int_equal(srtp_protect_rtcp(f->stx, b, &len), srtp_err_status_ok);
    assert_int_equal(media_input(f->w, &f->v, b, (size_t)len), 0);
    uv_run(&f->loop, UV_RUN_NOWAIT); /* retransmissions leave after the loop's I/O phase */
}

#endif
