/* SPDX-License-Identifier: MIT */
/* test_rtcp.c: the egress RTCP parser on compounds as browsers send them (RR, generic NACK,
 * PLI, FIR, transport-cc in one datagram: FIR and transport-cc must not derail the walk),
 * truncated and lying length and count fields, and our SR + SDES as libre decodes it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>

#include <cmocka.h>
#include <re.h>

#include "egress/rtcp.h"

struct seen {
    int rr, nack, pli, fir;
    struct ertcp_rr last_rr;
    uint32_t nack_ssrc, pli_ssrc, fir_ssrc;
    uint16_t pid, blp;
};

static void on_rr(void *a, const struct ertcp_rr *rr)
{
    struct seen *s = a;
    s->rr++;
    s->last_rr = *rr;
}
static void on_nack(void *a, uint32_t ssrc, uint16_t pid, uint16_t blp)
{
    struct seen *s = a;
    s->nack++;
    s->nack_ssrc = ssrc;
    s->pid = pid;
    s->blp = blp;
}
static void on_pli(void *a, uint32_t ssrc)
{
    struct seen *s = a;
    s->pli++;
    s->pli_ssrc = ssrc;
}
static void on_fir(void *a, uint32_t ssrc)
{
    struct seen *s = a;
    s->fir++;
    s->fir_ssrc = ssrc;
}
static const struct ertcp_handler H = {on_rr, on_nack, on_pli, on_fir};

/* RR (RFC 3550 6.4.2) with one block, FIR (RFC 5104 4.3.1), transport-cc (fmt 15, opaque
 * to us), generic NACK (RFC 4585 6.2.1) with two FCI entries, PLI (6.3.1). */
static const uint8_t compound[] = {
    0x81, 201,  0,    7,    0xaa, 0xaa, 0xaa, 0xaa, /* RR from 0xaaaaaaaa */
    0x11, 0x22, 0x33, 0x44, 25,   0xff, 0xff, 0xfe, /* about 0x11223344 */
    0,    0,    0x12, 0x34, 0,    0,    0,    90,   0x56, 0x78, 0x9a, 0xbc,
    0,    1,    0,    0,                                                    /* jitter, LSR, DLSR */
    0x84, 206,  0,    4,    0xaa, 0xaa, 0xaa, 0xaa, 0,    0,    0,    0,    /* FIR */
    0x11, 0x22, 0x33, 0x44, 7,    0,    0,    0,                            /* FCI: SSRC, seq nr */
    0x8f, 205,  0,    5,    0xaa, 0xaa, 0xaa, 0xaa, 0x11, 0x22, 0x33, 0x44, /* transport-cc */
    0,    1,    0,    1,    0,    0,    0,    0x20, 0x20, 0x01, 0x04, 0,
    0x81, 205,  0,    4,    0xaa, 0xaa, 0xaa, 0xaa, 0x11, 0x22, 0x33, 0x44, /* NACK */
    0x01, 0x00, 0x80, 0x11, 0x02, 0x00, 0x00, 0x00, 0x81, 206,  0,    2,
    0xaa, 0xaa, 0xaa, 0xaa, 0x11, 0x22, 0x33, 0x44, /* PLI */
};

static void test_compound(void **state)
{
    (void)state;
    struct seen s = {0};
    assert_int_equal(ertcp_parse(compound, sizeof(compound), &H, &s), 5);
    assert_int_equal(s.rr, 1);
    assert_int_equal(s.last_rr.ssrc, 0x11223344);
    assert_int_equal(s.last_rr.fraction, 25);
    assert_int_equal(s.last_rr.lost, -2);
    assert_int_equal(s.last_rr.last_seq, 0x1234);
    assert_int_equal(s.last_rr.jitter, 90);
    assert_int_equal(s.last_rr.lsr, 0x56789abc);
    assert_int_equal(s.last_rr.dlsr, 0x10000);
    assert_int_equal(s.fir, 1);
    assert_int_equal(s.fir_ssrc, 0x11223344);
    assert_int_equal(s.nack, 2); /* two FCI entries, the last one reported */
    assert_int_equal(s.nack_ssrc, 0x11223344);
    assert_int_equal(s.pid, 0x0200);
    assert_int_equal(s.blp, 0);
    assert_int_equal(s.pli, 1);
    assert_int_equal(s.pli_ssrc, 0x11223344);
}

