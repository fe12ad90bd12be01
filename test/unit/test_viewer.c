/* SPDX-License-Identifier: MIT */
/* test_viewer.c: the session table's candidate pairs: an address belongs to one session
 * (another session's check from it is refused), a session keeps at most VIEWER_MAX_PAIRS and
 * replaces the least recently checked one but never its bound pair or the one carrying the
 * handshake, and releasing a session frees its addresses for others. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "egress/viewer.h"

static union viewer_addr addr4(unsigned port)
{
    union viewer_addr a = {.in = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)}};
    inet_pton(AF_INET, "198.51.100.7", &a.in.sin_addr);
    return a;
}

static union viewer_addr addr6(unsigned port)
{
    union viewer_addr a = {.in6 = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)}};
    inet_pton(AF_INET6, "2001:db8::7", &a.in6.sin6_addr);
    return a;
}

static void address_belongs_to_one_session(void **state)
{
    (void)state;
    struct viewer_table t;
    assert_int_equal(viewer_table_init(&t, 8), 0);
    struct viewer *a = viewer_alloc(&t, 0), *b = viewer_alloc(&t, 0);
    assert_non_null(a);
    assert_non_null(b);
    union viewer_addr x = addr4(5000), y = addr6(5000);
    assert_int_equal(viewer_pair_checked(&t, a, &x.sa, 0, 1), 0);
    assert_int_equal(viewer_pair_checked(&t, a, &y.sa, 0, 2), 1);
    /* b cannot claim a's addresses, and a's own checks refresh the same pair. */
    assert_int_equal(viewer_pair_checked(&t, b, &x.sa, 0, 3), -EADDRINUSE);
    assert_int_equal(viewer_pair_checked(&t, b, &y.sa, 0, 3), -EADDRINUSE);
    assert_int_equal(viewer_pair_checked(&t, a, &x.sa, htonl(0x7f000002), 4), 0);
    assert_int_equal(a->pairs[0].check_ns, 4);
    assert_int_equal(a->pairs[0].local, htonl(0x7f000002));
    int pair = -1;
    assert_ptr_equal(viewer_by_addr(&t, &y.sa, &pair), a);
    assert_int_equal(pair, 1);
    union viewer_addr other_port = addr4(5001);
    assert_null(viewer_by_addr(&t, &other_port.sa, &pair));
    /* Once a ends, its addresses are free. */
    viewer_release(&t, a);
    assert_null(viewer_by_addr(&t, &x.sa, &pair));
    assert_int_equal(viewer_pair_checked(&t, b, &x.sa, 0, 5), 0);
    assert_ptr_equal(viewer_by_addr(&t, &x.sa, &pair), b);
    struct sockaddr unix_addr = {.sa_family = AF_UNIX};
    assert_int_equal(viewer_pair_checked(&t, b, &unix_addr, 0, 6), -EAFNOSUPPORT);
    viewer_table_free(&t);
}

static void pairs_replaced_but_bound_and_handshake_kept(void **state)
{
    (void)state;
    struct viewer_table t;
    assert_int_equal(viewer_table_init(&t, 2), 0);
    struct viewer *v = viewer_alloc(&t, 0);
    assert_int_equal(v->bound, -1);
    assert_int_equal(v->dtls_pair, -1);
    for (unsigned i = 0; i < VIEWER_MAX_PAIRS; i++) {
        union viewer_addr a = addr4(6000 + i);
        assert_int_equal(viewer_pair_checked(&t, v, &a.sa, 0, 10 + i), (int)i);
    }
    v->bound = 0; /* the oldest two are protected */
    v->dtls_pair = 1;
    union viewer_addr n1 = addr4(7000), n2 = addr4(7001), n3 = addr4(7002);
    assert_int_equal(viewer_pair_checked(&t, v, &n1.sa, 0, 20), 2); /* oldest unprotected */
    assert_int_equal(viewer_pair_checked(&t, v, &n2.sa, 0, 21), 3);
    assert_int_equal(viewer_pair_checked(&t, v, &n3.sa, 0, 22), 2);
    int pair;
    union viewer_addr gone = addr4(6002), kept0 = addr4(6000), kept1 = addr4(6001);
    assert_null(viewer_by_addr(&t, &gone.sa, &pair));
    assert_null(viewer_by_addr(&t, &n1.sa, &pair));
    assert_ptr_equal(viewer_by_addr(&t, &kept0.sa, &pair), v);
    assert_ptr_equal(viewer_by_addr(&t, &kept1.sa, &pair), v);
    assert_ptr_equal(viewer_by_addr(&t, &n3.sa, &pair), v);
    assert_int_equal(pair, 2);
    /* A consent request outstanding on a replaced pair is forgotten with it. */
    v->probe_pair = 3;
    union viewer_addr n4 = addr4(7003);
    assert_int_equal(viewer_pair_checked(&t, v, &n4.sa, 0, 23), 3);
    assert_int_equal(v->probe_pair, -1);
    viewer_release(&t, v);
    for (unsigned i = 0; i < t.mask + 1; i++)
        assert_int_equal(t.by_addr[i], -1);
    viewer_table_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(address_belongs_to_one_session),
        cmocka_unit_test(pairs_replaced_but_bound_and_handshake_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
