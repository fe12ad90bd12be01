/* SPDX-License-Identifier: MIT */
/* test_rtsp_auth.c: RTSP authentication (ingest/rtsp_auth.c) against the RFC 2617 3.5
 * Digest example and RFC 7617 2 Basic example, challenge selection and malformed
 * challenges. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "rtsp/auth.h"

static void test_digest_rfc2617(void **state)
{
    (void)state;
    const char *ch[] = {"Basic realm=\"x\"",
                        "Digest realm=\"testrealm@host.com\", qop=\"auth,auth-int\", "
                        "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", "
                        "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\""};
    struct rtsp_auth a;
    assert_int_equal(rtsp_auth_challenge(&a, ch, 2), 0);
    assert_int_equal(a.scheme, RTSP_AUTH_DIGEST);
    assert_true(a.qop_auth);
    char out[1024];
    assert_int_equal(rtsp_auth_header(&a, "Mufasa", "Circle Of Life", "GET", "/dir/index.html",
                                      "0a4f113b", out, sizeof(out)),
                     0);
    /* RFC 2617 3.5 gives this response for these inputs. */
    assert_non_null(strstr(out, "response=\"6629fae49393a05397450978507c4ef1\""));
    assert_non_null(strstr(out, "nc=00000001"));
    assert_non_null(strstr(out, "cnonce=\"0a4f113b\""));
    assert_non_null(strstr(out, "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\""));
    assert_int_equal(strncmp(out, "Digest username=\"Mufasa\"", 24), 0);
    /* The nonce count goes up with each request (RFC 2617 3.2.2). */
    assert_int_equal(rtsp_auth_header(&a, "Mufasa", "Circle Of Life", "GET", "/dir/index.html",
                                      "0a4f113b", out, sizeof(out)),
                     0);
    assert_non_null(strstr(out, "nc=00000002"));
}

static void test_digest_no_qop(void **state)
{
    (void)state;
    /* RFC 2069 compatibility: response = MD5(HA1:nonce:HA2), no nc/cnonce. Value from
     * python: md5(md5("u:r:p"):"n":md5("DESCRIBE:rtsp://h/x")). */
    const char *ch[] = {"Digest realm=\"r\", nonce=\"n\", stale=FALSE"};
    struct rtsp_auth a;
    assert_int_equal(rtsp_auth_challenge(&a, ch, 1), 0);
    assert_false(a.qop_auth);
    assert_false(a.stale);
    char out[512];
    assert_int_equal(
        rtsp_auth_header(&a, "u", "p", "DESCRIBE", "rtsp://h/x", "c", out, sizeof(out)), 0);
    assert_non_null(strstr(out, "response=\"d43942a69cea5a6702fa9c0d7a6b6c77\""));
    assert_null(strstr(out, "nc="));
}

/* MD5-sess (RFC 2617 3.2.2.2): HA1 = MD5(MD5(user:realm:pass):nonce:cnonce) once per
 * challenge, with the cnonce of its first request; later requests carry that cnonce again,
 * with the next nc, whatever fresh one the caller offers. Values from python's hashlib. */
static void test_digest_md5_sess(void **state)
{
    (void)state;
    const char *ch[] = {"Digest realm=\"r\", nonce=\"n\", qop=\"auth\", algorithm=MD5-sess"};
    struct rtsp_auth a;
    assert_int_equal(rtsp_auth_challenge(&a, ch, 1), 0);
    assert_true(a.sess);
    char out[512];
    assert_int_equal(
        rtsp_auth_header(&a, "u", "p", "DESCRIBE", "rtsp://h/x", "c1", out, sizeof(out)), 0);
    assert_non_null(strstr(out, "response=\"ee36b67ac01604dbcaba806521c907c1\""));
    assert_non_null(strstr(out, "nc=00000001, cnonce=\"c1\""));
    assert_non_null(strstr(out, "algorithm=MD5-sess"));
    assert_int_equal(rtsp_auth_header(&a, "u", "p", "SETUP", "rtsp://h/x", "c2", out, sizeof(out)),
                     0);
    assert_non_null(strstr(out, "response=\"773c4648256aeddf5afe6a5a1a6980df\""));
    assert_non_null(strstr(out, "nc=00000002, cnonce=\"c1\""));
    /* A new challenge (a stale nonce) starts over with the cnonce then offered. */
    assert_int_equal(rtsp_auth_challenge(&a, ch, 1), 0);
    assert_int_equal(
        rtsp_auth_header(&a, "u", "p", "DESCRIBE", "rtsp://h/x", "c1", out, sizeof(out)), 0);
    assert_non_null(strstr(out, "response=\"ee36b67ac01604dbcaba806521c907c1\""));
}