static void test_malformed(void **state)
{
    (void)state;
    struct seen s = {0};
    assert_int_equal(ertcp_parse(compound, 3, &H, &s), -EBADMSG);
    /* The first packet's length claims more than there is. */
    assert_int_equal(ertcp_parse(compound, 20, &H, &s), -EBADMSG);
    /* Version 1. */
    uint8_t bad[sizeof(compound)];
    memcpy(bad, compound, sizeof(bad));
    bad[0] = 0x41;
    assert_int_equal(ertcp_parse(bad, sizeof(bad), &H, &s), -EBADMSG);
    assert_int_equal(s.rr + s.nack + s.pli + s.fir, 0);
    /* A truncated tail: what came before is reported. */
    memset(&s, 0, sizeof(s));
    assert_int_equal(ertcp_parse(compound, sizeof(compound) - 4, &H, &s), 4);
    assert_int_equal(s.pli, 0);
    assert_int_equal(s.nack, 2);
    /* NACK claiming an FCI but carrying none; PLI with a short body. */
    const uint8_t nack0[] = {0x81, 205, 0, 2, 1, 1, 1, 1, 2, 2, 2, 2};
    memset(&s, 0, sizeof(s));
    assert_int_equal(ertcp_parse(nack0, sizeof(nack0), &H, &s), 1);
    assert_int_equal(s.nack, 0);
    /* Zero-length packets are walked, one header each. */
    const uint8_t zeros[] = {0x80, 200, 0, 0, 0x80, 200, 0, 0};
    assert_int_equal(ertcp_parse(zeros, sizeof(zeros), &H, &s), 2);
}

/* A PLI about 0x55555555 put after each short packet below: a parser that believed the short
 * packet's claims would read it (in bounds, so only the counts tell). */
#define PLI_AFTER 0x81, 206, 0, 2, 0xaa, 0xaa, 0xaa, 0xaa, 0x55, 0x55, 0x55, 0x55

static void expect_only_pli(const uint8_t *p, size_t len)
{
    struct seen s = {0};
    assert_int_equal(ertcp_parse(p, len, &H, &s), 2);
    assert_int_equal(s.rr + s.nack + s.fir, 0);
    assert_int_equal(s.pli, 1);
    assert_int_equal(s.pli_ssrc, 0x55555555);
}

static void test_short_packets(void **state)
{
    (void)state;
    /* RR claiming two report blocks with room for one (RFC 3550 6.4.2). */
    const uint8_t rr2[] = {0x82, 201, 0, 7, 1, 1, 1, 1, 0x11, 0x22, 0x33,
                           0x44, 0,   0, 0, 0, 0, 0, 0, 0,    0,    0,
                           0,    0,   0, 0, 0, 0, 0, 0, 0,    0,    PLI_AFTER};
    expect_only_pli(rr2, sizeof(rr2));
    /* SR claiming one block in its 28 bytes of sender info, and one shorter than those. */
    const uint8_t sr1[] = {0x81, 200, 0, 6, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0,        0,
                           0,    0,   0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, PLI_AFTER};
    expect_only_pli(sr1, sizeof(sr1));
    const uint8_t sr0[] = {0x81, 200, 0, 1, 1, 1, 1, 1, PLI_AFTER};
    expect_only_pli(sr0, sizeof(sr0));
    /* Feedback without its media SSRC (RFC 4585 6.1: 12 bytes at least). */
    const uint8_t nack8[] = {0x81, 205, 0, 1, 1, 1, 1, 1, PLI_AFTER};
    expect_only_pli(nack8, sizeof(nack8));
    const uint8_t pli8[] = {0x81, 206, 0, 1, 1, 1, 1, 1, PLI_AFTER};
    expect_only_pli(pli8, sizeof(pli8));
    /* FIR without an FCI entry (RFC 5104 4.3.1.2). */
    const uint8_t fir0[] = {0x84, 206, 0, 2, 1, 1, 1, 1, 0, 0, 0, 0, PLI_AFTER};
    expect_only_pli(fir0, sizeof(fir0));
}

/* SR report blocks start after the 20 bytes of sender info (RFC 3550 6.4.1); every NACK FCI
 * entry is reported; feedback of other types (REMB, transport-cc) is not. */
