/* SPDX-License-Identifier: MIT */
/* test_icelite.c: STUN Binding handling of the ICE-lite agent against the RFC 5769 vectors
 * (2.1 request; 2.2/2.3 XOR-MAPPED-ADDRESS and FINGERPRINT), requests built with libre
 * (USE-CANDIDATE), browser-like attribute sets, and every refusal: wrong key, unknown ufrag,
 * bad fingerprint, truncation, other methods, and each framing rule of the parser on messages
 * built byte by byte here (sealed with libre's HMAC and a bitwise CRC-32 checked by libre). */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>
#include <re.h>

#include "rtc/icelite.h"

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

/* RFC 5769 2.2 and 2.3: the responses to that request (SOFTWARE "test vector") mapping
 * 192.0.2.1:32853 and [2001:db8:1234:5678:11:2233:4455:6677]:32853. */
static const uint8_t rfc5769_resp4[] = {
    0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
    0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
    0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3, 0x8c, 0x74, 0x89, 0xf9,
    0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7, 0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96};
static const uint8_t rfc5769_resp6[] = {
    0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
    0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa,
    0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9, 0x00, 0x08, 0x00, 0x14,
    0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1, 0x17, 0x84, 0xc9, 0x7c, 0x82, 0x92, 0xc2, 0x75,
    0xbf, 0xe3, 0xed, 0x41, 0x80, 0x28, 0x00, 0x04, 0xc8, 0xfb, 0x0b, 0x4c};
#define RFC5769_XMA4_AT 36 /* offsets of XOR-MAPPED-ADDRESS in those */
#define RFC5769_XMA6_AT 36

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

/* libre, as an independent decoder, reads the response: Binding success, the request's
 * transaction id, MESSAGE-INTEGRITY under the password, FINGERPRINT, and the source address;
 * and its XOR-MAPPED-ADDRESS is byte for byte the RFC 5769 one (xma, xma_len bytes). */
static void check_response(const struct icelite_result *r, const struct sockaddr *from,
                           const uint8_t *xma, size_t xma_len)
{
    assert_int_equal(r->response_len, 20 + xma_len + 24 + 8);
    assert_memory_equal(r->response + 20, xma, xma_len);
    struct mbuf *mb = mbuf_alloc(r->response_len);
    mbuf_write_mem(mb, r->response, r->response_len);
    mb->pos = 0;
    struct stun_msg *msg = NULL;
    assert_int_equal(stun_msg_decode(&msg, mb, NULL), 0);
    assert_int_equal(stun_msg_class(msg), STUN_CLASS_SUCCESS_RESP);
    assert_int_equal(stun_msg_method(msg), STUN_METHOD_BINDING);
    assert_memory_equal(stun_msg_tid(msg), rfc5769_req + 8, 12);
    assert_int_equal(stun_msg_chk_mi(msg, (const uint8_t *)rfc_pwd, strlen(rfc_pwd)), 0);
    assert_int_equal(stun_msg_chk_fingerprint(msg), 0);
    struct stun_attr *xa = stun_msg_attr(msg, STUN_ATTR_XOR_MAPPED_ADDR);
    assert_non_null(xa);
    struct sa want;
    sa_set_sa(&want, from);
    assert_true(sa_cmp(&xa->v.xor_mapped_addr, &want, SA_ALL));
    mem_deref(msg);
    mem_deref(mb);
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
    check_response(&r, (struct sockaddr *)&from, rfc5769_resp4 + RFC5769_XMA4_AT, 12);
}

/* The same request from IPv6: RFC 5769 2.3's XOR-MAPPED-ADDRESS (address XORed with cookie
 * and transaction id). */
