/* icelite.h: the ICE-lite side of connectivity checks (RFC 8445 2.5, RFC 5389): a STUN
 * Binding request is matched to its session through USERNAME, authenticated with that
 * session's password (MESSAGE-INTEGRITY), and answered with XOR-MAPPED-ADDRESS,
 * MESSAGE-INTEGRITY and FINGERPRINT. No sockets: bytes in, bytes out. */
#ifndef RINGCAST_EGRESS_ICELITE_H
#define RINGCAST_EGRESS_ICELITE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define ICELITE_UFRAG_MAX    256 /* RFC 8839: ice-ufrag is 4..256 characters */
#define ICELITE_RESPONSE_MAX 128

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
 * message or bad FINGERPRINT, -ENOTSUP not a Binding request, -ENOENT unknown ufrag,
 * -EACCES missing or wrong MESSAGE-INTEGRITY. Allocates only inside libre, freed on return. */
int icelite_handle(const uint8_t *p, size_t len, const struct sockaddr *src,
                   icelite_lookup_fn lookup, void *arg, struct icelite_result *res);

/* Fills buf with n random ICE characters ([A-Za-z0-9+/], RFC 8839 ice-char) and a NUL. */
int icelite_random_string(char *buf, size_t n);

#endif
