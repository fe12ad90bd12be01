/* SPDX-License-Identifier: MIT */
/* test_media.c: the egress data plane without the control plane. A ring writer fills a ring
 * with hand-made H.264 and Opus frames; a media worker sends to a viewer whose keys are set
 * here, over a real loopback UDP socket; the test is the viewer: it unprotects with libsrtp2,
 * checks SSRC/sequence/timestamp continuity, depacketizes with codec/depack and compares the
 * access units with the ring's frames. Then NACK (the very same packet comes back), NACK for
 * overwritten data, PLI/FIR to the ingest's keyframe counter, a lapped viewer restarting at a
 * keyframe, sender reports as libre decodes them, a replaced ring (also after the SRTP rollover
 * counter moved on), frames numbered at another MTU, and the SDP track query. */
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
#include "codec/rtcp.h"
#include "egress/media_test.h"

#define SLOTS 64
#define VPT   96
#define APT   111

static const uint8_t sps_pps[] = {0,    0,    0,    1,    0x67, 0x42, 0xc0, 0x1f, 0xd9, 0x00,
                                  0x50, 0x05, 0xbb, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10,
                                  0x00, 0x00, 0x03, 0x03, 0xc0, 0xf1, 0x83, 0x24, 0x80, 0,
                                  0,    0,    1,    0x68, 0xcb, 0x8c, 0xb2};

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

static void on_au(void *arg, const struct depack_au *a)
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

static srtp_t viewer_srtp(const uint8_t *km, bool inbound)
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

static int udp_socket(struct sockaddr_in *a)
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

/* Frame payload bytes never contain 00 00: no accidental start codes. */
static size_t make_frame(uint8_t *out, bool key, size_t body, unsigned seed)
{
    size_t n = 0;
    if (key) {
        memcpy(out, sps_pps, sizeof(sps_pps));
        n = sizeof(sps_pps);
    }
    memcpy(out + n, "\0\0\0\1", 4);
    n += 4;
    out[n++] = key ? 0x65 : 0x41;
    for (size_t i = 0; i < body; i++)
        out[n++] = (uint8_t)((i * 31 + seed * 7) % 251 + 1);
    return n;
}

/* The worker's state of the path the viewer watches. */
static struct media_test_path path_of(struct fx *f)
{
    struct media_test_path p;
    media_test_path_of(&f->v, &p);
    return p;
}

static void set_gso(struct fx *f, bool on)
{
    struct media_test_knobs k;
    media_test_knobs_get(f->w, &k);
    k.gso = on;
    media_test_knobs_set(f->w, &k);
}

static uint64_t write_video(struct fx *f, bool key, size_t body)
{
    uint8_t *buf = malloc(body + 64);
    size_t n = make_frame(buf, key, body, f->counter++);
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

static void write_audio(struct fx *f)
{
    uint8_t opus[80];
    memset(opus, 0x5a, sizeof(opus));
    assert_true(
        ring_writer_write(f->wr, 1, RING_FRAME_KEY, f->ts / 90 * 48, 1, opus, sizeof(opus)) > 0);
}

static int setup(void **state)
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
    memcpy(t.params, sps_pps, sizeof(sps_pps));
    t.params_len = sizeof(sps_pps);
    assert_int_equal(ring_writer_set_track(f->wr, 0, &t), 0);
    struct ring_track a = {.codec = RING_CODEC_OPUS, .clock_rate = 48000, .channels = 2};
    assert_int_equal(ring_writer_set_track(f->wr, 1, &a), 0);
    f->ts = 1000;
    *state = f;
    return 0;
}

static int teardown(void **state)
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

static void start_viewer(struct fx *f, bool audio)
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
static void start_other_viewer(struct fx *f, struct media_viewer *v, unsigned track, uint8_t pt)
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

static unsigned drain(struct fx *f, struct rx_pkt *out, unsigned max)
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

static void feed(struct fx *f, const struct rx_pkt *p, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (p[i].h.pt == VPT)
            assert_int_equal(depack_push(f->dp, p[i].b, p[i].len), 0);
}

static void catchup_then_live(struct fx *f);

static void test_catchup_then_live(void **state)
{
    catchup_then_live(*state);
}

/* The same without UDP GSO: one datagram per sendmmsg message. */
static void test_catchup_then_live_no_gso(void **state)
{
    struct fx *f = *state;
    set_gso(f, false);
    catchup_then_live(f);
}

