/* test_icelite.c: STUN Binding handling of the ICE-lite agent against the RFC 5769 2.1 test
 * vector (USERNAME, MESSAGE-INTEGRITY, FINGERPRINT), requests built with libre (USE-CANDIDATE),
 * and every refusal: wrong key, unknown ufrag, bad fingerprint, truncation, other methods. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>
#include <re.h>

#include "egress/icelite.h"

/* RFC 5769 2.1: sample request, username "evtj:h6vY", password "VOkJxbRl1RmTxUk/WvJxBt". */
static const uint8_t rfc5769_req[] = {
    0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73,
    0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,
    0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36, 0x00, 0x06, 0x00, 0x09,
    0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76, 0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14,
    0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49,
    0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf};
static const char rfc_pwd[] = "VOkJxbRl1RmTxUk/WvJxBt";

struct lookup_log {
    char local[64], remote[64];
    int calls;
};
static struct lookup_log lg;
static int session_token;

static const char *lookup(void *arg, const char *local, const char *remote, void **session)
{
    const char *pwd = arg;
    lg.calls++;
    snprintf(lg.local, sizeof(lg.local), "%s", local);
    snprintf(lg.remote, sizeof(lg.remote), "%s", remote);
    *session = &session_token;
    return strcmp(local, "evtj") == 0 ? pwd : NULL;
}

static struct sockaddr_in src(void)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(32853)};
    inet_pton(AF_INET, "192.0.2.1", &sin.sin_addr);
    return sin;
}

static void rfc5769_vector(void **state)
{
    (void)state;
    struct sockaddr_in from = src();
    struct icelite_result r;
    memset(&lg, 0, sizeof(lg));
    assert_int_equal(icelite_handle(rfc5769_req, sizeof(rfc5769_req), (struct sockaddr *)&from,
                                    lookup, (void *)rfc_pwd, &r),
                     0);
    assert_string_equal(lg.local, "evtj");
    assert_string_equal(lg.remote, "h6vY");
    assert_ptr_equal(r.session, &session_token);
    assert_int_equal(r.use_candidate, 0);
    /* The response decodes, authenticates with the same password, keeps the transaction id
     * and maps the source address (RFC 5389 15.2). */
    struct mbuf *mb = mbuf_alloc(r.response_len);
    mbuf_write_mem(mb, r.response, r.response_len);
    mb->pos = 0;
    struct stun_msg *msg = NULL;
    assert_int_equal(stun_msg_decode(&msg, mb, NULL), 0);
    assert_int_equal(stun_msg_class(msg), STUN_CLASS_SUCCESS_RESP);
    assert_int_equal(stun_msg_method(msg), STUN_METHOD_BINDING);
    assert_memory_equal(stun_msg_tid(msg), rfc5769_req + 8, 12);
    assert_int_equal(stun_msg_chk_mi(msg, (const uint8_t *)rfc_pwd, strlen(rfc_pwd)), 0);
    assert_int_equal(stun_msg_chk_fingerprint(msg), 0);
    struct stun_attr *xma = stun_msg_attr(msg, STUN_ATTR_XOR_MAPPED_ADDR);
    assert_non_null(xma);
    struct sa want;
    sa_set_sa(&want, (struct sockaddr *)&from);
    assert_true(sa_cmp(&xma->v.xor_mapped_addr, &want, SA_ALL));
    mem_deref(msg);
    mem_deref(mb);
}

static void refusals(void **state)
{
    (void)state;
    struct sockaddr_in from = src();
    struct icelite_result r;
    uint8_t buf[sizeof(rfc5769_req)];
    /* Wrong password. */
    assert_int_equal(icelite_handle(rfc5769_req, sizeof(rfc5769_req), (struct sockaddr *)&from,
                                    lookup, "not-the-password-12345", &r),
                     -EACCES);
    /* A flipped bit in the body breaks the fingerprint. */
    memcpy(buf, rfc5769_req, sizeof(buf));
    buf[30] ^= 1;
    assert_int_equal(
        icelite_handle(buf, sizeof(buf), (struct sockaddr *)&from, lookup, (void *)rfc_pwd, &r),
        -EBADMSG);
    /* Truncated, odd length, too short, not STUN. */
    assert_int_equal(
        icelite_handle(rfc5769_req, 60, (struct sockaddr *)&from, lookup, (void *)rfc_pwd, &r),
        -EBADMSG);
    assert_int_equal(
        icelite_handle(rfc5769_req, 23, (struct sockaddr *)&from, lookup, (void *)rfc_pwd, &r),
        -EBADMSG);
    assert_int_equal(
        icelite_handle(rfc5769_req, 4, (struct sockaddr *)&from, lookup, (void *)rfc_pwd, &r),
        -EBADMSG);
    memcpy(buf, rfc5769_req, sizeof(buf));
    buf[0] = 0x80;
    assert_int_equal(
        icelite_handle(buf, sizeof(buf), (struct sockaddr *)&from, lookup, (void *)rfc_pwd, &r),
        -EBADMSG);
}

