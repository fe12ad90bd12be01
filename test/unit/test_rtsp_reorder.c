/* SPDX-License-Identifier: MIT */
/* test_rtsp_reorder.c: the UDP reorder buffer (ingest/rtsp_reorder.c) and receiver reports
 * (ingest/rtsp_rtcp.c): in-order pass-through, swaps healed, gaps given up after the
 * window, duplicates, the 16-bit wrap, a restarted sender, the slots growing for a 20 Mbit/s
 * stream's 150 ms window (and not for 2 Mbit/s or a jump); RR fields against RFC 3550. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/rtsp_reorder.h"
#include "ingest/rtsp_rtcp.h"

#define MS 1000000ull

struct out {
    unsigned n;
    uint16_t seq[512];
};

static void on_emit(void *arg, const uint8_t *pkt, size_t len)
{
    struct out *o = arg;
    assert_int_equal(len, 20);
    assert_true(o->n < 512);
    o->seq[o->n++] = (uint16_t)(pkt[2] << 8 | pkt[3]);
}

struct fx {
    struct rtsp_reorder r;
    struct out o;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    rtsp_reorder_init(&f->r, 50 * MS, on_emit, &f->o);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    free(*state);
    return 0;
}

static void push(struct fx *f, uint16_t seq, uint64_t t)
{
    uint8_t p[20] = {0x80, 96, (uint8_t)(seq >> 8), (uint8_t)seq};
    rtsp_reorder_push(&f->r, p, sizeof(p), t);
}

static void expect(struct fx *f, const uint16_t *seqs, unsigned n)
{
    assert_int_equal(f->o.n, n);
    for (unsigned i = 0; i < n; i++)
        assert_int_equal(f->o.seq[i], seqs[i]);
}

static void test_in_order_and_swap(void **state)
{
    struct fx *f = *state;
    push(f, 10, 0);
    push(f, 11, 1 * MS);
    push(f, 13, 2 * MS); /* early */
    assert_int_equal(rtsp_reorder_deadline(&f->r), 52 * MS);
    push(f, 12, 3 * MS); /* the late one heals the swap */
    assert_int_equal(rtsp_reorder_deadline(&f->r), 0);
    push(f, 12, 4 * MS); /* duplicate */
    push(f, 9, 5 * MS);  /* late */
    const uint16_t want[] = {10, 11, 12, 13};
    expect(f, want, 4);
    assert_int_equal(f->r.late, 2);
    assert_int_equal(f->r.lost, 0);
}

static void test_gap_expires(void **state)
{
    struct fx *f = *state;
    push(f, 100, 0);
    push(f, 102, 10 * MS);
    push(f, 104, 20 * MS);
    rtsp_reorder_expire(&f->r, 59 * MS); /* not yet: 102 waits until 60 ms */
    assert_int_equal(f->o.n, 1);
    rtsp_reorder_expire(&f->r, 60 * MS);
    const uint16_t want[] = {100, 102, 104};
    expect(f, want, 3);
    assert_int_equal(f->r.lost, 2);
    push(f, 101, 61 * MS); /* too late now */
    push(f, 105, 62 * MS);
    assert_int_equal(f->o.n, 4);
    assert_int_equal(f->r.late, 1);
}

static void test_wrap_and_jumps(void **state)
{
    struct fx *f = *state;
    push(f, 65534, 0);
    push(f, 0, 1 * MS);
    push(f, 65535, 2 * MS);
    push(f, 1, 3 * MS);
    const uint16_t want[] = {65534, 65535, 0, 1};
    expect(f, want, 4);
    /* Far ahead (beyond the slots): everything held is released, then the new number. */
    push(f, 3, 4 * MS);
    push(f, 1000, 5 * MS);
    const uint16_t want2[] = {65534, 65535, 0, 1, 3, 1000};
    expect(f, want2, 6);
    /* A sender restart far behind is followed, not dropped as late forever. */
    push(f, 20000, 6 * MS);
    push(f, 20001, 7 * MS);
    assert_int_equal(f->o.n, 8);
    assert_int_equal(f->o.seq[7], 20001);
}

/* A 20 Mbit/s stream of 1200-byte packets (one every 480 us) through WHIP's 150 ms window. */
#define PKT_20M_NS 480000ull

static void wide_setup(struct fx *f)
{
    rtsp_reorder_init(&f->r, 150 * MS, on_emit, &f->o);
    assert_int_equal(f->r.slots, RTSP_REORDER_SLOTS);
    assert_int_equal(f->r.slots_max, 512);
}

/* Sequence number 1000 is missing; the 300 after it (144 ms of the stream) wait for it, which
 * arrives at 145 ms (a retransmission asked again): nothing is lost. 128 slots hold 61 ms. */
static void test_20mbps_gap_held(void **state)
{
    struct fx *f = *state;
    wide_setup(f);
    push(f, 999, 0);
    for (unsigned k = 1; k <= 300; k++)
        push(f, (uint16_t)(999 + k + 1), k * PKT_20M_NS);
    assert_int_equal(f->o.n, 1);
    assert_int_equal(f->r.lost, 0);
    assert_int_equal(f->r.slots, 512);
    assert_int_equal(rtsp_reorder_deadline(&f->r), PKT_20M_NS + 150 * MS);
    rtsp_reorder_expire(&f->r, 145 * MS);
    assert_int_equal(f->o.n, 1);
    push(f, 1000, 145 * MS);
    assert_int_equal(f->o.n, 302);
    for (unsigned i = 0; i < 302; i++)
        assert_int_equal(f->o.seq[i], 999 + i);
    assert_int_equal(f->r.lost, 0);
    assert_int_equal(rtsp_reorder_deadline(&f->r), 0);
}