static void rfc5769_vector_ipv6(void **state)
{
    (void)state;
    struct sockaddr_in6 from = {.sin6_family = AF_INET6, .sin6_port = htons(32853)};
    inet_pton(AF_INET6, "2001:db8:1234:5678:11:2233:4455:6677", &from.sin6_addr);
    struct icelite_result r;
    assert_int_equal(icelite_handle(rfc5769_req, sizeof(rfc5769_req), (struct sockaddr *)&from,
                                    lookup, (void *)rfc_pwd, &r),
                     0);
    check_response(&r, (struct sockaddr *)&from, rfc5769_resp6 + RFC5769_XMA6_AT, 24);
    /* Neither a request nor another family. */
    struct sockaddr unix_src = {.sa_family = AF_UNIX};
    assert_int_equal(
        icelite_handle(rfc5769_req, sizeof(rfc5769_req), &unix_src, lookup, (void *)rfc_pwd, &r),
        -EAFNOSUPPORT);
}

/* The RFC's own responses carry FINGERPRINTs we did not compute: they must verify (and the
 * message then be refused as not a request), and fail once a bit flips. */
static void rfc5769_foreign_fingerprints(void **state)
{
    (void)state;
    struct sockaddr_in from = src();
    struct icelite_result r;
    const uint8_t *v[] = {rfc5769_resp4, rfc5769_resp6};
    size_t n[] = {sizeof(rfc5769_resp4), sizeof(rfc5769_resp6)};
    for (int i = 0; i < 2; i++) {
        uint8_t buf[128];
        memcpy(buf, v[i], n[i]);
        assert_int_equal(
            icelite_handle(buf, n[i], (struct sockaddr *)&from, lookup, (void *)rfc_pwd, &r),
            -ENOTSUP);
        buf[n[i] - 1] ^= 0x80;
        assert_int_equal(
            icelite_handle(buf, n[i], (struct sockaddr *)&from, lookup, (void *)rfc_pwd, &r),
            -EBADMSG);
    }
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

/* ---- messages built byte by byte, for the framing rules libre's encoder cannot break ---- */

struct msg {
    uint8_t b[1024]; /* room past the message: a parser must not read there */
    size_t n;
};

/* CRC-32 bit by bit (RFC 1952 8), independent of the table in the code under test. */
static uint32_t crc32_bitwise(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
    }
    return ~c;
}

static void put16(uint8_t *o, size_t v)
{
    o[0] = (uint8_t)(v >> 8);
    o[1] = (uint8_t)v;
}

/* A FINGERPRINT attribute at o for the message m[0..o) as its header now stands. */
static void put_fp(uint8_t *m, size_t o, size_t len)
{
    uint32_t c = crc32_bitwise(m, o) ^ 0x5354554eu;
    put16(m + o, 0x8028);
    put16(m + o + 2, len);
    put16(m + o + 4, c >> 16);
    put16(m + o + 6, c & 0xffff);
}

static void m_start(struct msg *m, uint16_t type, uint32_t cookie)
{
    memset(m, 0, sizeof(*m));
    put16(m->b, type);
    m->b[4] = (uint8_t)(cookie >> 24);
    m->b[5] = (uint8_t)(cookie >> 16);
    m->b[6] = (uint8_t)(cookie >> 8);
    m->b[7] = (uint8_t)cookie;
    for (int i = 0; i < 12; i++)
        m->b[8 + i] = (uint8_t)(0x40 + i);
    m->n = 20;
}

/* Appends an attribute (value zero-padded to 4 bytes); the header length follows. */
static void m_attr(struct msg *m, uint16_t type, const void *v, size_t len)
{
    put16(m->b + m->n, type);
    put16(m->b + m->n + 2, len);
    if (len)
        memcpy(m->b + m->n + 4, v, len);
    m->n += 4 + ((len + 3) & ~(size_t)3);
    put16(m->b + 2, m->n - 20);
}

/* MESSAGE-INTEGRITY over the message so far (RFC 5389 15.4), with libre's HMAC-SHA1. */
static void m_mi(struct msg *m, const char *key)
{
    uint8_t mac[20];
    put16(m->b + 2, m->n + 24 - 20);
    hmac_sha1((const uint8_t *)key, strlen(key), m->b, m->n, mac, sizeof(mac));
    m_attr(m, STUN_ATTR_MSG_INTEGRITY, mac, sizeof(mac));
}

