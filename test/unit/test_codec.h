/* SPDX-License-Identifier: MIT */
/* test_codec.h: helpers shared by the codec unit tests: building RTP packets by hand and
 * capturing the access units a depacketizer delivers. Header-only: each test is one binary. */
#ifndef RINGCAST_TEST_CODEC_H
#define RINGCAST_TEST_CODEC_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "codec/depack.h"

#define TC_MAX_UNITS 16
#define TC_UNIT_MAX  (256 * 1024)

struct tc_capture {
    int n;
    struct {
        uint8_t data[TC_UNIT_MAX];
        size_t len;
        uint32_t ts;
        bool key;
    } u[TC_MAX_UNITS];
};

static inline void tc_on_au(void *arg, const struct depack_au *au)
{
    struct tc_capture *c = arg;
    assert_true(c->n < TC_MAX_UNITS);
    assert_true(au->len <= TC_UNIT_MAX);
    memcpy(c->u[c->n].data, au->data, au->len);
    c->u[c->n].len = au->len;
    c->u[c->n].ts = au->ts;
    c->u[c->n].key = au->key;
    c->n++;
}

/* Writes a 12-byte RTP header (PT 96, SSRC 0x11223344) and the payload into out. */
static inline size_t tc_rtp(uint8_t *out, uint16_t seq, uint32_t ts, bool marker,
                            const uint8_t *payload, size_t len)
{
    out[0] = 0x80;
    out[1] = (uint8_t)((marker ? 0x80 : 0) | 96);
    out[2] = (uint8_t)(seq >> 8);
    out[3] = (uint8_t)seq;
    out[4] = (uint8_t)(ts >> 24);
    out[5] = (uint8_t)(ts >> 16);
    out[6] = (uint8_t)(ts >> 8);
    out[7] = (uint8_t)ts;
    memcpy(out + 8, "\x11\x22\x33\x44", 4);
    memcpy(out + 12, payload, len);
    return 12 + len;
}

/* Pushes one packet built from payload; asserts the push result. */
static inline void tc_push(struct depack *d, uint16_t seq, uint32_t ts, bool marker,
                           const uint8_t *payload, size_t len, int want)
{
    static uint8_t pkt[70000];
    size_t n = tc_rtp(pkt, seq, ts, marker, payload, len);
    assert_int_equal(depack_push(d, pkt, n), want);
}

/* Fills buf with a deterministic pseudo-random pattern free of start codes (no zero bytes). */
static inline void tc_fill(uint8_t *buf, size_t len, uint32_t seed)
{
    for (size_t i = 0; i < len; i++) {
        seed = seed * 1103515245u + 12345u;
        buf[i] = (uint8_t)(1 + (seed >> 16) % 255);
    }
}

/* A depacketizer and the capture of what it delivers: the state of each depack test. */
struct tc_fixture {
    struct depack *d;
    struct tc_capture cap;
};

static inline int tc_fixture_setup(void **state, uint32_t codec)
{
    struct tc_fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    assert_int_equal(depack_create(&f->d, codec, 1 << 20, tc_on_au, &f->cap), 0);
    *state = f;
    return 0;
}

static inline int tc_fixture_teardown(void **state)
{
    struct tc_fixture *f = *state;
    depack_free(f->d);
    free(f);
    return 0;
}

#endif
