/* SPDX-License-Identifier: MIT */
/* lg_stun.h: the load generator's ICE (full agent, controlling, RFC 8445) STUN messages,
 * encoded and checked with libre's STUN codec: binding requests with USE-CANDIDATE, and
 * answers to the server's own checks (a full-ICE server such as pion sends them). */
#ifndef LG_STUN_H
#define LG_STUN_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#define LG_STUN_TID_LEN 12

struct lg_stun_req {
    const uint8_t *tid;     /* LG_STUN_TID_LEN bytes */
    const char *username;   /* "remote_ufrag:local_ufrag" (RFC 8445 7.2.2) */
    const char *remote_pwd; /* MESSAGE-INTEGRITY key */
    uint32_t priority;
    uint64_t tiebreaker;
    int use_candidate;
};

/* Encodes a binding request into out. Returns its length or -errno. */
int lg_stun_request(uint8_t *out, size_t cap, const struct lg_stun_req *req);

enum lg_stun_kind { LG_STUN_OTHER = 0, LG_STUN_REQUEST, LG_STUN_SUCCESS, LG_STUN_ERROR };

/* Decodes and authenticates a STUN message: a request must carry USERNAME
 * "local_ufrag:..." and MESSAGE-INTEGRITY with local_pwd; a response MESSAGE-INTEGRITY with
 * remote_pwd. Returns its kind (tid copied out), or -EBADMSG / -EACCES. */
int lg_stun_check(const uint8_t *p, size_t len, const char *local_ufrag, const char *local_pwd,
                  const char *remote_pwd, uint8_t tid[LG_STUN_TID_LEN]);

/* Encodes the success response to the request tid, XOR-MAPPED-ADDRESS = from. */
int lg_stun_success(uint8_t *out, size_t cap, const uint8_t tid[LG_STUN_TID_LEN],
                    const struct sockaddr_in *from, const char *local_pwd);

#endif
