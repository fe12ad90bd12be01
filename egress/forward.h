/* SPDX-License-Identifier: MIT */
/* forward.h: DELETEs forwarded to the worker that owns the session, over an abstract unix
 * datagram socket per worker whose senders are checked by their credentials. */
#ifndef RINGCAST_EGRESS_FORWARD_H
#define RINGCAST_EGRESS_FORWARD_H

#include <stdint.h>

struct worker;

/* A forwarded request waiting for the owner's answer. */
struct forward_pending {
    uint64_t nonce; /* random, carried by the request and its answer; 0 = free */
    uint64_t token; /* the deferred HTTP request to complete */
};

/* Opens and starts reading w's forwarding socket. 0 or -errno. */
int forward_open(struct worker *w);

/* Asks worker index to end session of path (it owns it); its answer (200 or 404) completes
 * the deferred HTTP request token. 0 or -errno (the owner is unreachable). */
int forward_delete(struct worker *w, unsigned index, const char *path, const char *session,
                   uint64_t token);

#endif
