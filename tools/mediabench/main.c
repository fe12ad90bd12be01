/* SPDX-License-Identifier: MIT */
/* mediabench: the egress send path alone, in one process: a ring fed with a 2 Mbit/s-like
 * H.264 stream (a 60 KB keyframe every 60 frames, 7 KB delta frames), one media worker with N
 * viewers sending over loopback UDP to R receiver sockets drained by a second thread. Prints
 * one JSON line: the sending thread's CPU time (user + system, which includes the kernel's
 * loopback delivery) per packet sent. Usage:
 *   mediabench [-n VIEWERS] [-f FRAMES] [-r RECEIVERS] [-p gcm|cm] [-g 0|1 (UDP GSO)]
 *              [-G (UDP_GRO on the receivers: a GSO batch is delivered whole, as across a
 *              real network, instead of being segmented on the sender's CPU)]
 * mediabench -c: the cost of protecting one 1200-byte RTP packet, rtc/esrtp.c (OpenSSL)
 * against libsrtp2 (as Debian builds it), both profiles. */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <srtp2/srtp.h>

#include "codec/pack.h"
#include "common/sockbuf.h"
#include "rtc/esrtp.h"
#include "egress/media_test.h"

#define MB_MAX_RX 64

static _Atomic uint64_t mb_received;
static _Atomic bool mb_stop;
static int mb_rx[MB_MAX_RX];
static unsigned mb_nrx = 16;
static bool mb_gro;

static uint64_t mb_thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Datagrams in one received message: several when UDP_GRO coalesced them. */
static uint64_t mb_datagrams(const struct mmsghdr *m)
{
    size_t seg = sockbuf_gro_segment(&m->msg_hdr);
    return seg ? (m->msg_len + seg - 1) / seg : 1;
}

static void *mb_drain(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "mb-drain"); /* tells the threads apart in perf */
    int ep = epoll_create1(0);
    for (unsigned i = 0; i < mb_nrx; i++) {
        struct epoll_event e = {.events = EPOLLIN, .data.u32 = i};
        epoll_ctl(ep, EPOLL_CTL_ADD, mb_rx[i], &e);
    }
    static uint8_t bufs[64][65536];
    static uint8_t ctrl[64][CMSG_SPACE(sizeof(int))];
    struct mmsghdr m[64];
    struct iovec iov[64];
    for (int i = 0; i < 64; i++) {
        iov[i] = (struct iovec){bufs[i], sizeof(bufs[i])};
        m[i].msg_hdr = (struct msghdr){.msg_iov = &iov[i], .msg_iovlen = 1};
    }
    struct epoll_event ev[16];
    while (!atomic_load(&mb_stop)) {
        int n = epoll_wait(ep, ev, 16, 50);
        for (int i = 0; i < n; i++) {
            for (;;) {
                /* The kernel shortens msg_controllen to what it wrote (0 without a GRO
                 * segment size): give every entry its whole buffer again before each call. */
                for (int j = 0; j < 64; j++) {
                    m[j].msg_hdr.msg_control = ctrl[j];
                    m[j].msg_hdr.msg_controllen = sizeof(ctrl[j]);
                }
                int r = recvmmsg(mb_rx[ev[i].data.u32], m, 64, MSG_DONTWAIT, NULL);
                if (r <= 0)
                    break;
                for (int j = 0; j < r; j++)
                    atomic_fetch_add(&mb_received, mb_datagrams(&m[j]));
            }
        }
    }
    close(ep);
    return NULL;
}

static int mb_udp(struct sockaddr_in *a)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    memset(a, 0, sizeof(*a));
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)a, sizeof(*a)) < 0)
        return -1;
    socklen_t l = sizeof(*a);
    getsockname(fd, (struct sockaddr *)a, &l);
    int one = 1;
    if (mb_gro)
        (void)setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof(one));
    (void)sockbuf_set_rcv(fd, 16 << 20);
    return fd;
}

/* ns per call of fn over a 1200-byte payload, best of 3 runs of 20000. */
static double mb_time(int (*fn)(void *, uint8_t *, uint16_t), void *ctx)
{
    static _Alignas(16) uint8_t pkt[1500];
    double best = 1e9;
    for (int run = 0; run < 3; run++) {
        uint64_t t0 = mb_thread_cpu_ns();
        for (uint16_t i = 0; i < 20000; i++) {
            uint16_t seq = (uint16_t)(run * 20000 + i); /* increasing: libsrtp2 checks replay */
            memcpy(pkt, "\x80\x60\0\0\0\0\0\1\x12\x34\x56\x78", 12);
            pkt[2] = (uint8_t)(seq >> 8);
            pkt[3] = (uint8_t)seq;
            if (fn(ctx, pkt, seq) < 0)
                return -1;
        }
        double ns = (double)(mb_thread_cpu_ns() - t0) / 20000;
        best = ns < best ? ns : best;
    }
    return best;
}