/* Builds a request with libre: USERNAME user, optional USE-CANDIDATE, MI with key. */
static size_t build(uint8_t *out, size_t size, uint16_t method, uint8_t cls, const char *user,
                    const char *key, int use_candidate)
{
    struct mbuf *mb = mbuf_alloc(256);
    uint8_t tid[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    uint32_t prio = 12345;
    uint8_t dummy = 0; /* libre drops attributes with a NULL value (libre notes 3) */
    int err = use_candidate ? stun_msg_encode(mb, method, cls, tid, NULL, (const uint8_t *)key,
                                              strlen(key), true, 0, 3, STUN_ATTR_USERNAME, user,
                                              STUN_ATTR_PRIORITY, &prio, STUN_ATTR_USE_CAND, &dummy)
                            : stun_msg_encode(mb, method, cls, tid, NULL, (const uint8_t *)key,
                                              strlen(key), true, 0, 2, STUN_ATTR_USERNAME, user,
                                              STUN_ATTR_PRIORITY, &prio);
    assert_int_equal(err, 0);
    assert_true(mb->end <= size);
    memcpy(out, mb->buf, mb->end);
    size_t n = mb->end;
    mem_deref(mb);
    return n;
}

static void use_candidate_and_ufrags(void **state)
{
    (void)state;
    struct sockaddr_in from = src();
    struct icelite_result r;
    uint8_t buf[256];
    size_t n =
        build(buf, sizeof(buf), STUN_METHOD_BINDING, STUN_CLASS_REQUEST, "evtj:peer", rfc_pwd, 1);
    assert_int_equal(icelite_handle(buf, n, (struct sockaddr *)&from, lookup, (void *)rfc_pwd, &r),
                     0);
    assert_int_equal(r.use_candidate, 1);
    n = build(buf, sizeof(buf), STUN_METHOD_BINDING, STUN_CLASS_REQUEST, "nobody:peer", rfc_pwd, 0);
    assert_int_equal(icelite_handle(buf, n, (struct sockaddr *)&from, lookup, (void *)rfc_pwd, &r),
                     -ENOENT);
    n = build(buf, sizeof(buf), STUN_METHOD_BINDING, STUN_CLASS_REQUEST, "evtj", rfc_pwd, 0);
    assert_int_equal(icelite_handle(buf, n, (struct sockaddr *)&from, lookup, (void *)rfc_pwd, &r),
                     -EACCES);
    n = build(buf, sizeof(buf), STUN_METHOD_BINDING, STUN_CLASS_INDICATION, "evtj:peer", rfc_pwd,
              0);
    assert_int_equal(icelite_handle(buf, n, (struct sockaddr *)&from, lookup, (void *)rfc_pwd, &r),
                     -ENOTSUP);
    n = build(buf, sizeof(buf), STUN_METHOD_ALLOCATE, STUN_CLASS_REQUEST, "evtj:peer", rfc_pwd, 0);
    assert_int_equal(icelite_handle(buf, n, (struct sockaddr *)&from, lookup, (void *)rfc_pwd, &r),
                     -ENOTSUP);
}

static void random_strings(void **state)
{
    (void)state;
    char a[25], b[25];
    assert_int_equal(icelite_random_string(a, 24), 0);
    assert_int_equal(icelite_random_string(b, 24), 0);
    assert_int_equal(strlen(a), 24);
    assert_string_not_equal(a, b);
    for (size_t i = 0; i < 24; i++)
        assert_non_null(
            strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", a[i]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc5769_vector),
        cmocka_unit_test(refusals),
        cmocka_unit_test(use_candidate_and_ufrags),
        cmocka_unit_test(random_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