static void catchup_then_live(struct fx *f)
{
    static struct rx_pkt rx[2048];
    write_video(f, true, 20000); /* 17 packets */
    for (int i = 0; i < 5; i++)
        write_video(f, false, 3000 + (size_t)i * 500);
    write_audio(f);
    media_test_send_run(f->w); /* the path cursor reaches the live edge */
    start_viewer(f, true);
    assert_int_equal(f->v.rec.state, MEDIA_VIEWER_CATCHUP);

    unsigned n = 0;
    for (int i = 0; i < 3 && f->v.rec.state != MEDIA_VIEWER_LIVE; i++) {
        media_test_send_run(f->w);
        n += drain(f, rx + n, 2048 - n);
    }
    assert_int_equal(f->v.rec.state, MEDIA_VIEWER_LIVE);
    unsigned n_cu = n;
    for (int i = 0; i < 3; i++)
        write_video(f, false, 2500);
    write_audio(f);
    media_test_send_run(f->w);
    n += drain(f, rx + n, 2048 - n);

    /* Every video packet: our SSRC and PT, consecutive sequence numbers, the extension. */
    uint32_t vssrc = f->v.rec.tracks[0].ssrc;
    unsigned nv = 0, na = 0;
    uint16_t seq = 0;
    for (unsigned i = 0; i < n; i++) {
        if (rx[i].h.pt == APT) {
            assert_int_equal(rx[i].h.ssrc, f->v.rec.tracks[1].ssrc);
            assert_true(i >= n_cu); /* audio joins at the live edge */
            na++;
            continue;
        }
        assert_int_equal(rx[i].h.pt, VPT);
        assert_int_equal(rx[i].h.ssrc, vssrc);
        if (nv++)
            assert_int_equal(rx[i].h.seq, (uint16_t)(seq + 1));
        seq = rx[i].h.seq;
        /* RFC 8285: 0xBEDE, playout-delay (id 6, 3 bytes of zeros), mid (id 4) "0". */
        static const uint8_t ext[] = {0xbe, 0xde, 0, 2, 0x62, 0, 0, 0, 0x40, '0', 0, 0};
        assert_true(rx[i].b[0] & 0x10);
        assert_memory_equal(rx[i].b + 12, ext, sizeof(ext));
    }
    assert_int_equal(na, 1);
    feed(f, rx, n);
    /* Nine access units, byte for byte the ring's, the first a keyframe. */
    assert_int_equal(f->n_aus, 9);
    assert_true(f->aus[0].key);
    for (unsigned i = 0; i < 9; i++) {
        assert_int_equal(f->aus[i].len, f->frame_len[i]);
        assert_memory_equal(f->aus[i].data, f->frames[i], f->frame_len[i]);
    }
    /* Catch-up frames play 8x faster; live frames at the ring's spacing; no step between. */
    for (unsigned i = 1; i < 6; i++)
        assert_int_equal(f->aus[i].ts - f->aus[i - 1].ts, 3000 / MEDIA_CATCHUP_COMPRESS);
    for (unsigned i = 6; i < 9; i++)
        assert_int_equal(f->aus[i].ts - f->aus[i - 1].ts, 3000);
    assert_int_equal(ctl_read(&f->cnt->pkts_sent), n);
    assert_int_equal(ctl_read(&f->cnt->send_drops), 0);
}

/* A NACK of n FCI entries {PID, BLP} (RFC 4585 6.2.1), protected with the viewer's key. */
static void send_nack_fci(struct fx *f, const uint16_t (*fci)[2], unsigned n)
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
static void send_nack(struct fx *f, uint16_t pid, uint16_t blp)
{
    const uint16_t fci[1][2] = {{pid, blp}};
    send_nack_fci(f, fci, 1);
}

static void send_fb(struct fx *f, unsigned fmt)
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