/* Shaped as the send path protects an FU-A fragment: its 2-byte header from the descriptor,
 * then the slice of the access unit in the ring. */
static int mb_ours(void *ctx, uint8_t *pkt, uint16_t seq)
{
    static uint8_t fu[2] = {0x7c, 0x05}, slice[1198];
    struct iovec iov[2] = {{fu, sizeof(fu)}, {slice, sizeof(slice)}};
    return esrtp_protect_rtp(ctx, pkt, 12, iov, 2, seq);
}

static int mb_libsrtp(void *ctx, uint8_t *pkt, uint16_t seq)
{
    (void)seq;
    memset(pkt + 12, 0x5a, 1200); /* libsrtp2 protects in place: copy the payload in */
    int len = 1212;
    return srtp_protect(*(srtp_t *)ctx, pkt, &len) == srtp_err_status_ok ? len : -1;
}

static int mb_crypto(void)
{
    uint8_t km[60];
    for (size_t i = 0; i < sizeof(km); i++)
        km[i] = (uint8_t)(i * 3 + 1);
    if (srtp_init() != srtp_err_status_ok)
        return 1;
    static const uint16_t profiles[] = {ESRTP_AEAD_AES_128_GCM, ESRTP_AES128_CM_SHA1_80};
    for (int i = 0; i < 2; i++) {
        bool gcm = profiles[i] == ESRTP_AEAD_AES_128_GCM;
        struct esrtp *s;
        if (esrtp_create(&s, profiles[i], km, esrtp_keying_len(profiles[i])) < 0)
            return 1;
        srtp_policy_t pol;
        memset(&pol, 0, sizeof(pol));
        if (gcm) {
            srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtp);
            srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtcp);
        } else {
            srtp_crypto_policy_set_rtp_default(&pol.rtp);
            srtp_crypto_policy_set_rtcp_default(&pol.rtcp);
        }
        pol.ssrc.type = ssrc_any_outbound;
        pol.key = km;
        pol.window_size = 1024;
        pol.allow_repeat_tx = 1; /* the runs repeat sequence numbers */
        srtp_t ls;
        if (srtp_create(&ls, &pol) != srtp_err_status_ok)
            return 1;
        printf("{\"profile\":\"%s\",\"payload\":1200,\"ours_ns\":%.0f,\"libsrtp2_ns\":%.0f}\n",
               gcm ? "gcm" : "cm", mb_time(mb_ours, s), mb_time(mb_libsrtp, &ls));
        esrtp_free(s);
        srtp_dealloc(ls);
    }
    return 0;
}

