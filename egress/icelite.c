/* icelite.c: STUN Binding request handling for an ICE-lite agent on libre's STUN codec.
 * The agent is always controlled (RFC 8445 6.1.1): it never sends checks, it answers the
 * peer's, and it learns the peer's address from the checks that authenticate. */
#include "egress/icelite.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include <re.h>

int icelite_random_string(char *buf, size_t n)
{
    static const char chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    uint8_t rnd[256];
    if (n >= sizeof(rnd))
        return -EINVAL;
    if (getrandom(rnd, n, 0) != (ssize_t)n)
        return -EIO;
    for (size_t i = 0; i < n; i++)
        buf[i] = chars[rnd[i] & 63];
    buf[n] = '\0';
    return 0;
}

/* Splits USERNAME "<ours>:<theirs>" (RFC 8445 7.2.2) into two bounded strings. */
static int icelite_split_username(const char *user, char *local, char *remote)
{
    const char *colon = strchr(user, ':');
    if (!colon)
        return -EACCES;
    size_t ll = (size_t)(colon - user), rl = strlen(colon + 1);
    if (ll == 0 || ll >= ICELITE_UFRAG_MAX || rl >= ICELITE_UFRAG_MAX)
        return -EACCES;
    memcpy(local, user, ll);
    local[ll] = '\0';
    memcpy(remote, colon + 1, rl + 1);
    return 0;
}

static int icelite_respond(const struct stun_msg *msg, const struct sockaddr *src, const char *pwd,
                           struct icelite_result *res)
{
    struct sa mapped;
    if (sa_set_sa(&mapped, src))
        return -EAFNOSUPPORT;
    struct mbuf *out = mbuf_alloc(ICELITE_RESPONSE_MAX);
    if (!out)
        return -ENOMEM;
    int err = stun_msg_encode(out, STUN_METHOD_BINDING, STUN_CLASS_SUCCESS_RESP, stun_msg_tid(msg),
                              NULL, (const uint8_t *)pwd, strlen(pwd), true, 0, 1,
                              STUN_ATTR_XOR_MAPPED_ADDR, &mapped);
    if (err || out->end > sizeof(res->response)) {
        mem_deref(out);
        return -ENOMEM;
    }
    memcpy(res->response, out->buf, out->end);
    res->response_len = out->end;
    mem_deref(out);
    return 0;
}

static int icelite_check(const struct stun_msg *msg, const struct sockaddr *src,
                         icelite_lookup_fn lookup, void *arg, struct icelite_result *res)
{
    if (!stun_msg_mcookie(msg) || stun_msg_chk_fingerprint(msg) != 0)
        return -EBADMSG;
    if (stun_msg_method(msg) != STUN_METHOD_BINDING || stun_msg_class(msg) != STUN_CLASS_REQUEST)
        return -ENOTSUP;
    const struct stun_attr *user = stun_msg_attr(msg, STUN_ATTR_USERNAME);
    if (!user || !user->v.username)
        return -EACCES;
    char local[ICELITE_UFRAG_MAX], remote[ICELITE_UFRAG_MAX];
    int err = icelite_split_username(user->v.username, local, remote);
    if (err)
        return err;
    const char *pwd = lookup(arg, local, remote, &res->session);
    if (!pwd)
        return -ENOENT;
    /* RFC 8445 7.3: a request that does not authenticate with our password is dropped. */
    if (!stun_msg_attr(msg, STUN_ATTR_MSG_INTEGRITY) ||
        stun_msg_chk_mi(msg, (const uint8_t *)pwd, strlen(pwd)) != 0)
        return -EACCES;
    res->use_candidate = stun_msg_attr(msg, STUN_ATTR_USE_CAND) != NULL;
    return icelite_respond(msg, src, pwd, res);
}

int icelite_handle(const uint8_t *p, size_t len, const struct sockaddr *src,
                   icelite_lookup_fn lookup, void *arg, struct icelite_result *res)
{
    memset(res, 0, sizeof(*res) - sizeof(res->response));
    /* RFC 5389 6: 20-byte header, body a multiple of 4; a request never needs more than a
     * few hundred bytes, so larger datagrams are refused before any allocation. */
    if (len < 20 || len > 1500 || (len & 3) || (p[0] & 0xc0))
        return -EBADMSG;
    struct mbuf *mb = mbuf_alloc(len);
    if (!mb)
        return -ENOMEM;
    struct stun_msg *msg = NULL;
    int err = mbuf_write_mem(mb, p, len) ? -ENOMEM : 0;
    if (!err) {
        mb->pos = 0;
        err = stun_msg_decode(&msg, mb, NULL) ? -EBADMSG : 0;
    }
    if (!err)
        err = icelite_check(msg, src, lookup, arg, res);
    mem_deref(msg);
    mem_deref(mb);
    return err;
}
