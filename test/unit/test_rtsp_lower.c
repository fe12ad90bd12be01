/* SPDX-License-Identifier: MIT */
/* test_rtsp_lower.c: the RTSP client's choice of lower transport (ingest/rtsp_lower.c):
 * auto starts with TCP, falls back to UDP on a refusal and from UDP to TCP on a refusal or
 * no RTP, each transport once per attempt, the choice kept across attempts; tcp and udp
 * never change. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ingest/rtsp_lower.h"

static void test_auto_starts_tcp(void **state)
{
    (void)state;
    struct rtsp_lower l;
    rtsp_lower_init(&l, TRANSPORT_AUTO);
    assert_int_equal(l.cur, TRANSPORT_TCP);
    rtsp_lower_init(&l, TRANSPORT_UDP);
    assert_int_equal(l.cur, TRANSPORT_UDP);
    rtsp_lower_init(&l, TRANSPORT_TCP);
    assert_int_equal(l.cur, TRANSPORT_TCP);
}

/* A camera answering 461 to interleaved SETUP: UDP next; a reconnect starts with UDP. */
static void test_tcp_refused_then_udp_kept(void **state)
{
    (void)state;
    struct rtsp_lower l;
    rtsp_lower_init(&l, TRANSPORT_AUTO);
    assert_true(rtsp_lower_next(&l, RTSP_LOWER_REFUSED));
    assert_int_equal(l.cur, TRANSPORT_UDP);
    rtsp_lower_attempt(&l);
    assert_int_equal(l.cur, TRANSPORT_UDP);
}

/* UDP behind a firewall: no RTP moves to TCP, which then stays. */
static void test_udp_no_rtp_then_tcp(void **state)
{
    (void)state;
    struct rtsp_lower l;
    rtsp_lower_init(&l, TRANSPORT_AUTO);
    assert_true(rtsp_lower_next(&l, RTSP_LOWER_REFUSED)); /* TCP refused once */
    rtsp_lower_attempt(&l);                               /* a reconnect later */
    assert_true(rtsp_lower_next(&l, RTSP_LOWER_NO_RTP));
    assert_int_equal(l.cur, TRANSPORT_TCP);
    rtsp_lower_attempt(&l);
    assert_int_equal(l.cur, TRANSPORT_TCP);
    /* A server that later refuses TCP gets UDP again. */
    assert_true(rtsp_lower_next(&l, RTSP_LOWER_REFUSED));
    assert_int_equal(l.cur, TRANSPORT_UDP);
}

/* Silence over TCP is the server's: switching to UDP would not help. */
static void test_tcp_no_rtp_stays(void **state)
{
    (void)state;
    struct rtsp_lower l;
    rtsp_lower_init(&l, TRANSPORT_AUTO);
    assert_false(rtsp_lower_next(&l, RTSP_LOWER_NO_RTP));
    assert_int_equal(l.cur, TRANSPORT_TCP);
    /* and it did not count as TCP failing: a refusal still leads to UDP */
    assert_true(rtsp_lower_next(&l, RTSP_LOWER_REFUSED));
    assert_int_equal(l.cur, TRANSPORT_UDP);
}

/* Each transport fails once per attempt: no ping-pong with a server that refuses both, or
 * refuses TCP while its UDP never arrives. A new attempt may try both again. */
static void test_once_per_attempt(void **state)
{
    (void)state;
    struct rtsp_lower l;
    rtsp_lower_init(&l, TRANSPORT_AUTO);
    assert_true(rtsp_lower_next(&l, RTSP_LOWER_REFUSED));
    assert_false(rtsp_lower_next(&l, RTSP_LOWER_REFUSED));
    assert_int_equal(l.cur, TRANSPORT_UDP);
    assert_false(rtsp_lower_next(&l, RTSP_LOWER_NO_RTP));
    assert_int_equal(l.cur, TRANSPORT_UDP);
    rtsp_lower_attempt(&l);
    assert_true(rtsp_lower_next(&l, RTSP_LOWER_NO_RTP));
    assert_int_equal(l.cur, TRANSPORT_TCP);
    assert_false(rtsp_lower_next(&l, RTSP_LOWER_REFUSED));
    assert_int_equal(l.cur, TRANSPORT_TCP);
}

/* transport = tcp or udp forces one: nothing makes it change. */
static void test_forced_never_changes(void **state)
{
    (void)state;
    static const enum config_transport forced[] = {TRANSPORT_TCP, TRANSPORT_UDP};
    static const enum rtsp_lower_event events[] = {RTSP_LOWER_REFUSED, RTSP_LOWER_NO_RTP};
    for (unsigned i = 0; i < 2; i++) {
        struct rtsp_lower l;
        rtsp_lower_init(&l, forced[i]);
        for (unsigned k = 0; k < 4; k++) {
            assert_false(rtsp_lower_next(&l, events[k % 2]));
            assert_int_equal(l.cur, forced[i]);
            rtsp_lower_attempt(&l);
        }
    }
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(rtsp_lower_name(TRANSPORT_TCP), "TCP");
    assert_string_equal(rtsp_lower_name(TRANSPORT_UDP), "UDP");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auto_starts_tcp),
        cmocka_unit_test(test_tcp_refused_then_udp_kept),
        cmocka_unit_test(test_udp_no_rtp_then_tcp),
        cmocka_unit_test(test_tcp_no_rtp_stays),
        cmocka_unit_test(test_once_per_attempt),
        cmocka_unit_test(test_forced_never_changes),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
