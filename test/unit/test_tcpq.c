/* SPDX-License-Identifier: MIT */
/* test_tcpq.c: an ICE-TCP connection's send queue (egress/tcpq) over a socketpair: a reader
 * that stops reading costs at most the queue's capacity (pushes are refused, writes never
 * block), what the reader gets is the pushed packets in RFC 4571 frames in order (across
 * chunks and partial writes), a roll-back or an unpush never removes a written byte, a closed
 * peer fails the queue, and memory follows what is queued: an idle or drained queue holds no
 * chunk, chunks are recycled through the pool, which keeps only so many. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "egress/tcpq.h"
#include "rtc/tcpframe.h"

/* Two and a half chunks: packets straddle chunks' ends. */
#define CAP (TCPQ_CHUNK * 5 / 2)

struct pair {
    int fd[2];
    struct tcpq_pool pool;
    struct tcpq q;
};

static int setup(void **state)
{
    static struct pair p;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, p.fd), 0);
    int small = 4096;
    (void)setsockopt(p.fd[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
    (void)setsockopt(p.fd[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    p.pool = (struct tcpq_pool){0};
    tcpq_init(&p.q, p.fd[0], CAP, &p.pool);
    *state = &p;
    return 0;
}

static int teardown(void **state)
{
    struct pair *p = *state;
    tcpq_free(&p->q);
    assert_int_equal(p->pool.held, 0); /* every chunk came back */
    assert_true(p->pool.n_free <= TCPQ_POOL_KEEP);
    tcpq_pool_free(&p->pool);
    close(p->fd[0]);
    close(p->fd[1]);
    return 0;
}

static void packet(uint8_t *b, size_t len, unsigned n)
{
    for (size_t i = 0; i < len; i++)
        b[i] = (uint8_t)(n + i);
}

/* Reads everything available and checks it is frames of packet(n, ...) for n = *next... */
static size_t drain(struct pair *p, unsigned *next, size_t len)
{
    static struct tcpframe_rx rx;
    size_t frames = 0;
    for (;;) {
        size_t room;
        uint8_t *space = tcpframe_rx_space(&rx, &room);
        ssize_t n = read(p->fd[1], space, room);
        if (n <= 0)
            break;
        tcpframe_rx_fill(&rx, (size_t)n);
        const uint8_t *f;
        size_t flen;
        while (tcpframe_rx_next(&rx, &f, &flen) > 0) {
            uint8_t want[1500];
            packet(want, len, *next);
            assert_int_equal(flen, len);
            assert_memory_equal(f, want, len);
            (*next)++;
            frames++;
        }
    }
    return frames;
}

static void test_stalled_reader_is_bounded(void **state)
{
    struct pair *p = *state;
    uint8_t b[1200];
    unsigned pushed = 0, refused = 0;
    /* The reader never reads: the socket's buffers fill, then the queue, then pushes fail. */
    for (unsigned i = 0; i < 1000; i++) {
        packet(b, sizeof(b), pushed);
        int rc = tcpq_push(&p->q, b, sizeof(b));
        if (rc == -ENOBUFS) {
            refused++;
        } else {
            assert_int_equal(rc, 0);
            pushed++;
        }
        assert_true(tcpq_queued(&p->q) <= CAP);
        /* Its memory: the chunks of the cap, one more where the head is mid-chunk. */
        assert_true(tcpq_bytes_held(&p->q) <= (CAP / TCPQ_CHUNK + 2) * sizeof(struct tcpq_chunk));
        assert_true(tcpq_write(&p->q) >= 0); /* never blocks, never fails */
    }
    assert_true(refused > 900);
    assert_true(tcpq_queued(&p->q) > CAP - sizeof(b) - TCPFRAME_HDR);
    /* The reader comes back: it gets every accepted packet, in order, framed. */
    unsigned next = 0;
    size_t got = 0;
    for (int round = 0; round < 100 && got < pushed; round++) {
        got += drain(p, &next, sizeof(b));
        assert_true(tcpq_write(&p->q) >= 0);
    }
    assert_int_equal(got, pushed);
    assert_int_equal(tcpq_queued(&p->q), 0);
    assert_int_equal(tcpq_bytes_held(&p->q), 0); /* drained: its chunks are the pool's again */
    assert_int_equal(p->pool.held, 0);
}

static void test_wraps_in_order(void **state)
{
    struct pair *p = *state;
    uint8_t b[700];
    unsigned pushed = 0, next = 0;
    /* Pushes and drains in turns so the ring's head walks round it several times. */
    for (int round = 0; round < 40; round++) {
        for (int k = 0; k < 5; k++) {
            packet(b, sizeof(b), pushed);
            if (tcpq_push(&p->q, b, sizeof(b)) == 0)
                pushed++;
        }
        assert_true(tcpq_write(&p->q) >= 0);
        (void)drain(p, &next, sizeof(b));
    }
    for (int i = 0; i < 20 && next < pushed; i++) {
        assert_true(tcpq_write(&p->q) >= 0);
        (void)drain(p, &next, sizeof(b));
    }
    assert_int_equal(next, pushed);
}

static void test_rollback_keeps_written_bytes(void **state)
{
    struct pair *p = *state;
    uint8_t b[1000];
    unsigned pushed = 0, next = 0;
    /* Until a write leaves bytes queued: the socket took part of a frame. */
    int left = 0;
    while (left == 0) {
        packet(b, sizeof(b), pushed);
        assert_int_equal(tcpq_push(&p->q, b, sizeof(b)), 0);
        pushed++;
        left = tcpq_write(&p->q);
        assert_true(left >= 0);
    }
    packet(b, sizeof(b), pushed);
    assert_int_equal(tcpq_push(&p->q, b, sizeof(b)), 0);
    assert_int_equal(tcpq_push(&p->q, b, sizeof(b)), 0);
    tcpq_unpush(&p->q, sizeof(b)); /* the last one taken back */
    tcpq_rollback(&p->q);          /* and the one before: back to what was queued */
    assert_int_equal(tcpq_queued(&p->q), (uint32_t)left);
    /* The chunks they had taken went back: left bytes from head need no more. */
    assert_int_equal(p->q.chunks, (p->q.head + (uint32_t)left + TCPQ_CHUNK - 1) / TCPQ_CHUNK);
    for (int i = 0; i < 100 && next < pushed; i++) {
        (void)drain(p, &next, sizeof(b));
        assert_true(tcpq_write(&p->q) >= 0);
    }
    assert_int_equal(next, pushed); /* every frame whole, none lost or doubled */
}

/* A queue that is idle or drained holds no memory; one that keeps up holds one chunk while a
 * frame is queued, the same chunk each time (recycled, never allocated per packet). */
static void test_memory_follows_content(void **state)
{
    struct pair *p = *state;
    uint8_t b[1200];
    unsigned pushed = 0, next = 0;
    assert_int_equal(tcpq_bytes_held(&p->q), 0);
    for (int frame = 0; frame < 50; frame++) {
        for (int k = 0; k < 3; k++) {
            packet(b, sizeof(b), pushed++);
            assert_int_equal(tcpq_push(&p->q, b, sizeof(b)), 0);
        }
        assert_int_equal(tcpq_bytes_held(&p->q), sizeof(struct tcpq_chunk));
        for (int i = 0; i < 20 && tcpq_queued(&p->q); i++) {
            assert_true(tcpq_write(&p->q) >= 0);
            (void)drain(p, &next, sizeof(b));
        }
        assert_int_equal(tcpq_queued(&p->q), 0);
        assert_int_equal(tcpq_bytes_held(&p->q), 0);
        assert_int_equal(p->pool.held, 0);
        assert_int_equal(p->pool.n_free, 1); /* the one chunk, every time */
    }
    (void)drain(p, &next, sizeof(b));
    assert_int_equal(next, pushed);
}

/* Many queues each holding a little: a chunk each while they hold bytes, then the pool keeps
 * TCPQ_POOL_KEEP chunks for the next pushes and frees the others. */
static void test_pool_keeps_few(void **state)
{
    (void)state;
    enum { N = TCPQ_POOL_KEEP * 3 };
    static struct tcpq q[N];
    struct tcpq_pool pool = {0};
    uint8_t b[100] = {0};
    for (int i = 0; i < N; i++) {
        tcpq_init(&q[i], -1, TCPQ_CAP, &pool);
        assert_int_equal(tcpq_push(&q[i], b, sizeof(b)), 0);
    }
    assert_int_equal(pool.held, N);
    for (int i = 0; i < N; i++)
        tcpq_free(&q[i]);
    assert_int_equal(pool.held, 0);
    assert_int_equal(pool.n_free, TCPQ_POOL_KEEP);
    tcpq_pool_free(&pool);
    assert_int_equal(pool.n_free, 0);
}

static void test_closed_peer_fails(void **state)
{
    struct pair *p = *state;
    uint8_t b[100] = {0};
    close(p->fd[1]);
    p->fd[1] = socket(AF_UNIX, SOCK_STREAM, 0); /* for teardown */
    assert_int_equal(tcpq_push(&p->q, b, sizeof(b)), 0);
    assert_int_equal(tcpq_write(&p->q), -EPIPE);
    assert_int_equal(tcpq_push(&p->q, b, sizeof(b)), -EPIPE);
    assert_int_equal(tcpq_queued(&p->q), 0);
    assert_int_equal(tcpq_push(&p->q, b, 70000), -EPIPE);
}

/* RTSP: a response as it is, interleaved frames ('$', channel, length), and an unpush that
 * takes back a whole interleaved frame (its 4-byte header, not RFC 4571's 2). */
static void test_interleaved_and_raw(void **state)
{
    struct pair *p = *state;
    uint8_t b[300];
    packet(b, sizeof(b), 7);
    static const char resp[] = "RTSP/1.0 200 OK\r\nCSeq: 5\r\n\r\n";
    assert_int_equal(tcpq_push_raw(&p->q, (const uint8_t *)resp, sizeof(resp) - 1), 0);
    assert_int_equal(tcpq_push_interleaved(&p->q, 2, b, sizeof(b)), 0);
    assert_int_equal(tcpq_push_interleaved(&p->q, 3, b, 100), 0);
    tcpq_unpush(&p->q, 100);
    assert_int_equal(tcpq_push_interleaved(&p->q, 3, b, 20), 0);
    assert_int_equal(tcpq_push_interleaved(&p->q, 0, b, 70000), -EMSGSIZE);
    assert_int_equal(tcpq_write(&p->q), 0);
    uint8_t got[1024];
    ssize_t n = read(p->fd[1], got, sizeof(got));
    size_t want = sizeof(resp) - 1 + 4 + sizeof(b) + 4 + 20;
    assert_int_equal(n, (ssize_t)want);
    assert_memory_equal(got, resp, sizeof(resp) - 1);
    const uint8_t *f = got + sizeof(resp) - 1;
    assert_memory_equal(f, "$\x02\x01\x2c", 4);
    assert_memory_equal(f + 4, b, sizeof(b));
    assert_memory_equal(f + 4 + sizeof(b), "$\x03\x00\x14", 4);
    assert_memory_equal(f + 8 + sizeof(b), b, 20);
}

static void test_frame_parse(void **state)
{
    (void)state;
    const uint8_t zero[] = {0, 0, 1}, huge[] = {0x06, 0x41}, part[] = {0, 3, 1, 2},
                  whole[] = {0, 3, 1, 2, 3, 9};
    assert_int_equal(tcpframe_parse(zero, sizeof(zero)), -EBADMSG);
    assert_int_equal(tcpframe_parse(huge, sizeof(huge)), -EBADMSG); /* 1601 */
    assert_int_equal(tcpframe_parse(part, 1), 0);
    assert_int_equal(tcpframe_parse(part, sizeof(part)), 0);
    assert_int_equal(tcpframe_parse(whole, sizeof(whole)), 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_stalled_reader_is_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wraps_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_keeps_written_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memory_follows_content, setup, teardown),
        cmocka_unit_test(test_pool_keeps_few),
        cmocka_unit_test_setup_teardown(test_closed_peer_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interleaved_and_raw, setup, teardown),
        cmocka_unit_test(test_frame_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