/* FINGERPRINT (RFC 5389 15.5) with the header length counting `after` more bytes behind it. */
static void m_fp(struct msg *m, size_t after)
{
    put16(m->b + 2, m->n + 8 + after - 20);
    put_fp(m->b, m->n, 4);
    m->n += 8;
}

static const uint32_t prio = 0x6e0001ff;

/* A request as a browser sends it: Chrome's GOOG-NETWORK-INFO, ICE-CONTROLLING, USE-CANDIDATE,
 * PRIORITY (Firefox: the same without 0xc057); extra, when set, goes before MI. */
static void m_request(struct msg *m, const char *user, uint16_t extra)
{
    static const uint8_t tie[8] = {1, 2, 3, 4, 5, 6, 7, 8}, net[4] = {0, 1, 0, 10};
    m_start(m, 0x0001, 0x2112a442);
    m_attr(m, STUN_ATTR_USERNAME, user, strlen(user));
    m_attr(m, 0xc057, net, sizeof(net));
    m_attr(m, STUN_ATTR_CONTROLLING, tie, sizeof(tie));
    m_attr(m, STUN_ATTR_USE_CAND, NULL, 0);
    m_attr(m, STUN_ATTR_PRIORITY, &prio, 4);
    if (extra)
        m_attr(m, extra, &prio, 4);
    m_mi(m, rfc_pwd);
}

static int handle_len(const struct msg *m, size_t len, struct icelite_result *r)
{
    struct sockaddr_in from = src();
    return icelite_handle(m->b, len, (struct sockaddr *)&from, lookup, (void *)rfc_pwd, r);
}

static int handle(const struct msg *m, struct icelite_result *r)
{
    return handle_len(m, m->n, r);
}

/* The builder agrees with libre (so the cases below fail for the reason they name), and
 * browser-style requests are answered, with USE-CANDIDATE seen. */
static void built_requests(void **state)
{
    (void)state;
    struct msg m;
    struct icelite_result r;
    m_request(&m, "evtj:h6vY", 0);
    m_fp(&m, 0);
    struct mbuf *mb = mbuf_alloc(m.n);
    mbuf_write_mem(mb, m.b, m.n);
    mb->pos = 0;
    struct stun_msg *msg = NULL;
    assert_int_equal(stun_msg_decode(&msg, mb, NULL), 0);
    assert_int_equal(stun_msg_chk_mi(msg, (const uint8_t *)rfc_pwd, strlen(rfc_pwd)), 0);
    assert_int_equal(stun_msg_chk_fingerprint(msg), 0);
    mem_deref(msg);
    mem_deref(mb);
    assert_int_equal(handle(&m, &r), 0);
    assert_int_equal(r.use_candidate, 1);
    /* A comprehension-optional type we do not know is ignored. */
    m_request(&m, "evtj:h6vY", 0xc0de);
    m_fp(&m, 0);
    assert_int_equal(handle(&m, &r), 0);
}