static void test_sr_blocks_and_fci(void **state)
{
    (void)state;
    const uint8_t p[] = {
        0x81, 200,  0,    12,   1,    1,    1,    1,    0xe0, 0,    0, 1, /* SR, NTP */
        0,    0,    0,    0,    0,    0,    0x10, 0,    0,    0,    0, 9, /* RTP ts, psent */
        0,    0,    0x20, 0,    0x11, 0x22, 0x33, 0x44, 3,    0,    0, 7, /* osent; block */
        0,    1,    0,    5,    0,    0,    0,    4,    0xab, 0xcd, 0, 0,
        0,    0,    0x80, 0,    0x81, 205,  0,    5,    1,    1,    1, 1, /* NACK, 3 FCI */
        0x11, 0x22, 0x33, 0x44, 0,    10,   0,    0,    0,    20,   0, 0,
        0,    30,   0x80, 1,    0x8f, 206,  0,    2,    1,    1,    1, 1, /* REMB-like */
        0,    0,    0,    0,
    };
    struct seen s = {0};
    assert_int_equal(ertcp_parse(p, sizeof(p), &H, &s), 3);
    assert_int_equal(s.rr, 1);
    assert_int_equal(s.last_rr.ssrc, 0x11223344);
    assert_int_equal(s.last_rr.fraction, 3);
    assert_int_equal(s.last_rr.lost, 7);
    assert_int_equal(s.last_rr.last_seq, 0x10005);
    assert_int_equal(s.last_rr.jitter, 4);
    assert_int_equal(s.last_rr.lsr, 0xabcd0000);
    assert_int_equal(s.last_rr.dlsr, 0x8000);
    assert_int_equal(s.nack, 3);
    assert_int_equal(s.pid, 30);
    assert_int_equal(s.blp, 0x8001);
    assert_int_equal(s.pli + s.fir, 0);
}

static void test_sr(void **state)
{
    (void)state;
    struct ertcp_sr srs[2] = {{0x01020304, 90000, 10, 12000}, {0x0a0b0c0d, 48000, 50, 4000}};
    uint8_t out[256];
    int len = ertcp_build_sr(out, sizeof(out), srs, 2, 0xe0000001, 0x80000000, "rc-test");
    assert_true(len > 0);
    assert_int_equal(len % 4, 0);
    assert_int_equal(ertcp_build_sr(out, 40, srs, 2, 1, 2, "rc-test"), -ENOSPC);

    struct mbuf mb = {.buf = out, .size = (size_t)len, .pos = 0, .end = (size_t)len};
    struct rtcp_msg *m = NULL;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(rtcp_decode(&m, &mb), 0);
        assert_int_equal(m->hdr.pt, RTCP_SR);
        assert_int_equal(m->r.sr.ssrc, srs[i].ssrc);
        assert_int_equal(m->r.sr.ntp_sec, 0xe0000001);
        assert_int_equal(m->r.sr.ntp_frac, 0x80000000);
        assert_int_equal(m->r.sr.rtp_ts, srs[i].rtp_ts);
        assert_int_equal(m->r.sr.psent, srs[i].psent);
        assert_int_equal(m->r.sr.osent, srs[i].osent);
        m = mem_deref(m);
    }
    assert_int_equal(rtcp_decode(&m, &mb), 0);
    assert_int_equal(m->hdr.pt, RTCP_SDES);
    assert_int_equal(m->hdr.count, 2);
    assert_int_equal(m->r.sdesv[1].src, 0x0a0b0c0d);
    assert_int_equal(m->r.sdesv[1].itemv[0].type, RTCP_SDES_CNAME);
    assert_int_equal(m->r.sdesv[1].itemv[0].length, 7);
    assert_memory_equal(m->r.sdesv[1].itemv[0].data, "rc-test", 7);
    m = mem_deref(m);
    assert_int_equal(mb.pos, (size_t)len);
}

static void test_rtt(void **state)
{
    (void)state;
    struct ertcp_rr rr = {.lsr = 0x00010000, .dlsr = 0x00008000}; /* sent at 1 s, held 0.5 s */
    assert_int_equal(ertcp_rtt_us(&rr, 0x00018000), 0);           /* no time in flight */
    assert_int_equal(ertcp_rtt_us(&rr, 0x0001c000), 250000);
    rr.lsr = 0;
    assert_int_equal(ertcp_rtt_us(&rr, 0x0001c000), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compound),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_short_packets),
        cmocka_unit_test(test_sr_blocks_and_fci),
        cmocka_unit_test(test_sr),
        cmocka_unit_test(test_rtt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