static void test_nack(void **state)
{
    struct fx *f = *state;
    static struct rx_pkt rx[256], re[16];
    write_video(f, true, 20000);
    media_test_send_run(f->w);
    start_viewer(f, false);
    write_video(f, false, 5000);
    media_test_send_run(f->w);
    unsigned n = drain(f, rx, 256);
    assert_true(n >= 20);

    /* Lose packets 3 and 5 of the keyframe: the very same packets come back. (A viewer that
     * lost them never saw them: a fresh SRTP context, or its replay check refuses them.) */
    srtp_dealloc(f->srx);
    f->srx = viewer_srtp(f->keying, true);
    send_nack(f, rx[3].h.seq, 1u << 1);
    unsigned m = drain(f, re, 16);
    assert_int_equal(m, 2);
    assert_int_equal(re[0].len, rx[3].len);
    assert_memory_equal(re[0].b, rx[3].b, rx[3].len);
    assert_memory_equal(re[1].b, rx[5].b, rx[5].len);
    assert_int_equal(ctl_read(&f->cnt->nacks_received), 2);
    assert_int_equal(ctl_read(&f->cnt->retransmits), 2);
    assert_int_equal(f->v.rec.retransmits, 2);

    /* A sequence number never sent (ahead of the viewer) is a miss, not a send. */
    send_nack(f, (uint16_t)(rx[n - 1].h.seq + 50), 0);
    assert_int_equal(drain(f, NULL, 0), 0);
    assert_int_equal(ctl_read(&f->cnt->nack_misses), 1);

    /* Overwrite the whole ring: the keyframe's packets are gone. */
    for (int i = 0; i < SLOTS + 8; i++) {
        write_video(f, i % 10 == 0, 400);
        media_test_send_run(f->w);
    }
    (void)drain(f, NULL, 0);
    send_nack(f, rx[4].h.seq, 0); /* not rx[3]: resent just now, that one is refused first */
    assert_int_equal(drain(f, NULL, 0), 0);
    assert_int_equal(ctl_read(&f->cnt->nack_misses), 2);
    assert_int_equal(ctl_read(&f->cnt->retransmits), 2);

    /* A hostile NACK of 300 FCI entries (5100 packets, of overwritten data or from before
     * the viewer's first packet): every one counted as a miss, nothing sent, and at most
     * MEDIA_NACKS_PER_INPUT of them looked up in the ring. */
    {
        _Alignas(4)
            uint8_t b[1500] = {0x81, 205, (2 + 300) >> 8, (2 + 300) & 0xff, 0xde, 0xad, 0xbe, 0xef};
        uint32_t ms = htonl(f->v.rec.tracks[0].ssrc);
        memcpy(b + 8, &ms, 4);
        for (int i = 0; i < 300; i++) {
            uint16_t pid = (uint16_t)(rx[n - 1].h.seq - 1000 - 17 * i);
            b[12 + 4 * i] = (uint8_t)(pid >> 8);
            b[13 + 4 * i] = (uint8_t)pid;
            b[14 + 4 * i] = 0xff;
            b[15 + 4 * i] = 0xff;
        }
        int len = 12 + 4 * 300;
        uint64_t m0 = ctl_read(&f->cnt->nack_misses) + ctl_read(&f->cnt->nack_refused);
        uint64_t r0 = ctl_read(&f->cnt->retransmits);
        assert_int_equal(srtp_protect_rtcp(f->stx, b, &len), srtp_err_status_ok);
        assert_int_equal(media_input(f->w, &f->v, b, (size_t)len), 0);
        uv_run(&f->loop, UV_RUN_NOWAIT);
        /* (Those that share a bit with the packets resent above are refused unlooked-up.) */
        assert_int_equal(ctl_read(&f->cnt->nack_misses) + ctl_read(&f->cnt->nack_refused) - m0,
                         300 * 17);
        assert_int_equal(ctl_read(&f->cnt->retransmits), r0);
        assert_int_equal(drain(f, NULL, 0), 0);
    }

    /* Garbage and a forged tag: refused, counted nowhere, nothing sent. */
    uint8_t junk[40] = {0x81, 205, 0, 3};
    assert_int_equal(media_input(f->w, &f->v, junk, sizeof(junk)), -EBADMSG);
    assert_int_equal(media_input(f->w, &f->v, junk, 3), -EBADMSG);
    assert_int_equal(drain(f, NULL, 0), 0);
}

/* 16 entries naming the same PID with every BLP bit (272 requests of 17 packets): each
 * packet is resent once; the same NACK again within the RTT draws nothing; after two RTTs
 * the packets may be resent again (a retransmission can be lost too). */
static void test_nack_duplicates(void **state)
{
    struct fx *f = *state;
    static struct rx_pkt rx[256];
    write_video(f, true, 20000); /* 17 packets */
    media_test_send_run(f->w);
    start_viewer(f, false);
    write_video(f, false, 5000);
    media_test_send_run(f->w);
    unsigned n = drain(f, rx, 256);
    assert_true(n >= 20);
    f->v.rec.tracks[0].rtt_us = 20000; /* as an RR would set it */
    srtp_dealloc(f->srx);              /* the resent packets are replays to the old context */
    f->srx = viewer_srtp(f->keying, true);
    uint16_t fci[16][2];
    for (unsigned i = 0; i < 16; i++) {
        fci[i][0] = rx[0].h.seq;
        fci[i][1] = 0xffff;
    }
    send_nack_fci(f, fci, 16);
    assert_int_equal(drain(f, NULL, 0), 17);
    assert_int_equal(ctl_read(&f->cnt->retransmits), 17);
    assert_int_equal(ctl_read(&f->cnt->nack_refused), 16 * 17 - 17);
    assert_int_equal(f->v.rec.nack_refused, 16 * 17 - 17);
    send_nack_fci(f, fci, 16);
    assert_int_equal(drain(f, NULL, 0), 0);
    assert_int_equal(ctl_read(&f->cnt->nack_refused), 2 * 16 * 17 - 17);
    usleep(45000); /* two epochs of 20 ms */
    srtp_dealloc(f->srx);
    f->srx = viewer_srtp(f->keying, true);
    send_nack(f, rx[0].h.seq, 0xffff);
    assert_int_equal(drain(f, NULL, 0), 17);
    assert_int_equal(ctl_read(&f->cnt->retransmits), 2 * 17);
}

/* A viewer asking again for everything it was sent gets its budget's burst (at least
 * MEDIA_RTX_BURST_MIN payload bytes, as this path's keyframe is smaller) and is refused the
 * rest; the budget refills at the path's rate. */