int main(int argc, char **argv)
{
    unsigned viewers = 1000, frames = 300;
    uint16_t profile = ESRTP_AEAD_AES_128_GCM;
    int c, gso = 1;
    while ((c = getopt(argc, argv, "n:f:r:p:g:Gc")) != -1) {
        switch (c) {
        case 'c':
            return mb_crypto();
        case 'n':
            viewers = (unsigned)atoi(optarg);
            break;
        case 'f':
            frames = (unsigned)atoi(optarg);
            break;
        case 'g':
            gso = atoi(optarg);
            break;
        case 'G':
            mb_gro = true;
            break;
        case 'r':
            mb_nrx = (unsigned)atoi(optarg);
            break;
        case 'p':
            profile = strcmp(optarg, "cm") ? ESRTP_AEAD_AES_128_GCM : ESRTP_AES128_CM_SHA1_80;
            break;
        default:
            fprintf(stderr, "usage: mediabench [-n viewers] [-f frames] [-r receivers] "
                            "[-p gcm|cm] [-g 0|1] [-G] | -c\n");
            return 2;
        }
    }
    if (mb_nrx < 1 || mb_nrx > MB_MAX_RX || viewers < 1)
        return 2;

    static struct config cfg;
    config_defaults(&cfg);
    snprintf(cfg.shm_prefix, sizeof(cfg.shm_prefix), "rcmb-%d", (int)getpid());
    struct ctl ctl;
    if (ctl_init_private(&ctl) < 0)
        return 1;
    struct ctl_counters *cnt = &ctl_slot(&ctl, 0)->counters;
    char name[64], err[128];
    snprintf(name, sizeof(name), "%s.bench", cfg.shm_prefix);
    struct ring_writer_opts o = {.slot_count = 1024, .data_size = 16 << 20, .mtu = 1200};
    struct ring_writer *wr;
    if (ring_writer_open(&wr, name, &o, err, sizeof(err)) < 0) {
        fprintf(stderr, "mediabench: ring: %s\n", err);
        return 1;
    }
    struct ring_track t = {.codec = RING_CODEC_H264, .clock_rate = 90000, .channels = 1};
    ring_writer_set_track(wr, 0, &t);

    uv_loop_t loop;
    uv_loop_init(&loop);
    struct sockaddr_in sa, ra[MB_MAX_RX];
    int sfd = mb_udp(&sa);
    for (unsigned i = 0; i < mb_nrx; i++)
        mb_rx[i] = mb_udp(&ra[i]);
    struct media_worker *w;
    if (media_worker_init(&w, &loop, &cfg, &ctl, cnt, sfd) < 0)
        return 1;
    struct media_test_knobs knobs;
    media_test_knobs_get(w, &knobs);
    knobs.gso = gso != 0;
    media_test_knobs_set(w, &knobs);

    static uint8_t buf[80000];
    unsigned seq = 0;
    uint32_t ts = 0;
    size_t n = media_test_frame(buf, true, 60000, seq++);
    ring_writer_write(wr, 0, RING_FRAME_KEY, ts,
                      (uint32_t)pack_count(RING_CODEC_H264, buf, n, 1200), buf, n);
    media_test_send_run(w);

    uint8_t keying[60];
    for (size_t i = 0; i < sizeof(keying); i++)
        keying[i] = (uint8_t)(i * 11 + 5);
    /* Memory per viewer: heap in use (the records and their SRTP contexts) per viewer. */
    size_t heap0 = mallinfo2().uordblks;
    struct media_viewer *v = calloc(viewers, sizeof(*v));
    for (unsigned i = 0; i < viewers; i++) {
        media_viewer_init(&v[i]);
        struct media_viewer_params p = {.path = "bench",
                                        .remote = (struct sockaddr *)&ra[i % mb_nrx],
                                        .remote_len = sizeof(ra[0]),
                                        .srtp_profile = profile,
                                        .keying = keying,
                                        .keying_len = esrtp_keying_len(profile)};
        p.tracks[0] = (struct media_track_params){
            .flags = MEDIA_TRACK_SEND | MEDIA_TRACK_NACK, .pt = 96, .playout_delay_id = 6};
        if (media_viewer_start(w, &v[i], &p) < 0)
            return 1;
    }
    double per_viewer = (double)(mallinfo2().uordblks - heap0) / viewers;
    pthread_t th;
    pthread_create(&th, NULL, mb_drain, NULL);

    uint64_t cpu = 0, wall0 = ctl_now_ns(), pk0 = 0, rx0 = 0;
    for (unsigned f = 0; f < frames; f++) {
        bool key = f % 60 == 59;
        ts += 3000;
        n = media_test_frame(buf, key, key ? 60000 : 7000, seq++);
        ring_writer_write(wr, 0, key ? RING_FRAME_KEY : 0, ts,
                          (uint32_t)pack_count(RING_CODEC_H264, buf, n, 1200), buf, n);
        if (f == 10) { /* after catch-up: measure steady state only */
            pk0 = ctl_read(&cnt->pkts_sent);
            rx0 = atomic_load(&mb_received);
            cpu = 0;
            wall0 = ctl_now_ns();
        }
        uint64_t c0 = mb_thread_cpu_ns();
        while (media_test_send_run(w))
            ;
        cpu += mb_thread_cpu_ns() - c0;
        /* Let the drain thread keep up (it shares two cores with everything else). */
        for (int i = 0; i < 200 && atomic_load(&mb_received) + 20000 < ctl_read(&cnt->pkts_sent);
             i++)
            usleep(1000);
    }
    uint64_t wall = ctl_now_ns() - wall0;
    usleep(100000);
    atomic_store(&mb_stop, true);
    pthread_join(th, NULL);
    uint64_t pk = ctl_read(&cnt->pkts_sent) - pk0, rx = atomic_load(&mb_received) - rx0;
    printf("{\"viewers\":%u,\"profile\":\"%s\",\"frames\":%u,\"pkts_sent\":%llu,"
           "\"pkts_received\":%llu,\"send_drops\":%llu,\"sendmmsg_calls\":%llu,"
           "\"gso\":%d,\"receivers_gro\":%s,\"cpu_us_per_pkt\":%.3f,\"wall_s\":%.2f,\"heap_bytes_"
           "per_viewer\":%.0f,"
           "\"record_bytes\":%zu}\n",
           viewers, profile == ESRTP_AEAD_AES_128_GCM ? "gcm" : "cm", frames - 11,
           (unsigned long long)pk, (unsigned long long)rx,
           (unsigned long long)ctl_read(&cnt->send_drops),
           (unsigned long long)media_test_batches(w), gso, mb_gro ? "true" : "false",
           pk ? (double)cpu / 1000.0 / (double)pk : 0.0, (double)wall / 1e9, per_viewer,
           sizeof(struct media_viewer));
    for (unsigned i = 0; i < viewers; i++)
        media_viewer_stop(w, &v[i]);
    media_worker_free(w);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    free(v);
    ring_writer_close(wr, true);
    ctl_free(&ctl);
    return 0;
}
