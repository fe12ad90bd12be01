/* SPDX-License-Identifier: MIT */
/* iceservers.h: the STUN/TURN servers a WHEP or WHIP endpoint hands its clients: validation of
 * their URLs (RFC 7064, RFC 7065), TURN REST credentials for coturn's use-auth-secret, and the
 * HTTP Link header values that carry them (RFC 9725 4.6, RFC 8288 quoting). */
#ifndef RINGCAST_COMMON_ICESERVERS_H
#define RINGCAST_COMMON_ICESERVERS_H

#include <stddef.h>
#include <stdint.h>

#define ICESERVERS_MAX      4   /* URLs in ice_servers: their Link headers fit a response */
#define ICESERVERS_URL_MAX  192 /* bytes of one URL, NUL included */
#define ICESERVERS_CRED_MAX 128 /* bytes of a username or credential, NUL included */
/* The longest Link header value: a URL, and username and credential with every byte escaped. */
#define ICESERVERS_LINK_MAX (ICESERVERS_URL_MAX + 4 * ICESERVERS_CRED_MAX + 64)

/* Checks one stun:, turn: or turns: URL: a host name, IPv4 address or [IPv6] literal, an
 * optional port, and for TURN an optional ?transport=udp|tcp; nothing else (no userinfo, no
 * quotes or spaces that would break a Link header). 0, or -EINVAL with *why set to a reason
 * (a static string). */
int iceservers_url_check(const char *url, const char **why);

/* True for turn: and turns: URLs, which need credentials; false for stun:. */
int iceservers_url_is_turn(const char *url);

/* A TURN REST credential pair (draft-uberti-behave-turn-rest-00, coturn's use-auth-secret):
 * username "<expiry>:<rnd as hex>" with expiry in Unix seconds, credential
 * base64(HMAC-SHA1(secret, username)). Can't fail. */
struct iceservers_cred {
    char username[48];
    char credential[32];
};
void iceservers_rest_cred(struct iceservers_cred *out, const char *secret, uint64_t expiry,
                          const uint8_t rnd[8]);

/* Writes the value of one Link header for url into out: "<url>; rel=\"ice-server\"", and with
 * username and credential (both non-NULL, for TURN) their quoted-string attributes, '"' and
 * '\' escaped (RFC 9110 5.6.4). The length, or -ENOSPC. */
int iceservers_link(char *out, size_t len, const char *url, const char *username,
                    const char *credential);

#endif
