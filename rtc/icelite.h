/* SPDX-License-Identifier: MIT */
/* icelite.h: the ICE-lite side of connectivity checks (RFC 8445 2.5, RFC 5389): a STUN
 * Binding request is matched to its session through USERNAME, authenticated with that
 * session's password (MESSAGE-INTEGRITY), and answered with XOR-MAPPED-ADDRESS,
 * MESSAGE-INTEGRITY and FINGERPRINT; and the one request the agent sends itself, a consent
 * check (RFC 7675) that proves the peer receives at an address before media moves there.
 * No sockets and no libre: bytes in, bytes out. */
#ifndef RINGCAST_RTC_ICELITE_H
#define RINGCAST_RTC_ICELITE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define ICELITE_UFRAG_MAX    256 /* RFC 8839: ice-ufrag is 4..256 characters */
#define ICELITE_RESPONSE_MAX 128 /* IPv6 needs 76: header, XOR-MAPPED-ADDRESS, MI, FP */
#define ICELITE_REQUEST_MAX                                                                        \
    592 /* header, USERNAME of two ufrags, PRIORITY, ICE-CONTROLLED, MI, FP */
#define ICELITE_TID_LEN 12

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

/* Writes a consent request (a Binding request, RFC 7675 5.1 and RFC 8445 7.2.2) for the peer
 * whose ufrag and password are remote_*: USERNAME "remote:local", PRIORITY, ICE-CONTROLLED,
 * MESSAGE-INTEGRITY keyed with remote_pwd, FINGERPRINT; tid is its transaction id. Returns
 * the length, or -EINVAL for a ufrag too long for the buffer. */
int icelite_consent_request(uint8_t out[ICELITE_REQUEST_MAX], const char *remote_ufrag,
                            const char *local_ufrag, const char *remote_pwd,
                            const uint8_t tid[ICELITE_TID_LEN]);

/* 0 when p[0..len) is a Binding success response to transaction tid that authenticates with
 * remote_pwd (the password our request was keyed with); -EBADMSG malformed, -ENOTSUP not a
 * success response, -ESRCH another transaction, -EACCES missing or wrong MESSAGE-INTEGRITY. */
int icelite_consent_response(const uint8_t *p, size_t len, const uint8_t tid[ICELITE_TID_LEN],
                             const char *remote_pwd);

/* Fills buf with n random ICE characters ([A-Za-z0-9+/], RFC 8839 ice-char) and a NUL. */
int icelite_random_string(char *buf, size_t n);

#endif
