/* icelite.h: the ICE-lite side of connectivity checks (RFC 8445 2.5, RFC 5389): a STUN
 * Binding request is matched to its session through USERNAME, authenticated with that
 * session's password (MESSAGE-INTEGRITY), and answered with XOR-MAPPED-ADDRESS,
 * MESSAGE-INTEGRITY and FINGERPRINT. No sockets and no libre: bytes in, bytes out. */
#ifndef RINGCAST_EGRESS_ICELITE_H
#define RINGCAST_EGRESS_ICELITE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define ICELITE_UFRAG_MAX    256 /* RFC 8839: ice-ufrag is 4..256 characters */
#define ICELITE_RESPONSE_MAX 128 /* IPv6 needs 76: header, XOR-MAPPED-ADDRESS, MI, FP */

/* Finds the session whose local ufrag is local_ufrag (remote_ufrag is the peer's half of
 * USERNAME). Returns its ICE password and sets *session, or NULL for an unknown ufrag. */
typedef const char *(*icelite_lookup_fn)(void *arg, const char *local_ufrag,
                                         const char *remote_ufrag, void **session);

struct icelite_result {
    void *session;     /* from the lookup */
    int use_candidate; /* the controlling peer nominated this pair (USE-CANDIDATE) */
    size_t response_len;
    uint8_t response[ICELITE_RESPONSE_MAX];
};

/* Handles one datagram (first byte 0..3) from src. Returns 0 with res filled (a response to
 * send back to src), or -errno when it must be dropped: -EBADMSG not a well-formed STUN
 * message (RFC 5389 6 and 15: header, attribute bounds, FINGERPRINT last) or missing or bad
 * FINGERPRINT, -ENOTSUP not a Binding request, or one that authenticates but carries an
 * unknown comprehension-required attribute, -EACCES missing or malformed USERNAME, missing
 * or wrong MESSAGE-INTEGRITY, -ENOENT unknown ufrag, -EAFNOSUPPORT src neither IPv4 nor IPv6.
 * Reads only p[0..len), writes only res, never allocates. */
int icelite_handle(const uint8_t *p, size_t len, const struct sockaddr *src,
                   icelite_lookup_fn lookup, void *arg, struct icelite_result *res);

/* Fills buf with n random ICE characters ([A-Za-z0-9+/], RFC 8839 ice-char) and a NUL. */
int icelite_random_string(char *buf, size_t n);

#endif
