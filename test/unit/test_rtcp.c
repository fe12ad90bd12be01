/* SPDX-License-Identifier: MIT */
/* test_rtcp.c: the RTCP codec (codec/rtcp.c). Parsing: compounds as browsers send them (RR,
 * generic NACK, PLI, FIR, transport-cc in one datagram: FIR and transport-cc must not derail
 * the walk), truncated and lying length and count fields, SRs as libre encodes them. Writing:
 * SR, RR, SDES (padding for every CNAME length), NACK and PLI as libre decodes them, read back
 * by our parser, and never a byte past the caller's capacity. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>

#include <cmocka.h>
#include <re.h>

#include "codec/rtcp.h"

struct seen {
    int sr, rr, nack, pli, fir;
    struct codec_rtcp_sr last_sr;
    struct codec_rtcp_rb last_rr;
    uint32_t nack_ssrc, pli_ssrc, fir_ssrc;
    uint16_t pid, blp;
    uint16_t lost[64]; /* every sequence number the NACKs flag, in order */
    unsigned n_lost;
};

static void on_sr(void *a, const struct codec_rtcp_sr *sr)
{
    struct seen *s = a;
    s->sr++;
    s->last_sr = *sr;
}
static void on_rr(void *a, const struct codec_rtcp_rb *rr)
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
    for (unsigned i = 0; i < 17 && s->n_lost < 64; i++)
        if (i == 0 || (blp & (1u << (i - 1))))
            s->lost[s->n_lost++] = (uint16_t)(pid + i);
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
static const struct codec_rtcp_handler H = {
    .sr = on_sr, .report = on_rr, .nack = on_nack, .pli = on_pli, .fir = on_fir};

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
    assert_int_equal(codec_rtcp_parse(compound, sizeof(compound), &H, &s), 5);
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
    assert_int_equal(codec_rtcp_parse(compound, 3, &H, &s), -EBADMSG);
    /* The first packet's length claims more than there is. */
    assert_int_equal(codec_rtcp_parse(compound, 20, &H, &s), -EBADMSG);
    /* Version 1. */
    uint8_t bad[sizeof(compound)];
    memcpy(bad, compound, sizeof(bad));
    bad[0] = 0x41;
    assert_int_equal(codec_rtcp_parse(bad, sizeof(bad), &H, &s), -EBADMSG);
    assert_int_equal(s.sr + s.rr + s.nack + s.pli + s.fir, 0);
    /* A truncated tail: what came before is reported. */
    memset(&s, 0, sizeof(s));
    assert_int_equal(codec_rtcp_parse(compound, sizeof(compound) - 4, &H, &s), 4);
    assert_int_equal(s.pli, 0);
    assert_int_equal(s.nack, 2);
    /* NACK claiming an FCI but carrying none; PLI with a short body. */
    const uint8_t nack0[] = {0x81, 205, 0, 2, 1, 1, 1, 1, 2, 2, 2, 2};
    memset(&s, 0, sizeof(s));
    assert_int_equal(codec_rtcp_parse(nack0, sizeof(nack0), &H, &s), 1);
    assert_int_equal(s.nack, 0);
    /* Zero-length packets are walked, one header each. */
    const uint8_t zeros[] = {0x80, 200, 0, 0, 0x80, 200, 0, 0};
    assert_int_equal(codec_rtcp_parse(zeros, sizeof(zeros), &H, &s), 2);
}

/* A PLI about 0x55555555 put after each short packet below: a parser that believed the short
 * packet's claims would read it (in bounds, so only the counts tell). */
#define PLI_AFTER 0x81, 206, 0, 2, 0xaa, 0xaa, 0xaa, 0xaa, 0x55, 0x55, 0x55, 0x55