/* Quoted values the server sent are echoed as quoted-strings again: a quote or backslash in
 * them is escaped, not left to end the string early. The digest uses the unescaped values. */
static void test_digest_quoted_echo(void **state)
{
    (void)state;
    const char *ch[] = {"Digest realm=\"a\\\"b\\\\c\", nonce=\"n\\\"1\", opaque=\"o\\\\\""};
    struct rtsp_auth a;
    assert_int_equal(rtsp_auth_challenge(&a, ch, 1), 0);
    assert_string_equal(a.realm, "a\"b\\c");
    char out[512];
    assert_int_equal(
        rtsp_auth_header(&a, "u", "p", "DESCRIBE", "rtsp://h/x", "c", out, sizeof(out)), 0);
    assert_non_null(strstr(out, "realm=\"a\\\"b\\\\c\", "));
    assert_non_null(strstr(out, "nonce=\"n\\\"1\", "));
    assert_non_null(strstr(out, "opaque=\"o\\\\\""));
    assert_non_null(strstr(out, "response=\"6f425801945654c9ca792dbd38655041\""));
}

static void test_basic(void **state)
{
    (void)state;
    const char *ch[] = {"Basic realm=\"WallyWorld\""};
    struct rtsp_auth a;
    assert_int_equal(rtsp_auth_challenge(&a, ch, 1), 0);
    assert_int_equal(a.scheme, RTSP_AUTH_BASIC);
    char out[256];
    assert_int_equal(rtsp_auth_header(&a, "Aladdin", "open sesame", "DESCRIBE", "rtsp://h/", "",
                                      out, sizeof(out)),
                     0);
    assert_string_equal(out, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    assert_int_equal(
        rtsp_auth_header(&a, "Aladdin", "open sesame", "DESCRIBE", "rtsp://h/", "", out, 20),
        -ENAMETOOLONG);
}

static void test_challenges_bad(void **state)
{
    (void)state;
    struct rtsp_auth a;
    const char *sha[] = {"Digest realm=\"r\", nonce=\"n\", algorithm=SHA-256"};
    assert_int_equal(rtsp_auth_challenge(&a, sha, 1), -ENOTSUP);
    const char *none[] = {"Bearer x"};
    assert_int_equal(rtsp_auth_challenge(&a, none, 1), -ENOTSUP);
    const char *no_nonce[] = {"Digest realm=\"r\""};
    assert_int_equal(rtsp_auth_challenge(&a, no_nonce, 1), -EBADMSG);
    const char *unterminated[] = {"Digest realm=\"r, nonce=n"};
    assert_int_equal(rtsp_auth_challenge(&a, unterminated, 1), -EBADMSG);
    /* A SHA-256 Digest beside Basic: Basic is what we can do. */
    const char *mixed[] = {sha[0], "Basic realm=\"r\""};
    assert_int_equal(rtsp_auth_challenge(&a, mixed, 2), 0);
    assert_int_equal(a.scheme, RTSP_AUTH_BASIC);
    /* A quote in a Digest username would break the header: refused. */
    const char *ok[] = {"Digest realm=\"r\", nonce=\"n\""};
    assert_int_equal(rtsp_auth_challenge(&a, ok, 1), 0);
    char out[512];
    assert_int_equal(rtsp_auth_header(&a, "a\"b", "p", "PLAY", "rtsp://h/", "c", out, sizeof(out)),
                     -EINVAL);
}

/* ---- server side ---- */

/* RFC 2617 3.5's answer, checked by the server that issued its nonce. */
static void test_check_rfc2617(void **state)
{
    (void)state;
    const char *a = "Digest username=\"Mufasa\", realm=\"testrealm@host.com\", "
                    "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/dir/index.html\", "
                    "qop=auth, nc=00000001, cnonce=\"0a4f113b\", "
                    "response=\"6629fae49393a05397450978507c4ef1\", "
                    "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"";
    const char *realm = "testrealm@host.com", *nonce = "dcd98b7102dd2f0e8b11d0f600bfb0c093";
    assert_int_equal(rtsp_auth_check(a, "GET", realm, nonce, "Mufasa", "Circle Of Life"), 0);
    assert_int_equal(rtsp_auth_check(a, "GET", realm, nonce, "Mufasa", "Circle of Life"), -EACCES);
    assert_int_equal(rtsp_auth_check(a, "PUT", realm, nonce, "Mufasa", "Circle Of Life"), -EACCES);
    assert_int_equal(rtsp_auth_check(a, "GET", realm, "0123", "Mufasa", "Circle Of Life"), -EACCES);
    assert_int_equal(rtsp_auth_check(a, "GET", realm, nonce, "Simba", "Circle Of Life"), -EACCES);
}

/* What our own client (and ffmpeg: no qop offered back) answers to our challenge passes. */
static void test_check_client_answers(void **state)
{
    (void)state;
    char chal[512], hdr[1024];
    const char *nonce = "7f3a9c0d11e2b4a6";
    assert_true(rtsp_auth_challenge_write(chal, sizeof(chal), "ringcast", nonce) > 0);
    assert_non_null(strstr(chal, "WWW-Authenticate: Basic realm=\"ringcast\"\r\n"));
    const char *values[] = {"Digest realm=\"ringcast\", nonce=\"7f3a9c0d11e2b4a6\"",
                            "Digest realm=\"ringcast\", nonce=\"7f3a9c0d11e2b4a6\", qop=\"auth\"",
                            "Basic realm=\"ringcast\""};
    for (unsigned i = 0; i < 3; i++) {
        struct rtsp_auth a;
        assert_int_equal(rtsp_auth_challenge(&a, &values[i], 1), 0);
        const char *uri = "rtsp://127.0.0.1:8554/pub";
        assert_int_equal(
            rtsp_auth_header(&a, "enc", "s3cret", "ANNOUNCE", uri, "abcd", hdr, sizeof(hdr)), 0);
        assert_int_equal(rtsp_auth_check(hdr, "ANNOUNCE", "ringcast", nonce, "enc", "s3cret"), 0);
        assert_int_equal(rtsp_auth_check(hdr, "ANNOUNCE", "ringcast", nonce, "enc", "s3creT"),
                         -EACCES);
        assert_int_equal(rtsp_auth_check(hdr, "ANNOUNCE", "ringcast", nonce, "ENC", "s3cret"),
                         -EACCES);
    }
}

static void test_check_malformed(void **state)
{
    (void)state;
    const char *r = "ringcast", *n = "00";
    assert_int_equal(rtsp_auth_check("", "ANNOUNCE", r, n, "u", "p"), -ENOENT);
    assert_int_equal(rtsp_auth_check("Bearer x", "ANNOUNCE", r, n, "u", "p"), -ENOTSUP);
    assert_int_equal(rtsp_auth_check("Basic !!!", "ANNOUNCE", r, n, "u", "p"), -EBADMSG);
    assert_int_equal(rtsp_auth_check("Basic dXNlcg==", "ANNOUNCE", r, n, "u", "p"), -EBADMSG);
    assert_int_equal(rtsp_auth_check("Basic dTpw", "ANNOUNCE", r, n, "u", "p"), 0); /* u:p */
    assert_int_equal(
        rtsp_auth_check("Digest username=\"u\", nonce=\"00\"", "ANNOUNCE", r, n, "u", "p"),
        -EBADMSG); /* no uri, no response */
    assert_int_equal(rtsp_auth_check("Digest username=\"u\", realm=\"ringcast\", nonce=\"00\", "
                                     "uri=\"/\", response=\"0123\", algorithm=SHA-256",
                                     "ANNOUNCE", r, n, "u", "p"),
                     -ENOTSUP);
    assert_int_equal(rtsp_auth_check("Digest username=\"u", "ANNOUNCE", r, n, "u", "p"), -EBADMSG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_digest_rfc2617),  cmocka_unit_test(test_digest_no_qop),
        cmocka_unit_test(test_digest_md5_sess), cmocka_unit_test(test_digest_quoted_echo),
        cmocka_unit_test(test_basic),           cmocka_unit_test(test_challenges_bad),
        cmocka_unit_test(test_check_rfc2617),   cmocka_unit_test(test_check_client_answers),
        cmocka_unit_test(test_check_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
