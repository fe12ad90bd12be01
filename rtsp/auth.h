/* SPDX-License-Identifier: MIT */
/* auth.h: RTSP authentication. Client: parsing WWW-Authenticate challenges and building
 * Authorization values for Basic (RFC 7617) and Digest with MD5 / MD5-sess (RFC 2617,
 * RFC 7616). Server: the challenge a publisher gets and the check of its answer. Pure
 * functions: credentials pass through, nothing here logs. */
#ifndef RINGCAST_RTSP_AUTH_H
#define RINGCAST_RTSP_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum rtsp_auth_scheme { RTSP_AUTH_NONE = 0, RTSP_AUTH_BASIC, RTSP_AUTH_DIGEST };

struct rtsp_auth {
    enum rtsp_auth_scheme scheme;
    char realm[128];
    char nonce[256];
    char opaque[256];
    bool qop_auth; /* the server offered qop=auth */
    bool sess;     /* algorithm=MD5-sess */
    bool stale;    /* the nonce expired, the credentials were fine (RFC 2617 3.2.1) */
    uint32_t nc;   /* nonce count, bumped per Authorization built */
    /* MD5-sess: the cnonce of the first Authorization for this challenge and the session
     * HA1 computed with it, reused by every later one (RFC 2617 3.2.2.2). */
    char sess_cnonce[64];
    char sess_ha1[33];
};

/* Picks the strongest supported challenge among a response's WWW-Authenticate values
 * (Digest MD5 over Basic) into *a. Returns 0, -ENOTSUP when none is supported (e.g. only
 * SHA-256 Digest), -EBADMSG for a malformed Digest challenge. */
int rtsp_auth_challenge(struct rtsp_auth *a, const char *const *values, unsigned n);

/* Writes the Authorization header value for one request ("Basic ..." or "Digest ...").
 * uri is the request URI exactly as on the request line; cnonce is a fresh client nonce
 * (hex). With MD5-sess only the first request of a challenge uses it: HA1 binds that cnonce
 * to the nonce, so later requests repeat it with the next nc. Returns 0, -EINVAL without a
 * challenge (or a cnonce too long to keep), -ENAMETOOLONG if out is too small. */
int rtsp_auth_header(struct rtsp_auth *a, const char *user, const char *pass, const char *method,
                     const char *uri, const char *cnonce, char *out, size_t outlen);

/* ---- server side ---- */

/* Writes the WWW-Authenticate header lines of a 401: Digest (MD5, qop=auth offered) with
 * nonce in realm, then Basic. Returns the length or -ENOSPC. */
int rtsp_auth_challenge_write(char *out, size_t cap, const char *realm, const char *nonce);

/* Whether authorization (a request's Authorization value) proves user and pass for method:
 * Basic, or Digest MD5 (with qop=auth or without) answering our nonce in realm, the response
 * computed over the uri the client names. Returns 0, -ENOENT without an Authorization,
 * -EACCES for wrong credentials or another realm or nonce, -EBADMSG for a malformed value,
 * -ENOTSUP for another scheme or algorithm. */
int rtsp_auth_check(const char *authorization, const char *method, const char *realm,
                    const char *nonce, const char *user, const char *pass);

#endif