static void test_nack_budget(void **state)
{
    struct fx *f = *state;
    static struct rx_pkt rx[512], re[512];
    write_video(f, true, 20000);
    media_test_send_run(f->w);
    start_viewer(f, false);
    for (int i = 0; i < 40; i++) { /* 3 packets each: 140 KB of payload */
        write_video(f, false, 3500);
        media_test_send_run(f->w);
    }
    unsigned n = drain(f, rx, 512);
    assert_true(n >= 17 + 40 * 3 && n <= 9 * 17);
    srtp_dealloc(f->srx); /* the resent packets are replays to the old context */
    f->srx = viewer_srtp(f->keying, true);
    uint16_t fci[9][2];
    for (unsigned i = 0; i < 9; i++) {
        fci[i][0] = (uint16_t)(rx[0].h.seq + 17 * i);
        fci[i][1] = 0xffff;
    }
    send_nack_fci(f, fci, 9);
    unsigned m = drain(f, re, 512);
    size_t bytes = 0;
    for (unsigned i = 0; i < m; i++)
        bytes += re[i].len - 24; /* RTP header and extensions */
    /* The burst, overdrawn by at most one packet, plus what the path's rate (the 140 KB
     * written just now) refilled meanwhile: well under a millisecond of it. */
    assert_true(bytes >= MEDIA_RTX_BURST_MIN);
    assert_true(bytes < MEDIA_RTX_BURST_MIN + 1200 + 1000);
    assert_true(m < n);
    uint64_t refused = ctl_read(&f->cnt->nack_refused);
    assert_int_equal(refused, n - m);
    assert_int_equal(ctl_read(&f->cnt->nack_misses), 9 * 17 - n); /* those not sent yet */
    /* A hundred milliseconds later: what the path's rate refilled meanwhile, no more. */
    uint64_t t0 = ctl_now_ns();
    usleep(100000);
    srtp_dealloc(f->srx);
    f->srx = viewer_srtp(f->keying, true);
    send_nack_fci(f, fci, 9);
    uint64_t us = (ctl_now_ns() - t0) / 1000;
    m = drain(f, re, 512);
    bytes = 0;
    for (unsigned i = 0; i < m; i++)
        bytes += re[i].len - 24;
    assert_true(m > 0);
    assert_true(bytes < us * path_of(f).rtx_rate / 1000000 + 1200);
}

static void test_pli_fir(void **state)
{
    struct fx *f = *state;
    write_video(f, true, 2000);
    media_test_send_run(f->w);
    start_viewer(f, false);
    (void)ring_writer_take_keyframe_requests(f->wr);
    send_fb(f, 1);
    assert_int_equal(ctl_read(&f->cnt->plis), 1);
    assert_int_equal(ring_writer_take_keyframe_requests(f->wr), 1);
    send_fb(f, 4);
    assert_int_equal(ctl_read(&f->cnt->plis), 2);
    assert_int_equal(ring_writer_take_keyframe_requests(f->wr), 1);
    assert_int_equal(f->v.rec.plis, 2);
}

static void test_lapped(void **state)
{
    struct fx *f = *state;
    static struct rx_pkt rx[4096];
    write_video(f, true, 3000);
    media_test_send_run(f->w);
    start_viewer(f, false);
    media_test_send_run(f->w);
    unsigned n0 = drain(f, NULL, 0);
    assert_true(n0 > 0);
    /* The worker sleeps through more than a ring's worth of frames. */
    for (int i = 1; i <= SLOTS + 20; i++)
        write_video(f, i % 16 == 0, 300);
    unsigned n = 0;
    for (int i = 0; i < 8; i++) {
        media_test_send_run(f->w);
        n += drain(f, rx + n, 4096 - n);
    }
    assert_true(ctl_read(&f->cnt->ring_laps) >= 1);
    assert_true(n > 0);
    feed(f, rx, n);
    /* It resumed at a keyframe (the latest in the ring), then followed in order. */
    assert_true(f->n_aus >= 2);
    assert_true(f->aus[0].key);
    unsigned last_key = SLOTS + 20 - (SLOTS + 20) % 16;
    assert_int_equal(f->aus[0].len, f->frame_len[last_key]);
    assert_memory_equal(f->aus[0].data, f->frames[last_key], f->frame_len[last_key]);
    assert_int_equal(f->n_aus, SLOTS + 20 - last_key + 1);
}

/* A viewer still catching up when the writer laps it starts over from the latest keyframe
 * (not from wherever the live edge is) and then follows in order. */
static void test_catchup_lapped(void **state)
{
    struct fx *f = *state;
    static struct rx_pkt rx[4096];
    write_video(f, true, 3000);
    for (int i = 0; i < 3; i++)
        write_video(f, false, 300);
    media_test_send_run(f->w);
    start_viewer(f, false);
    assert_int_equal(f->v.rec.state, MEDIA_VIEWER_CATCHUP);
    for (int i = 1; i <= SLOTS + 20; i++)
        write_video(f, i % 16 == 0, 300);
    unsigned n = 0;
    for (int i = 0; i < 16 && f->v.rec.state != MEDIA_VIEWER_LIVE; i++) {
        media_test_send_run(f->w);
        n += drain(f, rx + n, 4096 - n);
    }
    assert_int_equal(f->v.rec.state, MEDIA_VIEWER_LIVE);
    feed(f, rx, n);
    unsigned last_key = 4 + SLOTS + 20 - (SLOTS + 20) % 16 - 1;
    assert_true(f->aus[0].key);
    assert_int_equal(f->aus[0].len, f->frame_len[last_key]);
    assert_memory_equal(f->aus[0].data, f->frames[last_key], f->frame_len[last_key]);
    assert_int_equal(f->n_aus, f->n_written - last_key);
    for (unsigned i = 1; i < f->n_aus; i++)
        assert_int_equal(f->aus[i].ts - f->aus[i - 1].ts, 3000 / MEDIA_CATCHUP_COMPRESS);
}