static void framing(void **state)
{
    (void)state;
    struct msg m;
    struct icelite_result r;
    /* Header length beyond the datagram (RFC 5389 6: it counts exactly the rest). */
    m_request(&m, "evtj:h6vY", 0);
    m_fp(&m, 4);
    assert_int_equal(handle(&m, &r), -EBADMSG);
    /* No magic cookie (an RFC 3489 message). */
    m_start(&m, 0x0001, 0x2112a443);
    m_attr(&m, STUN_ATTR_USERNAME, "evtj:h6vY", 9);
    m_mi(&m, rfc_pwd);
    m_fp(&m, 0);
    assert_int_equal(handle(&m, &r), -EBADMSG);
    /* An attribute after FINGERPRINT, which must come last (15.5). */
    m_request(&m, "evtj:h6vY", 0);
    m_fp(&m, 8);
    m_attr(&m, 0x8022, "junk", 4);
    assert_int_equal(handle(&m, &r), -EBADMSG);
    /* A FINGERPRINT header in the last 4 bytes, its value (the right CRC) past the end. */
    m_request(&m, "evtj:h6vY", 0);
    put16(m.b + 2, m.n + 4 - 20);
    put_fp(m.b, m.n, 4);
    assert_int_equal(handle_len(&m, m.n + 4, &r), -EBADMSG);
    /* FINGERPRINT and MESSAGE-INTEGRITY of the wrong size (the CRC in the first 4 bytes). */
    m_request(&m, "evtj:h6vY", 0);
    put16(m.b + 2, m.n + 12 - 20);
    put_fp(m.b, m.n, 8);
    m.n += 12;
    assert_int_equal(handle(&m, &r), -EBADMSG);
    m_start(&m, 0x0001, 0x2112a442);
    m_attr(&m, STUN_ATTR_USERNAME, "evtj:h6vY", 9);
    m_attr(&m, STUN_ATTR_MSG_INTEGRITY, "0123456789abcdef", 16);
    m_fp(&m, 0);
    assert_int_equal(handle(&m, &r), -EBADMSG);
    /* No FINGERPRINT at all (RFC 8445 7.2.2 requires it). */
    m_request(&m, "evtj:h6vY", 0);
    assert_int_equal(handle(&m, &r), -EBADMSG);
}

