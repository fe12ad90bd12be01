/* SPDX-License-Identifier: MIT */
/* lg_stun.c: STUN binding requests and responses for the load generator's ICE agent,
 * through libre's codec (no libre sockets or timers). Setup and consent traffic only:
 * a few messages per viewer, never per media packet. */
#include "tools/loadgen/lg_stun.h"

#include <errno.h>
#include <string.h>

#include <re.h>

/* libre's codec works on mbufs from mbuf_alloc; one reused buffer is enough for a
 * single-threaded loop (a decoded message holds a reference only until mem_deref). */
static struct mbuf *stun_mb;

static struct mbuf *stun_buf(void)
{
    if (!stun_mb)
        stun_mb = mbuf_alloc(1500);
    if (stun_mb)
        mbuf_rewind(stun_mb);
    return stun_mb;
}

static int stun_copy_out(struct mbuf *mb, uint8_t *out, size_t cap)
{
    if (mb->end > cap)
        return -ENOSPC;
    memcpy(out, mb->buf, mb->end);
    return (int)mb->end;
}

int lg_stun_request(uint8_t *out, size_t cap, const struct lg_stun_req *req)
{
    struct mbuf *mb = stun_buf();
    if (!mb)
        return -ENOMEM;
    /* libre drops an attribute whose value is NULL, so USE-CANDIDATE (empty) needs a
     * dummy pointer to be present and a NULL one to be absent. */
    static const uint8_t present = 1;
    int err = stun_msg_encode(mb, STUN_METHOD_BINDING, STUN_CLASS_REQUEST, req->tid, NULL,
                              (const uint8_t *)req->remote_pwd, strlen(req->remote_pwd), true, 0, 4,
                              STUN_ATTR_USERNAME, req->username, STUN_ATTR_PRIORITY, &req->priority,
                              STUN_ATTR_CONTROLLING, &req->tiebreaker, STUN_ATTR_USE_CAND,
                              req->use_candidate ? &present : NULL);
    if (err)
        return -err;
    return stun_copy_out(mb, out, cap);
}

int lg_stun_check(const uint8_t *p, size_t len, const char *local_ufrag, const char *local_pwd,
                  const char *remote_pwd, uint8_t tid[LG_STUN_TID_LEN])
{
    /* RFC 5389 6: two zero bits, a length that is a multiple of 4 and matches. */
    if (len < 20 || (p[0] & 0xc0) != 0 || (size_t)(p[2] << 8 | p[3]) + 20 != len)
        return -EBADMSG;
    struct mbuf *mb = stun_buf();
    if (!mb)
        return -ENOMEM;
    if (mbuf_write_mem(mb, p, len) != 0)
        return -ENOMEM;
    mb->pos = 0;
    struct stun_msg *msg = NULL;
    if (stun_msg_decode(&msg, mb, NULL) != 0)
        return -EBADMSG;

    int kind = LG_STUN_OTHER;
    int ret;
    const char *key = remote_pwd;
    if (stun_msg_method(msg) != STUN_METHOD_BINDING || stun_msg_chk_fingerprint(msg) != 0) {
        ret = -EBADMSG;
        goto out;
    }
    switch (stun_msg_class(msg)) {
    case STUN_CLASS_REQUEST: {
        kind = LG_STUN_REQUEST;
        key = local_pwd;
        struct stun_attr *u = stun_msg_attr(msg, STUN_ATTR_USERNAME);
        size_t ul = strlen(local_ufrag);
        /* RFC 8445 7.3: USERNAME is "our_ufrag:their_ufrag" on requests we receive. */
        if (!u || strncmp(u->v.username, local_ufrag, ul) != 0 || u->v.username[ul] != ':') {
            ret = -EACCES;
            goto out;
        }
        break;
    }
    case STUN_CLASS_SUCCESS_RESP:
        kind = LG_STUN_SUCCESS;
        break;
    case STUN_CLASS_ERROR_RESP:
        kind = LG_STUN_ERROR;
        break;
    default:
        ret = -EBADMSG;
        goto out;
    }
    if (stun_msg_chk_mi(msg, (const uint8_t *)key, strlen(key)) != 0) {
        ret = -EACCES;
        goto out;
    }
    memcpy(tid, stun_msg_tid(msg), LG_STUN_TID_LEN);
    ret = kind;
out:
    mem_deref(msg);
    return ret;
}

int lg_stun_success(uint8_t *out, size_t cap, const uint8_t tid[LG_STUN_TID_LEN],
                    const struct sockaddr_in *from, const char *local_pwd)
{
    struct mbuf *mb = stun_buf();
    if (!mb)
        return -ENOMEM;
    struct sa sa;
    sa_set_sa(&sa, (const struct sockaddr *)from);
    int err = stun_msg_encode(mb, STUN_METHOD_BINDING, STUN_CLASS_SUCCESS_RESP, tid, NULL,
                              (const uint8_t *)local_pwd, strlen(local_pwd), true, 0, 1,
                              STUN_ATTR_XOR_MAPPED_ADDR, &sa);
    if (err)
        return -err;
    return stun_copy_out(mb, out, cap);
}
