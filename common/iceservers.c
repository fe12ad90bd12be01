/* SPDX-License-Identifier: MIT */
/* iceservers.c: STUN/TURN URL validation and the Link header values of a WHEP/WHIP response.
 * The TURN REST credentials are iceservers_cred.c's, so that the config's URL check does not
 * bring OpenSSL into every program that reads the config. */
#include "common/iceservers.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/text.h"

static int bad(const char **why, const char *reason)
{
    *why = reason;
    return -EINVAL;
}

/* The scheme's length (with the colon) if url starts with one we hand out, else 0. */
static size_t iceservers_scheme(const char *url, int *turn)
{
    static const struct {
        const char *name;
        int turn;
    } schemes[] = {{"stun:", 0}, {"turn:", 1}, {"turns:", 1}};
    for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
        size_t n = strlen(schemes[i].name);
        if (strncmp(url, schemes[i].name, n) == 0) {
            *turn = schemes[i].turn;
            return n;
        }
    }
    return 0;
}

int iceservers_url_is_turn(const char *url)
{
    int turn = 0;
    return iceservers_scheme(url, &turn) && turn;
}

/* host[:port] of len bytes at s: a name or IPv4 address ([A-Za-z0-9.-], RFC 3986 reg-name
 * without the characters a header or a config line would trip on), or an [IPv6] literal. */
static int iceservers_hostport(const char *s, size_t len, const char **why)
{
    const char *port = NULL;
    size_t hl = len;
    if (len && s[0] == '[') {
        const char *close = memchr(s, ']', len);
        char v6[64];
        struct in6_addr a;
        if (!close || (size_t)(close - s - 1) >= sizeof(v6))
            return bad(why, "unterminated [IPv6] literal");
        snprintf(v6, sizeof(v6), "%.*s", (int)(close - s - 1), s + 1);
        if (inet_pton(AF_INET6, v6, &a) != 1)
            return bad(why, "not an IPv6 address in [ ]");
        hl = (size_t)(close - s) + 1;
        if (hl < len && s[hl] != ':')
            return bad(why, "junk after the [IPv6] literal");
    } else {
        const char *colon = memchr(s, ':', len);
        if (colon)
            hl = (size_t)(colon - s);
        if (hl == 0)
            return bad(why, "no host");
        for (size_t i = 0; i < hl; i++) {
            char c = s[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '-'))
                return bad(why, "host may hold only letters, digits, '.' and '-'");
        }
    }
    if (hl < len) {
        char digits[8];
        unsigned long v;
        port = s + hl + 1;
        size_t pl = len - hl - 1;
        if (pl == 0 || pl >= sizeof(digits))
            return bad(why, "bad port");
        snprintf(digits, sizeof(digits), "%.*s", (int)pl, port);
        if (text_parse_uint(digits, 1, 65535, &v) < 0)
            return bad(why, "bad port");
    }
    return 0;
}

int iceservers_url_check(const char *url, const char **why)
{
    int turn = 0;
    size_t skip = iceservers_scheme(url, &turn);
    *why = "";
    if (!skip)
        return bad(why, "expected a stun:, turn: or turns: URL");
    if (strlen(url) >= ICESERVERS_URL_MAX)
        return bad(why, "URL too long");
    const char *hp = url + skip, *query = strchr(hp, '?');
    /* RFC 7064 3.1 and RFC 7065 3.1 have no "//" authority and no userinfo. */
    if (hp[0] == '/')
        return bad(why, "no \"//\" after the scheme (stun:HOST[:PORT])");
    if (strchr(hp, '@'))
        return bad(why, "no user@ in the URL: credentials come from turn_secret or ice_username");
    int err = iceservers_hostport(hp, query ? (size_t)(query - hp) : strlen(hp), why);
    if (err < 0)
        return err;
    if (query && !turn)
        return bad(why, "a stun: URL takes no ?query");
    if (query && strcmp(query, "?transport=udp") != 0 && strcmp(query, "?transport=tcp") != 0)
        return bad(why, "the only query is ?transport=udp or ?transport=tcp");
    return 0;
}

/* Appends name="value" as a quoted-string (RFC 9110 5.6.4): '"' and '\' get a backslash. */
static int iceservers_quoted(char *out, size_t len, size_t used, const char *name,
                             const char *value)
{
    int n = snprintf(out + used, len - used, "; %s=\"", name);
    if (n < 0 || (size_t)n >= len - used)
        return -ENOSPC;
    used += (size_t)n;
    for (const char *c = value; *c; c++) {
        if (used + 3 >= len)
            return -ENOSPC;
        if (*c == '"' || *c == '\\')
            out[used++] = '\\';
        out[used++] = *c;
    }
    if (used + 2 > len)
        return -ENOSPC;
    out[used++] = '"';
    out[used] = '\0';
    return (int)used;
}

int iceservers_link(char *out, size_t len, const char *url, const char *username,
                    const char *credential)
{
    int n = snprintf(out, len, "<%s>; rel=\"ice-server\"", url);
    if (n < 0 || (size_t)n >= len)
        return -ENOSPC;
    if (!username || !credential)
        return n;
    n = iceservers_quoted(out, len, (size_t)n, "username", username);
    if (n >= 0)
        n = iceservers_quoted(out, len, (size_t)n, "credential", credential);
    return n;
}
