/* rtsp_auth.h: RTSP client authentication: parsing WWW-Authenticate challenges and building
 * Authorization values for Basic (RFC 7617) and Digest with MD5 / MD5-sess (RFC 2617,
 * RFC 7616). Pure functions: credentials pass through, nothing here logs. */
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
};

/* Picks the strongest supported challenge among a response's WWW-Authenticate values
 * (Digest MD5 over Basic) into *a. Returns 0, -ENOTSUP when none is supported (e.g. only
 * SHA-256 Digest), -EBADMSG for a malformed Digest challenge. */
int rtsp_auth_challenge(struct rtsp_auth *a, const char *const *values, unsigned n);

/* Writes the Authorization header value for one request ("Basic ..." or "Digest ...").
 * uri is the request URI exactly as on the request line; cnonce is a fresh client nonce
 * (hex). Returns 0, -EINVAL without a challenge, -ENAMETOOLONG if out is too small. */
int rtsp_auth_header(struct rtsp_auth *a, const char *user, const char *pass, const char *method,
                     const char *uri, const char *cnonce, char *out, size_t outlen);

#endif