static void test_sender_report(void **state)
{
    struct fx *f = *state;
    write_video(f, true, 5000);
    media_test_send_run(f->w);
    start_viewer(f, false);
    media_test_send_run(f->w);
    write_video(f, false, 1000);
    media_test_send_run(f->w);
    unsigned n = drain(f, NULL, 0);
    f->v.rec.next_sr_ns = 0; /* due now */
    /* The worker's timer sends it: wait on the loop, bounded. */
    uint8_t b[1600];
    ssize_t r = -1;
    for (int i = 0; i < 20 && r < 0; i++) {
        uv_run(&f->loop, UV_RUN_ONCE);
        r = recv(f->rfd, b, sizeof(b), 0);
    }
    assert_true(r > 0);
    assert_int_equal(b[1], 200);
    int len = (int)r;
    assert_int_equal(srtp_unprotect_rtcp(f->srx, b, &len), srtp_err_status_ok);
    struct mbuf mb = {.buf = b, .size = (size_t)len, .pos = 0, .end = (size_t)len};
    struct rtcp_msg *m = NULL;
    assert_int_equal(rtcp_decode(&m, &mb), 0);
    assert_int_equal(m->hdr.pt, RTCP_SR);
    assert_int_equal(m->r.sr.ssrc, f->v.rec.tracks[0].ssrc);
    assert_int_equal(m->r.sr.psent, n);
    assert_int_equal(m->r.sr.osent, f->v.rec.tracks[0].octets_sent);
    /* RTP time of now: at or a little past the last frame's (well under a second). */
    uint32_t ahead = m->r.sr.rtp_ts - f->v.rec.tracks[0].last_rtp_ts;
    assert_true(ahead < 90000);
    uint32_t sec, frac;
    codec_rtcp_ntp_now(&sec, &frac);
    assert_true(sec - m->r.sr.ntp_sec <= 1);
    m = mem_deref(m);
    assert_int_equal(rtcp_decode(&m, &mb), 0);
    assert_int_equal(m->hdr.pt, RTCP_SDES);
    m = mem_deref(m);

    /* An RR quoting that SR: loss and RTT land in the record. */
    _Alignas(4) uint8_t rr[128] = {0x81, 201, 0, 7, 9, 9, 9, 9};
    uint32_t ss = htonl(f->v.rec.tracks[0].ssrc), lsr = htonl(f->v.rec.tracks[0].last_sr_ntp_mid);
    memcpy(rr + 8, &ss, 4);
    rr[12] = 64; /* 25 % lost */
    rr[15] = 3;
    memcpy(rr + 24, &lsr, 4);
    len = 32;
    assert_int_equal(srtp_protect_rtcp(f->stx, rr, &len), srtp_err_status_ok);
    assert_int_equal(media_input(f->w, &f->v, rr, (size_t)len), 0);
    assert_int_equal(f->v.rec.tracks[0].rr_fraction_lost, 64);
    assert_int_equal(f->v.rec.tracks[0].rr_cum_lost, 3);
    assert_true(f->v.rec.tracks[0].rtt_us < 1000000);
}

/* A keyframe, then the (video-only) viewer, then a delta frame sent live: drains what the
 * viewer received into rx (at least one packet) and returns the count. */
/* A viewer that never got our last DTLS flight dropped everything sent so far: restarted, it
 * gets the latest keyframe and what followed again, with sequence numbers following the last
 * ones sent (libsrtp2 accepts them: no index repeats) and timestamps after the last; a NACK
 * for a packet sent before the restart is not served (its number now names another one). */