static void attributes(void **state)
{
    (void)state;
    struct msg m;
    struct icelite_result r;
    /* An unknown comprehension-required attribute (LIFETIME has no place in a Binding). */
    m_request(&m, "evtj:h6vY", STUN_ATTR_LIFETIME);
    m_fp(&m, 0);
    assert_int_equal(handle(&m, &r), -ENOTSUP);
    /* After MESSAGE-INTEGRITY nothing but FINGERPRINT counts (15.4): not the unknown
     * attribute, not USE-CANDIDATE, not a USERNAME. */
    m_start(&m, 0x0001, 0x2112a442);
    m_attr(&m, STUN_ATTR_USERNAME, "evtj:h6vY", 9);
    m_mi(&m, rfc_pwd);
    m_attr(&m, STUN_ATTR_LIFETIME, &prio, 4);
    m_attr(&m, STUN_ATTR_USE_CAND, NULL, 0);
    m_fp(&m, 0);
    assert_int_equal(handle(&m, &r), 0);
    assert_int_equal(r.use_candidate, 0);
    m_start(&m, 0x0001, 0x2112a442);
    m_mi(&m, rfc_pwd);
    m_attr(&m, STUN_ATTR_USERNAME, "evtj:h6vY", 9);
    m_fp(&m, 0);
    assert_int_equal(handle(&m, &r), -EACCES);
    /* A NUL inside USERNAME would hand the lookup a shorter ufrag. */
    m_start(&m, 0x0001, 0x2112a442);
    m_attr(&m, STUN_ATTR_USERNAME, "evtj\0:h6vY", 10);
    m_mi(&m, rfc_pwd);
    m_fp(&m, 0);
    assert_int_equal(handle(&m, &r), -EACCES);
    /* Each ufrag at most 255 characters: 255 + ":" + 255 still reaches the lookup. */
    char user[520];
    memset(user, 'a', sizeof(user));
    user[255] = ':';
    user[511] = '\0';
    m_request(&m, user, 0);
    m_fp(&m, 0);
    assert_int_equal(handle(&m, &r), -ENOENT);
    user[511] = 'a';
    user[512] = '\0';
    m_request(&m, user, 0);
    m_fp(&m, 0);
    assert_int_equal(handle(&m, &r), -EACCES);
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

/* Our consent request (the agent's one check of its own) as libre reads it: a Binding
 * request with USERNAME "remote:local", PRIORITY, ICE-CONTROLLED, MESSAGE-INTEGRITY under the
 * peer's password and FINGERPRINT; and the peer's answer, produced here by the request
 * handler keyed with that password, is accepted only for its transaction and password. */
static void consent_request_and_answer(void **state)
{
    (void)state;
    static const char peer_pwd[] = "peerpassword0123456789";
    const uint8_t tid[ICELITE_TID_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    uint8_t req[ICELITE_REQUEST_MAX];
    int n = icelite_consent_request(req, "evtj", "h6vY", peer_pwd, tid);
    assert_true(n > 20 && n <= ICELITE_REQUEST_MAX && n % 4 == 0);
    struct mbuf *mb = mbuf_alloc((size_t)n);
    mbuf_write_mem(mb, req, (size_t)n);
    mb->pos = 0;
    struct stun_msg *msg = NULL;
    assert_int_equal(stun_msg_decode(&msg, mb, NULL), 0);
    assert_int_equal(stun_msg_class(msg), STUN_CLASS_REQUEST);
    assert_int_equal(stun_msg_method(msg), STUN_METHOD_BINDING);
    assert_memory_equal(stun_msg_tid(msg), tid, sizeof(tid));
    struct stun_attr *user = stun_msg_attr(msg, STUN_ATTR_USERNAME);
    assert_non_null(user);
    assert_string_equal(user->v.username, "evtj:h6vY");
    assert_non_null(stun_msg_attr(msg, STUN_ATTR_PRIORITY));
    assert_non_null(stun_msg_attr(msg, STUN_ATTR_CONTROLLED));
    assert_null(stun_msg_attr(msg, STUN_ATTR_USE_CAND));
    assert_int_equal(stun_msg_chk_mi(msg, (const uint8_t *)peer_pwd, strlen(peer_pwd)), 0);
    assert_int_equal(stun_msg_chk_fingerprint(msg), 0);
    mem_deref(msg);
    mem_deref(mb);

    /* The peer answers: its ufrag "evtj" is the request's first half. */
    struct sockaddr_in from = src();
    struct icelite_result r;
    assert_int_equal(
        icelite_handle(req, (size_t)n, (struct sockaddr *)&from, lookup, (void *)peer_pwd, &r), 0);
    assert_int_equal(icelite_consent_response(r.response, r.response_len, tid, peer_pwd), 0);
    uint8_t other_tid[ICELITE_TID_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13};
    assert_int_equal(icelite_consent_response(r.response, r.response_len, other_tid, peer_pwd),
                     -ESRCH);
    assert_int_equal(icelite_consent_response(r.response, r.response_len, tid, rfc_pwd), -EACCES);
    assert_int_equal(icelite_consent_response(req, (size_t)n, tid, peer_pwd), -ENOTSUP);
    r.response[r.response_len - 9] ^= 1; /* inside MI: the fingerprint no longer matches */
    assert_int_equal(icelite_consent_response(r.response, r.response_len, tid, peer_pwd), -EBADMSG);
    assert_int_equal(icelite_consent_response(r.response, 19, tid, peer_pwd), -EBADMSG);

    /* A ufrag too long for any USERNAME is refused, not truncated. */
    char long_ufrag[ICELITE_UFRAG_MAX + 1];
    memset(long_ufrag, 'a', ICELITE_UFRAG_MAX);
    long_ufrag[ICELITE_UFRAG_MAX] = '\0';
    assert_int_equal(icelite_consent_request(req, long_ufrag, "h6vY", peer_pwd, tid), -EINVAL);
    long_ufrag[ICELITE_UFRAG_MAX - 1] = '\0';
    assert_true(icelite_consent_request(req, long_ufrag, long_ufrag, peer_pwd, tid) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc5769_vector),
        cmocka_unit_test(rfc5769_vector_ipv6),
        cmocka_unit_test(rfc5769_foreign_fingerprints),
        cmocka_unit_test(built_requests),
        cmocka_unit_test(framing),
        cmocka_unit_test(attributes),
        cmocka_unit_test(refusals),
        cmocka_unit_test(use_candidate_and_ufrags),
        cmocka_unit_test(random_strings),
        cmocka_unit_test(consent_request_and_answer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
