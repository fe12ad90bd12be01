/* SPDX-License-Identifier: MIT */
/* test_iceservers.c: which stun:/turn:/turns: URLs are handed out (RFC 7064, RFC 7065), the
 * TURN REST credential against an answer computed with Python's hmac, and the Link header
 * values with their quoted-string escapes (RFC 9725 4.6, RFC 9110 5.6.4). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/iceservers.h"

static void test_urls(void **state)
{
    (void)state;
    static const char *const good[] = {
        "stun:stun.example.net",
        "stun:192.0.2.1:3478",
        "stun:[2001:db8::1]:19302",
        "turn:turn.example.net",
        "turn:198.18.0.3:3478?transport=udp",
        "turn:[::1]?transport=tcp",
        "turns:turn.example.net:443?transport=tcp",
    };
    static const struct {
        const char *url, *why;
    } bad[] = {
        {"http://example.net", "expected a stun:, turn: or turns: URL"},
        {"stuns:example.net", "expected a stun:, turn: or turns: URL"},
        {"stun:", "no host"},
        {"stun://example.net", "no \"//\" after the scheme (stun:HOST[:PORT])"},
        {"turn:user:pw@example.net", "no user@ in the URL: credentials come from turn_secret or "
                                     "ice_username"},
        {"stun:example.net:0", "bad port"},
        {"stun:example.net:65536", "bad port"},
        {"stun:example.net:", "bad port"},
        {"stun:exa\"mple.net", "host may hold only letters, digits, '.' and '-'"},
        {"stun:exa>mple.net", "host may hold only letters, digits, '.' and '-'"},
        {"stun:[2001:db8::1", "unterminated [IPv6] literal"},
        {"stun:[example]", "not an IPv6 address in [ ]"},
        {"stun:[::1]x", "junk after the [IPv6] literal"},
        {"stun:example.net?transport=udp", "a stun: URL takes no ?query"},
        {"turn:example.net?transport=sctp", "the only query is ?transport=udp or ?transport=tcp"},
        {"turn:example.net?transport=udp&x=1",
         "the only query is ?transport=udp or ?transport=tcp"},
    };
    const char *why;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        if (iceservers_url_check(good[i], &why) != 0)
            fail_msg("%s refused: %s", good[i], why);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (iceservers_url_check(bad[i].url, &why) != -EINVAL)
            fail_msg("%s accepted", bad[i].url);
        assert_string_equal(why, bad[i].why);
    }
    char longer[ICESERVERS_URL_MAX + 8] = "stun:";
    memset(longer + 5, 'a', sizeof(longer) - 6);
    longer[sizeof(longer) - 1] = '\0';
    assert_int_equal(iceservers_url_check(longer, &why), -EINVAL);
    assert_true(iceservers_url_is_turn("turn:x"));
    assert_true(iceservers_url_is_turn("turns:x"));
    assert_false(iceservers_url_is_turn("stun:x"));
}

/* python3: base64.b64encode(hmac.new(b"north-secret", b"1700000000:0123456789abcdef",
 * hashlib.sha1).digest()) */
static void test_rest_credential(void **state)
{
    (void)state;
    static const uint8_t rnd[8] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
    struct iceservers_cred c;
    iceservers_rest_cred(&c, "north-secret", 1700000000, rnd);
    assert_string_equal(c.username, "1700000000:0123456789abcdef");
    assert_string_equal(c.credential, "EbqP+CUAhpDVdnQoq4ZF3iy+1us=");
}

static void test_link(void **state)
{
    (void)state;
    char out[ICESERVERS_LINK_MAX];
    assert_int_equal(iceservers_link(out, sizeof(out), "stun:192.0.2.1", NULL, NULL),
                     (int)strlen("<stun:192.0.2.1>; rel=\"ice-server\""));
    assert_string_equal(out, "<stun:192.0.2.1>; rel=\"ice-server\"");
    assert_true(
        iceservers_link(out, sizeof(out), "turn:t.example?transport=tcp", "u\"ser", "pa\\ss") > 0);
    assert_string_equal(out, "<turn:t.example?transport=tcp>; rel=\"ice-server\"; "
                             "username=\"u\\\"ser\"; credential=\"pa\\\\ss\"");
    /* The worst case fits ICESERVERS_LINK_MAX: every credential byte escaped. */
    char url[ICESERVERS_URL_MAX], quotes[ICESERVERS_CRED_MAX];
    snprintf(url, sizeof(url), "turn:%0*d", (int)sizeof(url) - 6, 0);
    memset(quotes, '"', sizeof(quotes) - 1);
    quotes[sizeof(quotes) - 1] = '\0';
    assert_true(iceservers_link(out, sizeof(out), url, quotes, quotes) > 0);
    /* Too small a buffer is -ENOSPC, never a cut header. */
    assert_int_equal(iceservers_link(out, 40, "turn:t.example", "user", "secret"), -ENOSPC);
    assert_int_equal(iceservers_link(out, 10, "stun:192.0.2.1", NULL, NULL), -ENOSPC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_urls),
        cmocka_unit_test(test_rest_credential),
        cmocka_unit_test(test_link),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