static void test_restart(void **state)
{
    struct fx *f = *state;
    static struct rx_pkt rx[512];
    write_video(f, true, 5000);
    write_video(f, false, 2000);
    media_test_send_run(f->w);
    start_viewer(f, false);
    write_video(f, false, 1500);
    media_test_send_run(f->w);
    unsigned n1 = drain(f, rx, 512);
    assert_true(n1 > 0);
    struct rx_pkt before = rx[n1 - 1];
    uint16_t old_first = rx[0].h.seq;
    media_viewer_restart(f->w, &f->v);
    assert_int_equal(f->v.rec.state, MEDIA_VIEWER_CATCHUP);
    write_video(f, false, 1000);
    for (int i = 0; i < 4; i++)
        media_test_send_run(f->w);
    unsigned n2 = drain(f, rx, 512);
    assert_true(n2 > n1); /* the keyframe and its followers again, and the new frame */
    assert_int_equal(rx[0].h.seq, (uint16_t)(before.h.seq + 1));
    assert_true((int32_t)(rx[0].h.ts - before.h.ts) > 0);
    for (unsigned i = 1; i < n2; i++)
        assert_int_equal(rx[i].h.seq, (uint16_t)(rx[i - 1].h.seq + 1));
    feed(f, rx, n2);
    assert_true(f->n_aus >= 4);
    assert_true(f->aus[0].key);
    assert_int_equal(f->aus[0].len, f->frame_len[0]);
    assert_memory_equal(f->aus[0].data, f->frames[0], f->frame_len[0]);
    uint64_t retx = f->v.rec.retransmits;
    send_nack(f, old_first, 0);
    media_test_send_run(f->w);
    assert_int_equal(drain(f, NULL, 0), 0);
    assert_int_equal(f->v.rec.retransmits, retx);
}

static unsigned start_receiving(struct fx *f, struct rx_pkt *rx, unsigned max)
{
    write_video(f, true, 3000);
    media_test_send_run(f->w);
    start_viewer(f, false);
    write_video(f, false, 2000);
    media_test_send_run(f->w);
    unsigned n = drain(f, rx, max);
    assert_true(n > 0);
    return n;
}

/* The ingest's ring is replaced by a new object of another geometry (a reload with another
 * ring size), whose packet numbers start again at 0: the worker notices the old writer's
 * silence, attaches to the new ring, and the viewer carries on at its next keyframe with
 * sequence numbers, timestamps and SRTP indexes continuing (the same receive context decrypts
 * it); NACKs for the old ring's packets miss. last: the last packet the viewer received. */
static void replaced_ring_continues(struct fx *f, const struct rx_pkt *last_rx)
{
    static struct rx_pkt rx[256];
    struct rx_pkt last = *last_rx;
    ring_writer_close(f->wr, true);
    char name[96], err[128];
    snprintf(name, sizeof(name), "%s.cam", f->prefix);
    struct ring_writer_opts o = {.slot_count = 2 * SLOTS, .data_size = 1 << 20, .mtu = 1200};
    assert_int_equal(ring_writer_open(&f->wr, name, &o, err, sizeof(err)), 0);
    struct ring_track t = {.codec = RING_CODEC_H264, .clock_rate = 90000, .channels = 1};
    assert_int_equal(ring_writer_set_track(f->wr, 0, &t), 0);
    f->ts = 777777;

    struct media_test_knobs knobs, saved;
    media_test_knobs_get(f->w, &saved);
    knobs = saved;
    knobs.ring_stale_ns = 0; /* any silence counts: look at once */
    media_test_knobs_set(f->w, &knobs);
    const struct ring_reader *old = path_of(f).r;
    for (int i = 0; i < 10 && path_of(f).r == old; i++)
        uv_run(&f->loop, UV_RUN_ONCE);
    assert_ptr_not_equal(path_of(f).r, old);
    media_test_knobs_set(f->w, &saved);

    write_video(f, false, 2000); /* a delta frame: the viewer waits for a keyframe */
    unsigned key = f->n_written;
    write_video(f, true, 3000);
    write_video(f, false, 2000);
    media_test_send_run(f->w);
    unsigned m = drain(f, rx, 256);
    assert_true(m > 2);
    assert_int_equal(rx[0].h.ssrc, last.h.ssrc);
    assert_int_equal(rx[0].h.seq, (uint16_t)(last.h.seq + 1));
    assert_int_equal(rx[0].h.ts, last.h.ts + 90000 / 50);
    for (unsigned i = 1; i < m; i++)
        assert_int_equal(rx[i].h.seq, (uint16_t)(rx[i - 1].h.seq + 1));
    feed(f, rx, m);
    assert_true(f->n_aus >= 2);
    assert_true(f->aus[0].key);
    assert_int_equal(f->aus[0].len, f->frame_len[key]);
    assert_memory_equal(f->aus[0].data, f->frames[key], f->frame_len[key]);

    uint64_t misses = ctl_read(&f->cnt->nack_misses);
    send_nack(f, last.h.seq, 0);
    assert_int_equal(drain(f, NULL, 0), 0);
    assert_int_equal(ctl_read(&f->cnt->nack_misses), misses + 1);
}

static void test_ring_replaced(void **state)
{
    struct fx *f = *state;
    static struct rx_pkt rx[256];
    unsigned n = start_receiving(f, rx, 256);
    replaced_ring_continues(f, &rx[n - 1]);
}

/* The same after the viewer was sent more than 2^16 packets (its SRTP rollover counter has
 * moved on): the new ring's numbering, restarting at 0, lies far below the old one's. */