static void expect_only_pli(const uint8_t *p, size_t len, int sr)
{
    struct seen s = {0};
    assert_int_equal(codec_rtcp_parse(p, len, &H, &s), 2);
    assert_int_equal(s.sr, sr);
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
    expect_only_pli(rr2, sizeof(rr2), 0);
    /* SR claiming one block in its 28 bytes of sender info (the sender info is whole, and
     * reported), and one shorter than those. */
    const uint8_t sr1[] = {0x81, 200, 0, 6, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0,        0,
                           0,    0,   0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, PLI_AFTER};
    expect_only_pli(sr1, sizeof(sr1), 1);
    const uint8_t sr0[] = {0x81, 200, 0, 1, 1, 1, 1, 1, PLI_AFTER};
    expect_only_pli(sr0, sizeof(sr0), 0);
    /* Feedback without its media SSRC (RFC 4585 6.1: 12 bytes at least). */
    const uint8_t nack8[] = {0x81, 205, 0, 1, 1, 1, 1, 1, PLI_AFTER};
    expect_only_pli(nack8, sizeof(nack8), 0);
    const uint8_t pli8[] = {0x81, 206, 0, 1, 1, 1, 1, 1, PLI_AFTER};
    expect_only_pli(pli8, sizeof(pli8), 0);
    /* FIR without an FCI entry (RFC 5104 4.3.1.2). */
    const uint8_t fir0[] = {0x84, 206, 0, 2, 1, 1, 1, 1, 0, 0, 0, 0, PLI_AFTER};
    expect_only_pli(fir0, sizeof(fir0), 0);
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
    assert_int_equal(codec_rtcp_parse(p, sizeof(p), &H, &s), 3);
    assert_int_equal(s.sr, 1);
    assert_int_equal(s.last_sr.ssrc, 0x01010101);
    assert_int_equal(s.last_sr.ntp_sec, 0xe0000001);
    assert_int_equal(s.last_sr.ntp_frac, 0);
    assert_int_equal(s.last_sr.rtp_ts, 0x1000);
    assert_int_equal(s.last_sr.psent, 9);
    assert_int_equal(s.last_sr.osent, 0x2000);
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

/* libre's decoder over a buffer we wrote: one message per call, in order. */
static struct rtcp_msg *libre_next(struct mbuf *mb)
{
    struct rtcp_msg *m = NULL;
    assert_int_equal(rtcp_decode(&m, mb), 0);
    return m;
}

/* A writer that fails for lack of room leaves every byte from cap on untouched. */
#define GUARD 0xee
static void assert_untouched(const uint8_t *out, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        assert_int_equal(out[i], GUARD);
}

/* SR parsed as libre encodes it (RFC 3550 6.4.1): LSR is the NTP time's middle 32 bits. */
static void test_sr_from_libre(void **state)
{
    (void)state;
    struct mbuf *mb = mbuf_alloc(128);
    assert_int_equal(rtcp_encode(mb, RTCP_SR, 0, (uint32_t)9, (uint32_t)0x11223344,
                                 (uint32_t)0x55667788, (uint32_t)1, (uint32_t)2, (uint32_t)3, NULL,
                                 NULL),
                     0);
    struct seen s = {0};
    assert_int_equal(codec_rtcp_parse(mb->buf, mb->end, &H, &s), 1);
    assert_int_equal(s.sr, 1);
    assert_int_equal(s.last_sr.ssrc, 9);
    assert_int_equal(codec_rtcp_ntp_mid(s.last_sr.ntp_sec, s.last_sr.ntp_frac), 0x33445566);
    assert_int_equal(s.last_sr.rtp_ts, 1);
    assert_int_equal(s.last_sr.psent, 2);
    assert_int_equal(s.last_sr.osent, 3);
    memset(&s, 0, sizeof(s));
    assert_int_equal(codec_rtcp_parse(mb->buf, mb->end - 1, &H, &s), -EBADMSG);
    assert_int_equal(s.sr, 0);
    const uint8_t rr[8] = {0x80, 201, 0, 1, 0, 0, 0, 1};
    assert_int_equal(codec_rtcp_parse(rr, sizeof(rr), &H, &s), 1);
    assert_int_equal(s.sr, 0);
    mem_deref(mb);
}

/* The egress's compound: an SR per track, one SDES with a CNAME chunk per track. */
static void test_write_sr_sdes(void **state)
{
    (void)state;
    const struct codec_rtcp_sr srs[2] = {
        {0x01020304, 0xe0000001, 0x80000000, 90000, 10, 12000},
        {0x0a0b0c0d, 0xe0000001, 0x80000000, 48000, 50, 4000},
    };
    const uint32_t ssrcs[2] = {srs[0].ssrc, srs[1].ssrc};
    uint8_t out[256];
    int len = 0;
    for (int i = 0; i < 2; i++) {
        int k = codec_rtcp_write_sr(out + len, sizeof(out) - (size_t)len, &srs[i]);
        assert_int_equal(k, 28);
        len += k;
    }
    int k = codec_rtcp_write_sdes(out + len, sizeof(out) - (size_t)len, ssrcs, 2, "rc-test");
    assert_int_equal(k, 4 + 2 * 16);
    len += k;

    struct mbuf mb = {.buf = out, .size = (size_t)len, .pos = 0, .end = (size_t)len};
    struct rtcp_msg *m = NULL;
    for (int i = 0; i < 2; i++) {
        m = libre_next(&mb);
        assert_int_equal(m->hdr.pt, RTCP_SR);
        assert_int_equal(m->hdr.count, 0);
        assert_int_equal(m->r.sr.ssrc, srs[i].ssrc);
        assert_int_equal(m->r.sr.ntp_sec, 0xe0000001);
        assert_int_equal(m->r.sr.ntp_frac, 0x80000000);
        assert_int_equal(m->r.sr.rtp_ts, srs[i].rtp_ts);
        assert_int_equal(m->r.sr.psent, srs[i].psent);
        assert_int_equal(m->r.sr.osent, srs[i].osent);
        m = mem_deref(m);
    }
    m = libre_next(&mb);
    assert_int_equal(m->hdr.pt, RTCP_SDES);
    assert_int_equal(m->hdr.count, 2);
    assert_int_equal(m->r.sdesv[1].src, 0x0a0b0c0d);
    assert_int_equal(m->r.sdesv[1].itemv[0].type, RTCP_SDES_CNAME);
    assert_int_equal(m->r.sdesv[1].itemv[0].length, 7);
    assert_memory_equal(m->r.sdesv[1].itemv[0].data, "rc-test", 7);
    m = mem_deref(m);
    assert_int_equal(mb.pos, (size_t)len);

    /* Our parser reads the sender info back. */
    struct seen s = {0};
    assert_int_equal(codec_rtcp_parse(out, (size_t)len, &H, &s), 3);
    assert_int_equal(s.sr, 2);
    assert_memory_equal(&s.last_sr, &srs[1], sizeof(srs[1]));

    memset(out, GUARD, sizeof(out));
    assert_int_equal(codec_rtcp_write_sr(out, 27, &srs[0]), -ENOSPC);
    assert_untouched(out, 0, sizeof(out));
    assert_int_equal(codec_rtcp_write_sdes(out, 35, ssrcs, 2, "rc-test"), -ENOSPC);
    assert_untouched(out, 0, sizeof(out));
    assert_int_equal(codec_rtcp_write_sdes(out, sizeof(out), ssrcs, 0, "rc-test"), -EINVAL);
    char big[257];
    memset(big, 'x', 256);
    big[256] = '\0';
    assert_int_equal(codec_rtcp_write_sdes(out, sizeof(out), ssrcs, 1, big), -EINVAL);
}

/* RFC 3550 6.5: after the CNAME text, 1..4 zero bytes (END, then padding) reach the next
 * 32-bit boundary, whatever the CNAME's length, up to the 255 bytes an item can hold. */
static void test_sdes_padding(void **state)
{
    (void)state;
    char cname[256];
    memset(cname, 'c', sizeof(cname));
    uint8_t out[4 + 4 + 2 + 255 + 4];
    const uint32_t ssrc = 0x5eed;
    for (size_t cn = 0; cn <= 255; cn++) {
        cname[cn] = '\0';
        memset(out, GUARD, sizeof(out));
        int len = codec_rtcp_write_sdes(out, sizeof(out), &ssrc, 1, cname);
        size_t pad = (size_t)len - (4 + 4 + 2 + cn);
        assert_true(len % 4 == 0 && pad >= 1 && pad <= 4);
        assert_int_equal(out[3], len / 4 - 1);
        for (size_t i = (size_t)len - pad; i < (size_t)len; i++)
            assert_int_equal(out[i], 0);
        assert_untouched(out, (size_t)len, sizeof(out));
        struct mbuf mb = {.buf = out, .size = (size_t)len, .pos = 0, .end = (size_t)len};
        struct rtcp_msg *m = libre_next(&mb);
        assert_int_equal(m->r.sdesv[0].src, ssrc);
        assert_int_equal(m->r.sdesv[0].n, 1);
        assert_int_equal(m->r.sdesv[0].itemv[0].type, RTCP_SDES_CNAME);
        assert_int_equal(m->r.sdesv[0].itemv[0].length, cn);
        assert_memory_equal(m->r.sdesv[0].itemv[0].data, cname, cn);
        assert_int_equal(mb.pos, (size_t)len);
        mem_deref(m);
        /* One byte short fails, and writes nothing. */
        memset(out, GUARD, sizeof(out));
        assert_int_equal(codec_rtcp_write_sdes(out, (size_t)len - 1, &ssrc, 1, cname), -ENOSPC);
        assert_untouched(out, 0, sizeof(out));
        cname[cn] = 'c';
    }
}

/* Report blocks (RFC 3550 6.4.2), the cumulative loss saturating at 24 bits either way. */
static void test_write_rr(void **state)
{
    (void)state;
    const struct codec_rtcp_rb rb[2] = {
        {.ssrc = 77,
         .fraction = 12,
         .lost = 0x1000000,
         .last_seq = 0x10005,
         .jitter = 9,
         .lsr = 0xdeadbeef,
         .dlsr = 65536},
        {.ssrc = 78, .fraction = 0, .lost = -0x1000000, .last_seq = 3, .jitter = 1},
    };
    uint8_t out[128];
    int len = codec_rtcp_write_rr(out, sizeof(out), 5, rb, 2);
    assert_int_equal(len, 8 + 2 * 24);
    struct mbuf mb = {.buf = out, .size = (size_t)len, .pos = 0, .end = (size_t)len};
    struct rtcp_msg *m = libre_next(&mb);
    assert_int_equal(m->hdr.pt, RTCP_RR);
    assert_int_equal(m->hdr.count, 2);
    assert_int_equal(m->r.rr.ssrc, 5);
    assert_int_equal(m->r.rr.rrv[0].ssrc, 77);
    assert_int_equal(m->r.rr.rrv[0].fraction, 12);
    assert_int_equal(m->r.rr.rrv[0].lost, 0x7fffff);
    assert_int_equal(m->r.rr.rrv[0].last_seq, 0x10005);
    assert_int_equal(m->r.rr.rrv[0].jitter, 9);
    assert_int_equal(m->r.rr.rrv[0].lsr, 0xdeadbeef);
    assert_int_equal(m->r.rr.rrv[0].dlsr, 65536);
    assert_int_equal(m->r.rr.rrv[1].ssrc, 78);
    assert_int_equal(m->r.rr.rrv[1].lost, -0x800000);
    mem_deref(m);
    struct seen s = {0};
    assert_int_equal(codec_rtcp_parse(out, (size_t)len, &H, &s), 1);
    assert_int_equal(s.rr, 2);
    assert_int_equal(s.last_rr.lost, -0x800000);
    assert_int_equal(s.last_rr.last_seq, 3);

    /* None yet: the 8-byte RR of a receiver that has heard nothing. */
    assert_int_equal(codec_rtcp_write_rr(out, sizeof(out), 5, NULL, 0), 8);
    assert_int_equal(out[0], 0x80);
    assert_int_equal(out[1], 201);
    assert_int_equal(out[3], 1);

    memset(out, GUARD, sizeof(out));
    assert_int_equal(codec_rtcp_write_rr(out, 31, 5, rb, 1), -ENOSPC);
    assert_untouched(out, 0, sizeof(out));
    assert_int_equal(codec_rtcp_write_rr(out, sizeof(out), 5, rb, 32), -EINVAL);
}

/* Generic NACK (RFC 4585 6.2.1): sequence numbers packed into PID + BLP entries, across the
 * 16-bit wrap, as libre and our parser read them. */
static void test_write_nack(void **state)
{
    (void)state;
    const uint16_t seqs[] = {100, 101, 116, 117, 65535, 3};
    uint8_t out[64];
    int len = codec_rtcp_write_nack(out, sizeof(out), 0x1234, 0xabcd, seqs, 6);
    assert_int_equal(len, 12 + 3 * 4);
    struct mbuf mb = {.buf = out, .size = (size_t)len, .pos = 0, .end = (size_t)len};
    struct rtcp_msg *m = libre_next(&mb);
    assert_int_equal(m->hdr.pt, RTCP_RTPFB);
    assert_int_equal(m->hdr.count, RTCP_RTPFB_GNACK);
    assert_int_equal(m->r.fb.ssrc_packet, 0x1234);
    assert_int_equal(m->r.fb.ssrc_media, 0xabcd);
    /* 100 + {101, 116}; 117; 65535 + {3} across the wrap. */
    assert_int_equal(m->r.fb.n, 3);
    assert_int_equal(m->r.fb.fci.gnackv[0].pid, 100);
    assert_int_equal(m->r.fb.fci.gnackv[0].blp, (1 << 0) | (1 << 15));
    assert_int_equal(m->r.fb.fci.gnackv[1].pid, 117);
    assert_int_equal(m->r.fb.fci.gnackv[1].blp, 0);
    assert_int_equal(m->r.fb.fci.gnackv[2].pid, 65535);
    assert_int_equal(m->r.fb.fci.gnackv[2].blp, 1 << 3);
    assert_int_equal(mb.pos, (size_t)len);
    mem_deref(m);
    struct seen s = {0};
    assert_int_equal(codec_rtcp_parse(out, (size_t)len, &H, &s), 1);
    assert_int_equal(s.nack, 3);
    assert_int_equal(s.nack_ssrc, 0xabcd);
    assert_int_equal(s.n_lost, 6);
    assert_memory_equal(s.lost, seqs, sizeof(seqs));

    /* Room for the header and two of the three entries: nothing past cap is written. */
    memset(out, GUARD, sizeof(out));
    assert_int_equal(codec_rtcp_write_nack(out, 20, 1, 2, seqs, 6), -ENOSPC);
    assert_untouched(out, 20, sizeof(out));
    memset(out, GUARD, sizeof(out));
    assert_int_equal(codec_rtcp_write_nack(out, 15, 1, 2, seqs, 1), -ENOSPC);
    assert_untouched(out, 15, sizeof(out));
    assert_int_equal(codec_rtcp_write_nack(out, sizeof(out), 1, 2, seqs, 0), -EINVAL);
}

/* PLI (RFC 4585 6.3.1): feedback without FCI. */
static void test_write_pli(void **state)
{
    (void)state;
    uint8_t out[16];
    int len = codec_rtcp_write_pli(out, sizeof(out), 0x1234, 0xabcd);
    assert_int_equal(len, 12);
    struct mbuf mb = {.buf = out, .size = (size_t)len, .pos = 0, .end = (size_t)len};
    struct rtcp_msg *m = libre_next(&mb);
    assert_int_equal(m->hdr.pt, RTCP_PSFB);
    assert_int_equal(m->hdr.count, RTCP_PSFB_PLI);
    assert_int_equal(m->r.fb.ssrc_packet, 0x1234);
    assert_int_equal(m->r.fb.ssrc_media, 0xabcd);
    assert_int_equal(mb.pos, (size_t)len);
    mem_deref(m);
    struct seen s = {0};
    assert_int_equal(codec_rtcp_parse(out, (size_t)len, &H, &s), 1);
    assert_int_equal(s.pli, 1);
    assert_int_equal(s.pli_ssrc, 0xabcd);
    memset(out, GUARD, sizeof(out));
    assert_int_equal(codec_rtcp_write_pli(out, 11, 1, 2), -ENOSPC);
    assert_untouched(out, 0, sizeof(out));
}

/* RFC 5761 4: RTCP types 192..223 on a port shared with RTP. */
static void test_is_rtcp(void **state)
{
    (void)state;
    uint8_t p[8] = {0x80, 200};
    assert_true(codec_rtcp_is_rtcp(p, 8));
    assert_false(codec_rtcp_is_rtcp(p, 7));
    p[1] = 223;
    assert_true(codec_rtcp_is_rtcp(p, 8));
    p[1] = 224; /* RTP, payload type 96 with the marker */
    assert_false(codec_rtcp_is_rtcp(p, 8));
    p[1] = 191;
    assert_false(codec_rtcp_is_rtcp(p, 8));
}

static void test_rtt(void **state)
{
    (void)state;
    struct codec_rtcp_rb rr = {.lsr = 0x00010000, .dlsr = 0x00008000}; /* sent at 1 s, held 0.5 s */
    assert_int_equal(codec_rtcp_rtt_us(&rr, 0x00018000), 0);           /* no time in flight */
    assert_int_equal(codec_rtcp_rtt_us(&rr, 0x0001c000), 250000);
    rr.lsr = 0;
    assert_int_equal(codec_rtcp_rtt_us(&rr, 0x0001c000), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compound),      cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_short_packets), cmocka_unit_test(test_sr_blocks_and_fci),
        cmocka_unit_test(test_sr_from_libre), cmocka_unit_test(test_write_sr_sdes),
        cmocka_unit_test(test_sdes_padding),  cmocka_unit_test(test_write_rr),
        cmocka_unit_test(test_write_nack),    cmocka_unit_test(test_write_pli),
        cmocka_unit_test(test_is_rtcp),       cmocka_unit_test(test_rtt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