/* Never filled, the same gap is held for the whole window, then given up. */
static void test_20mbps_gap_expires(void **state)
{
    struct fx *f = *state;
    wide_setup(f);
    push(f, 999, 0);
    unsigned k = 1;
    for (; k * PKT_20M_NS < 150 * MS; k++)
        push(f, (uint16_t)(999 + k + 1), k * PKT_20M_NS);
    assert_int_equal(f->o.n, 1);
    rtsp_reorder_expire(&f->r, PKT_20M_NS + 150 * MS - 1);
    assert_int_equal(f->o.n, 1);
    rtsp_reorder_expire(&f->r, PKT_20M_NS + 150 * MS);
    assert_int_equal(f->o.n, k);
    assert_int_equal(f->r.lost, 1);
}

/* 2 Mbit/s (a packet every 4.8 ms) with a gap every 50 packets: the first 128 slots do, and
 * no packet is written past them. A gap followed by a jump of 300 (a burst lost) does not grow
 * the slots: the jump is given up at once, as with 128 slots. */
static void test_slow_and_jumps_stay_small(void **state)
{
    struct fx *f = *state;
    wide_setup(f);
    uint16_t seq = 0;
    for (unsigned k = 0; k < 2000; k++, seq++) {
        if (k % 50 == 25)
            seq++; /* lost */
        push(f, seq, k * 10 * PKT_20M_NS);
        rtsp_reorder_expire(&f->r, k * 10 * PKT_20M_NS);
        f->o.n = 0;
    }
    assert_int_equal(f->r.slots, RTSP_REORDER_SLOTS);
    assert_int_equal(f->r.grown, 0);
    for (unsigned i = RTSP_REORDER_SLOTS; i < RTSP_REORDER_SLOTS_MAX; i++)
        assert_int_equal(f->r.slot[i].len, 0);  /* never written (calloc) */
    rtsp_reorder_expire(&f->r, 20 * MS * 1000); /* the last gap given up */
    uint64_t lost = f->r.lost;
    f->o.n = 0;
    push(f, seq, 20 * MS * 1000);
    push(f, (uint16_t)(seq + 2), 20 * MS * 1000 + 1);   /* seq + 1 missing */
    push(f, (uint16_t)(seq + 300), 20 * MS * 1000 + 2); /* and 296 more */
    assert_int_equal(f->r.slots, RTSP_REORDER_SLOTS);
    assert_int_equal(f->o.n, 3);
    assert_int_equal(f->r.lost, lost + 1 + 297);
}

static void test_receiver_report(void **state)
{
    (void)state;
    struct rtsp_rx_stats s;
    rtsp_rx_init(&s, 90000);
    uint8_t out[128];
    /* Before any packet: an RR without report blocks, plus SDES. */
    int n = rtsp_rr_build(&s, 0x11223344, "ringcast", out, sizeof(out), 0);
    assert_int_equal(n, 8 + 4 + 4 + 12);
    assert_int_equal(out[0], 0x80);
    assert_int_equal(out[1], 201);
    /* 10 packets sent, 2 lost (3 and 7), across the 16-bit wrap, 1 frame per 3000 ticks
     * arriving on time: zero jitter. */
    for (unsigned i = 0; i < 10; i++) {
        if (i == 3 || i == 7)
            continue;
        rtsp_rx_packet(&s, (uint16_t)(65530 + i), 3000 * i, 0xabcdef01, i * 1000000000ull / 30);
    }
    /* A sender report: NTP 0x0000AAAA_BBBB0000 -> LSR 0xAAAABBBB. */
    uint8_t sr[28] = {0x80, 200, 0, 6, 0xab, 0xcd, 0xef, 0x01, 0, 0, 0xaa, 0xaa, 0xbb, 0xbb};
    assert_int_equal(rtsp_rx_rtcp(&s, sr, sizeof(sr), 1000 * MS), 0);
    /* A report that does not fit is not sent: its interval is not over (the fraction below
     * would be 0). */
    assert_int_equal(rtsp_rr_build(&s, 0x11223344, "ringcast", out, 51, 1500 * MS), -ENOSPC);
    n = rtsp_rr_build(&s, 0x11223344, "ringcast", out, sizeof(out), 1500 * MS);
    assert_int_equal(n, 32 + 20);
    assert_int_equal(out[0], 0x81);
    assert_int_equal(out[3], 7);
    const uint8_t *b = out + 8;
    assert_int_equal((uint32_t)b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3], 0xabcdef01);
    assert_int_equal(b[4], 2 * 256 / 10);               /* fraction lost */
    assert_int_equal(b[5] << 16 | b[6] << 8 | b[7], 2); /* cumulative */
    uint32_t ext = (uint32_t)b[8] << 24 | b[9] << 16 | b[10] << 8 | b[11];
    assert_int_equal(ext, 65536 + 3); /* one wrap, highest seq 3 */
    assert_true((b[12] << 24 | b[13] << 16 | b[14] << 8 | b[15]) < 10);
    assert_int_equal((uint32_t)b[16] << 24 | b[17] << 16 | b[18] << 8 | b[19], 0xaaaabbbb);
    assert_int_equal((uint32_t)b[20] << 24 | b[21] << 16 | b[22] << 8 | b[23], 32768); /* 0.5 s */
    /* A truncated compound is refused, and space is checked. */
    assert_int_equal(rtsp_rx_rtcp(&s, sr, 20, 0), -EBADMSG);
    assert_int_equal(rtsp_rr_build(&s, 1, "ringcast", out, 40, 0), -ENOSPC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_in_order_and_swap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gap_expires, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrap_and_jumps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_20mbps_gap_held, setup, teardown),
        cmocka_unit_test_setup_teardown(test_20mbps_gap_expires, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slow_and_jumps_stay_small, setup, teardown),
        cmocka_unit_test(test_receiver_report),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