static void test_ring_replaced_after_rollover(void **state)
{
    struct fx *f = *state;
    static struct rx_pkt rx[256];
    static uint8_t buf[200064];
    unsigned n = start_receiving(f, rx, 256), total = n;
    while (total <= 70000) {
        size_t len = make_frame(buf, false, 200000, f->counter++);
        int pk = pack_count(RING_CODEC_H264, buf, len, 1200);
        assert_true(ring_writer_write(f->wr, 0, 0, f->ts, (uint32_t)pk, buf, len) > 0);
        f->ts += 3000;
        media_test_send_run(f->w);
        n = drain(f, rx, 256);
        assert_int_equal(n, pk);
        total += n;
    }
    assert_int_equal(ctl_read(&f->cnt->send_drops), 0);
    replaced_ring_continues(f, &rx[n - 1]);
    assert_int_equal(ctl_read(&f->cnt->send_drops), 0);
}

/* Writes a delta frame whose packet count in the ring is off by diff from what it packetizes
 * into at the worker's MTU (as if written at another MTU). Returns the frame's real count. */
static int write_miscounted(struct fx *f, int diff)
{
    static uint8_t buf[8064];
    size_t len = make_frame(buf, false, 8000, f->counter++);
    int pk = pack_count(RING_CODEC_H264, buf, len, 1200);
    assert_true(pk > 1);
    assert_true(ring_writer_write(f->wr, 0, 0, f->ts, (uint32_t)(pk + diff), buf, len) > 0);
    f->ts += 3000;
    return pk;
}

/* A frame that packetizes here into another count than the ring numbered it with is not sent
 * (its packets would take the SRTP indexes of the next frame's): counted once, also when a
 * NACK comes back to it, and the frames after it go out as usual. */
static void test_pkt_count_mismatch(void **state)
{
    struct fx *f = *state;
    static struct rx_pkt rx[256];
    unsigned n = start_receiving(f, rx, 256);
    uint16_t last = rx[n - 1].h.seq;
    write_miscounted(f, -1); /* the worker makes one packet more than the ring numbered */
    media_test_send_run(f->w);
    assert_int_equal(drain(f, NULL, 0), 0);
    assert_int_equal(ctl_read(&f->cnt->pkt_count_mismatches), 1);
    write_miscounted(f, 1); /* one fewer */
    media_test_send_run(f->w);
    assert_int_equal(drain(f, NULL, 0), 0);
    assert_int_equal(ctl_read(&f->cnt->pkt_count_mismatches), 2);

    write_video(f, false, 2000);
    media_test_send_run(f->w);
    unsigned m = drain(f, rx, 256);
    assert_true(m > 0);
    send_nack(f, (uint16_t)(last + 1), 0); /* the first miscounted frame's first packet */
    assert_int_equal(drain(f, NULL, 0), 0);
    assert_int_equal(ctl_read(&f->cnt->retransmits), 0);
    assert_int_equal(ctl_read(&f->cnt->pkt_count_mismatches), 2);
    assert_int_equal(ctl_read(&f->cnt->send_drops), 0);
}

/* A wakeup stops queueing once its packet budget is spent, between viewers; the next one
 * resumes the same frame for the viewers not yet served, who get it exactly once. */
static void test_wakeup_budget(void **state)
{
    struct fx *f = *state;
    static struct rx_pkt rx[256];
    static struct media_viewer more[2];
    write_video(f, true, 20000); /* 18 packets: STAP-A (SPS, PPS) and 17 FU-A */
    media_test_send_run(f->w);
    start_viewer(f, false);
    f->v.rec.next_frame = path_of(f).next_frame; /* all three live, no catch-up */
    f->v.rec.state = MEDIA_VIEWER_LIVE;
    for (int i = 0; i < 2; i++) {
        start_other_viewer(f, &more[i], 0, VPT);
        more[i].rec.next_frame = path_of(f).next_frame;
        more[i].rec.state = MEDIA_VIEWER_LIVE;
    }
    struct media_test_knobs knobs;
    media_test_knobs_get(f->w, &knobs);
    knobs.wakeup_pkts = 20;
    media_test_knobs_set(f->w, &knobs);
    write_video(f, true, 20000);
    assert_true(media_test_send_run(f->w)); /* two viewers served (18 + 18 > 20), one left */
    assert_int_equal(drain(f, rx, 256), 36);
    assert_true(path_of(f).has_pending);
    assert_false(media_test_send_run(f->w));
    unsigned n = drain(f, rx, 256);
    assert_int_equal(n, 18);
    for (unsigned i = 1; i < n; i++)
        assert_int_equal(rx[i].h.ssrc, rx[0].h.ssrc);
    assert_false(path_of(f).has_pending);
    assert_false(media_test_send_run(f->w));
    assert_int_equal(drain(f, NULL, 0), 0);
    for (int i = 0; i < 2; i++)
        media_viewer_stop(f->w, &more[i]);
}

/* An H.265 keyframe: VPS, SPS, PPS (2-byte NAL headers, types 32-34) and an IDR slice. */
static size_t make_h265_key(uint8_t *out, size_t body)
{
    static const uint8_t params[] = {0,    0, 0, 1, 0x40, 1, 0xc, 1, 0xff, 0xff, 0, 0,    0,   1,
                                     0x42, 1, 1, 1, 0x60, 0, 0,   0, 1,    0x44, 1, 0xc1, 0x72};
    memcpy(out, params, sizeof(params));
    size_t n = sizeof(params);
    memcpy(out + n, "\0\0\0\1\x26\x01", 6);
    n += 6;
    for (size_t i = 0; i < body; i++)
        out[n++] = (uint8_t)(i % 251 + 1);
    return n;
}

/* The source comes back with another codec on the same track (an RTSP reconnect to another
 * stream). A running viewer, whose answer named H.264, gets none of the H.265 frames (they
 * would arrive under its H.264 payload type), and its NACKs for the old frames are not
 * rebuilt with the new codec's packetizer. */
static void test_codec_changed(void **state)
{
    struct fx *f = *state;
    static struct rx_pkt rx[256];
    start_receiving(f, rx, 256);

    struct ring_track t = {.codec = RING_CODEC_H265, .clock_rate = 90000, .channels = 1};
    assert_int_equal(ring_writer_set_track(f->wr, 0, &t), 0);
    static uint8_t au[4096];
    size_t len = make_h265_key(au, 3000);
    int pk = pack_count(RING_CODEC_H265, au, len, 1200);
    assert_true(pk > 1);
    assert_true(ring_writer_write(f->wr, 0, RING_FRAME_KEY, f->ts, (uint32_t)pk, au, len) > 0);
    f->ts += 3000;
    media_test_send_run(f->w);
    assert_int_equal(path_of(f).codec[0], RING_CODEC_H265);
    assert_int_equal(drain(f, NULL, 0), 0);

    uint64_t misses = ctl_read(&f->cnt->nack_misses);
    send_nack(f, rx[0].h.seq, 0);
    assert_int_equal(drain(f, NULL, 0), 0);
    assert_int_equal(ctl_read(&f->cnt->nack_misses), misses + 1);
}

/* A track the source declares after the path was opened (an RTSP source that reconnects
 * with one more track): its first frame makes the worker re-read the track table, and a
 * viewer that starts afterwards and takes that track receives it. */
static void test_track_declared_later(void **state)
{
    struct fx *f = *state;
    start_receiving(f, NULL, 0);
    struct ring_track t = {.codec = RING_CODEC_PCMU, .clock_rate = 8000, .channels = 1};
    assert_int_equal(ring_writer_set_track(f->wr, 2, &t), 0);
    uint8_t pcm[160];
    memset(pcm, 0xff, sizeof(pcm));
    assert_true(ring_writer_write(f->wr, 2, RING_FRAME_KEY, 0, 1, pcm, sizeof(pcm)) > 0);
    media_test_send_run(f->w);
    assert_int_equal(path_of(f).codec[2], RING_CODEC_PCMU);
    assert_int_equal(drain(f, NULL, 0), 0); /* f->v did not take track 2 */

    static struct media_viewer late;
    start_other_viewer(f, &late, 2, 0);
    assert_true(ring_writer_write(f->wr, 2, RING_FRAME_KEY, 160, 1, pcm, sizeof(pcm)) > 0);
    media_test_send_run(f->w);
    static struct rx_pkt rx[8];
    assert_int_equal(drain(f, rx, 8), 1);
    assert_int_equal(rx[0].h.pt, 0);
    media_viewer_stop(f->w, &late);
}

static void test_tracks_and_stop(void **state)
{
    struct fx *f = *state;
    struct media_track_info t[MEDIA_MAX_TRACKS];
    assert_int_equal(media_path_tracks(f->w, "nope", t), -ENOENT);
    assert_int_equal(media_path_tracks(f->w, "cam", t), 2);
    assert_int_equal(t[0].codec, RING_CODEC_H264);
    assert_int_equal(t[0].clock_rate, 90000);
    assert_string_equal(t[0].profile_level_id, "42c01f");
    assert_int_equal(t[1].codec, RING_CODEC_OPUS);
    assert_int_equal(t[1].index, 1);
    assert_int_equal(t[1].channels, 2);

    write_video(f, true, 2000);
    start_viewer(f, true);
    media_viewer_stop(f->w, &f->v);
    media_viewer_stop(f->w, &f->v); /* idempotent */
    assert_int_equal(ctl_read(&f->cnt->viewers), 0);
    assert_int_equal(media_worker_viewers(f->w), 0);
    write_video(f, false, 2000);
    media_test_send_run(f->w);
    assert_int_equal(drain(f, NULL, 0), 0);
}

int main(void)
{
    if (srtp_init() != srtp_err_status_ok) /* libsrtp2 is the viewer's side only */
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_catchup_then_live, setup, teardown),
        cmocka_unit_test_setup_teardown(test_catchup_then_live_no_gso, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nack_duplicates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nack_budget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pli_fir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lapped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_catchup_lapped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sender_report, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ring_replaced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ring_replaced_after_rollover, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wakeup_budget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pkt_count_mismatch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_codec_changed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_track_declared_later, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tracks_and_stop, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
