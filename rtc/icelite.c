/* SPDX-License-Identifier: MIT */
/* icelite.c: STUN Binding requests of an ICE-lite agent, parsed and answered in place (RFC
 * 5389/8489 framing, short-term credentials, FINGERPRINT). The agent is always controlled (RFC
 * 8445 6.1.1): it never sends checks, it answers the peer's, and it learns the peer's address
 * from the checks that authenticate. Nothing here allocates: a consent check every few seconds
 * per viewer adds up to thousands of datagrams a second on a busy worker. */
#include "rtc/icelite.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/random.h>

#include <netinet/in.h>

#include <openssl/crypto.h>

#include "common/bytes.h"
#include "common/hmac_sha1.h"

#define ICELITE_HDR_LEN       20
#define ICELITE_COOKIE        0x2112a442u /* RFC 5389 6 */
#define ICELITE_FP_XOR        0x5354554eu /* RFC 5389 15.5 */
#define ICELITE_MI_LEN        HMACSHA1_LEN
#define ICELITE_BINDING_REQ   0x0001
#define ICELITE_BINDING_OK    0x0101
#define ICELITE_USERNAME      0x0006 /* RFC 5389 18.2 */
#define ICELITE_MSG_INTEGRITY 0x0008
#define ICELITE_XOR_MAPPED    0x0020
#define ICELITE_PRIORITY      0x0024 /* RFC 8445 16.1 */
#define ICELITE_USE_CANDIDATE 0x0025
#define ICELITE_FINGERPRINT   0x8028
#define ICELITE_CONTROLLED    0x8029
#define ICELITE_OPTIONAL      0x8000 /* types from here on may be ignored (RFC 5389 15) */

_Static_assert(ICELITE_RESPONSE_MAX >= ICELITE_HDR_LEN + 24 + 4 + ICELITE_MI_LEN + 8,
               "an IPv6 response fits");

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

/* CRC-32 of ISO 3309 / ITU-T V.42 (RFC 1952 8: reflected polynomial 0xedb88320), one table
 * entry per byte value: entry n is n run through the eight shift-and-xor steps. */
static const uint32_t icelite_crc_table[256] = {
    0x00000000, 0x77073096, 0xee0e612c, 0x990951ba, 0x076dc419, 0x706af48f, 0xe963a535, 0x9e6495a3,
    0x0edb8832, 0x79dcb8a4, 0xe0d5e91e, 0x97d2d988, 0x09b64c2b, 0x7eb17cbd, 0xe7b82d07, 0x90bf1d91,
    0x1db71064, 0x6ab020f2, 0xf3b97148, 0x84be41de, 0x1adad47d, 0x6ddde4eb, 0xf4d4b551, 0x83d385c7,
    0x136c9856, 0x646ba8c0, 0xfd62f97a, 0x8a65c9ec, 0x14015c4f, 0x63066cd9, 0xfa0f3d63, 0x8d080df5,
    0x3b6e20c8, 0x4c69105e, 0xd56041e4, 0xa2677172, 0x3c03e4d1, 0x4b04d447, 0xd20d85fd, 0xa50ab56b,
    0x35b5a8fa, 0x42b2986c, 0xdbbbc9d6, 0xacbcf940, 0x32d86ce3, 0x45df5c75, 0xdcd60dcf, 0xabd13d59,
    0x26d930ac, 0x51de003a, 0xc8d75180, 0xbfd06116, 0x21b4f4b5, 0x56b3c423, 0xcfba9599, 0xb8bda50f,
    0x2802b89e, 0x5f058808, 0xc60cd9b2, 0xb10be924, 0x2f6f7c87, 0x58684c11, 0xc1611dab, 0xb6662d3d,
    0x76dc4190, 0x01db7106, 0x98d220bc, 0xefd5102a, 0x71b18589, 0x06b6b51f, 0x9fbfe4a5, 0xe8b8d433,
    0x7807c9a2, 0x0f00f934, 0x9609a88e, 0xe10e9818, 0x7f6a0dbb, 0x086d3d2d, 0x91646c97, 0xe6635c01,
    0x6b6b51f4, 0x1c6c6162, 0x856530d8, 0xf262004e, 0x6c0695ed, 0x1b01a57b, 0x8208f4c1, 0xf50fc457,
    0x65b0d9c6, 0x12b7e950, 0x8bbeb8ea, 0xfcb9887c, 0x62dd1ddf, 0x15da2d49, 0x8cd37cf3, 0xfbd44c65,
    0x4db26158, 0x3ab551ce, 0xa3bc0074, 0xd4bb30e2, 0x4adfa541, 0x3dd895d7, 0xa4d1c46d, 0xd3d6f4fb,
    0x4369e96a, 0x346ed9fc, 0xad678846, 0xda60b8d0, 0x44042d73, 0x33031de5, 0xaa0a4c5f, 0xdd0d7cc9,
    0x5005713c, 0x270241aa, 0xbe0b1010, 0xc90c2086, 0x5768b525, 0x206f85b3, 0xb966d409, 0xce61e49f,
    0x5edef90e, 0x29d9c998, 0xb0d09822, 0xc7d7a8b4, 0x59b33d17, 0x2eb40d81, 0xb7bd5c3b, 0xc0ba6cad,
    0xedb88320, 0x9abfb3b6, 0x03b6e20c, 0x74b1d29a, 0xead54739, 0x9dd277af, 0x04db2615, 0x73dc1683,
    0xe3630b12, 0x94643b84, 0x0d6d6a3e, 0x7a6a5aa8, 0xe40ecf0b, 0x9309ff9d, 0x0a00ae27, 0x7d079eb1,
    0xf00f9344, 0x8708a3d2, 0x1e01f268, 0x6906c2fe, 0xf762575d, 0x806567cb, 0x196c3671, 0x6e6b06e7,
    0xfed41b76, 0x89d32be0, 0x10da7a5a, 0x67dd4acc, 0xf9b9df6f, 0x8ebeeff9, 0x17b7be43, 0x60b08ed5,
    0xd6d6a3e8, 0xa1d1937e, 0x38d8c2c4, 0x4fdff252, 0xd1bb67f1, 0xa6bc5767, 0x3fb506dd, 0x48b2364b,
    0xd80d2bda, 0xaf0a1b4c, 0x36034af6, 0x41047a60, 0xdf60efc3, 0xa867df55, 0x316e8eef, 0x4669be79,
    0xcb61b38c, 0xbc66831a, 0x256fd2a0, 0x5268e236, 0xcc0c7795, 0xbb0b4703, 0x220216b9, 0x5505262f,
    0xc5ba3bbe, 0xb2bd0b28, 0x2bb45a92, 0x5cb36a04, 0xc2d7ffa7, 0xb5d0cf31, 0x2cd99e8b, 0x5bdeae1d,
    0x9b64c2b0, 0xec63f226, 0x756aa39c, 0x026d930a, 0x9c0906a9, 0xeb0e363f, 0x72076785, 0x05005713,
    0x95bf4a82, 0xe2b87a14, 0x7bb12bae, 0x0cb61b38, 0x92d28e9b, 0xe5d5be0d, 0x7cdcefb7, 0x0bdbdf21,
    0x86d3d2d4, 0xf1d4e242, 0x68ddb3f8, 0x1fda836e, 0x81be16cd, 0xf6b9265b, 0x6fb077e1, 0x18b74777,
    0x88085ae6, 0xff0f6a70, 0x66063bca, 0x11010b5c, 0x8f659eff, 0xf862ae69, 0x616bffd3, 0x166ccf45,
    0xa00ae278, 0xd70dd2ee, 0x4e048354, 0x3903b3c2, 0xa7672661, 0xd06016f7, 0x4969474d, 0x3e6e77db,
    0xaed16a4a, 0xd9d65adc, 0x40df0b66, 0x37d83bf0, 0xa9bcae53, 0xdebb9ec5, 0x47b2cf7f, 0x30b5ffe9,
    0xbdbdf21c, 0xcabac28a, 0x53b39330, 0x24b4a3a6, 0xbad03605, 0xcdd70693, 0x54de5729, 0x23d967bf,
    0xb3667a2e, 0xc4614ab8, 0x5d681b02, 0x2a6f2b94, 0xb40bbe37, 0xc30c8ea1, 0x5a05df1b, 0x2d02ef8d,
};

static uint32_t icelite_fingerprint(const uint8_t *p, size_t len)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < len; i++)
        c = icelite_crc_table[(c ^ p[i]) & 0xff] ^ (c >> 8);
    return ~c ^ ICELITE_FP_XOR;
}

/* MESSAGE-INTEGRITY (RFC 5389 15.4): HMAC-SHA1 keyed with the short-term password (key) over
 * the 20-byte header hdr (its length already set to end with the MI attribute) and the
 * attributes before MI, body[0..blen). */
static void icelite_mi(const struct hmacsha1 *key, const uint8_t *hdr, const uint8_t *body,
                       size_t blen, uint8_t mac[ICELITE_MI_LEN])
{
    hmacsha1_mac(key, hdr, ICELITE_HDR_LEN, body, blen, mac);
}

/* What the attribute walk found: offsets into the datagram (0 = absent). */
struct icelite_req {
    size_t user, user_len;
    size_t mi, fp;
    bool use_candidate;
    bool unknown_required; /* a comprehension-required type we do not know */
};

/* Walks the attributes of the whole message p[0..len) (len - 20 a multiple of 4): each one
 * type, length and value padded to 4 bytes, all within the message. After MESSAGE-INTEGRITY
 * only FINGERPRINT counts (RFC 5389 15.4), and FINGERPRINT must be last (15.5). */
static int icelite_walk(const uint8_t *p, size_t len, struct icelite_req *rq)
{
    for (size_t o = ICELITE_HDR_LEN; o < len;) {
        uint16_t type = be16_get(p + o), alen = be16_get(p + o + 2);
        size_t next = o + 4 + (((size_t)alen + 3) & ~(size_t)3);
        if (next > len || rq->fp)
            return -EBADMSG;
        if (type == ICELITE_FINGERPRINT) {
            if (alen != 4)
                return -EBADMSG;
            rq->fp = o;
        } else if (rq->mi) {
            /* ignored: not covered by the integrity check */
        } else if (type == ICELITE_MSG_INTEGRITY) {
            if (alen != ICELITE_MI_LEN)
                return -EBADMSG;
            rq->mi = o;
        } else if (type == ICELITE_USERNAME) {
            if (!rq->user) {
                rq->user = o + 4;
                rq->user_len = alen;
            }
        } else if (type == ICELITE_USE_CANDIDATE) {
            rq->use_candidate = true;
        } else if (type != ICELITE_PRIORITY && type < ICELITE_OPTIONAL) {
            /* ICE-CONTROLLED/-CONTROLLING (0x8029/0x802a) and Chrome's GOOG-NETWORK-INFO
             * (0xc057) are comprehension-optional: they never get here. */
            rq->unknown_required = true;
        }
        o = next;
    }
    return 0;
}

/* Splits USERNAME "<ours>:<theirs>" (RFC 8445 7.2.2) at its first colon into two bounded
 * strings; the bounds also keep it under RFC 5389 15.3's 513 bytes. A NUL would cut the
 * ufrag short in the lookup, so none is accepted. */
static int icelite_split_username(const uint8_t *user, size_t len, char *local, char *remote)
{
    const uint8_t *colon = memchr(user, ':', len);
    if (!colon || memchr(user, '\0', len))
        return -EACCES;
    size_t ll = (size_t)(colon - user), rl = len - ll - 1;
    if (ll == 0 || ll >= ICELITE_UFRAG_MAX || rl >= ICELITE_UFRAG_MAX)
        return -EACCES;
    memcpy(local, user, ll);
    local[ll] = '\0';
    memcpy(remote, colon + 1, rl);
    remote[rl] = '\0';
    return 0;
}

/* RFC 5389 15.2: the port is XORed with the cookie's top 16 bits, an IPv4 address with the
 * cookie, an IPv6 address with the cookie and the transaction id. Returns the attribute's
 * size, or -EAFNOSUPPORT. */
static int icelite_put_xor_mapped(uint8_t *o, const struct sockaddr *src, const uint8_t *cookie_tid)
{
    const uint8_t *addr;
    size_t alen;
    uint16_t port;
    if (src->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)src;
        addr = (const uint8_t *)&in->sin_addr;
        alen = 4;
        port = ntohs(in->sin_port);
    } else if (src->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)src;
        addr = (const uint8_t *)&in6->sin6_addr;
        alen = 16;
        port = ntohs(in6->sin6_port);
    } else {
        return -EAFNOSUPPORT;
    }
    o = be16_put(o, ICELITE_XOR_MAPPED);
    o = be16_put(o, (uint16_t)(4 + alen));
    *o++ = 0;
    *o++ = alen == 4 ? 1 : 2; /* family */
    o = be16_put(o, port ^ (ICELITE_COOKIE >> 16));
    for (size_t i = 0; i < alen; i++)
        o[i] = addr[i] ^ cookie_tid[i];
    return (int)(8 + alen);
}

/* Ends a message whose attributes end at off: MESSAGE-INTEGRITY under key, then FINGERPRINT
 * (RFC 5389 15.4, 15.5), each computed with the header's length covering it. Returns the
 * message's length. */
static size_t icelite_seal(uint8_t *m, size_t off, const struct hmacsha1 *key)
{
    size_t fp = off + 4 + ICELITE_MI_LEN;
    be16_put(m + 2, (uint16_t)(fp - ICELITE_HDR_LEN));
    be16_put(m + off, ICELITE_MSG_INTEGRITY);
    be16_put(m + off + 2, ICELITE_MI_LEN);
    icelite_mi(key, m, m + ICELITE_HDR_LEN, off - ICELITE_HDR_LEN, m + off + 4);
    be16_put(m + 2, (uint16_t)(fp + 8 - ICELITE_HDR_LEN));
    be16_put(m + fp, ICELITE_FINGERPRINT);
    be16_put(m + fp + 2, 4);
    be32_put(m + fp + 4, icelite_fingerprint(m, fp));
    return fp + 8;
}

/* Binding success response (RFC 5389 7.3.1.1) with XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY
 * under our password and FINGERPRINT, written into res->response. */
static int icelite_respond(const uint8_t *req, const struct sockaddr *src,
                           const struct hmacsha1 *key, struct icelite_result *res)
{
    uint8_t *r = res->response;
    int xl = icelite_put_xor_mapped(r + ICELITE_HDR_LEN, src, req + 4);
    if (xl < 0)
        return xl;
    be16_put(r, ICELITE_BINDING_OK);
    memcpy(r + 4, req + 4, 16); /* cookie and transaction id */
    res->response_len = icelite_seal(r, ICELITE_HDR_LEN + (size_t)xl, key);
    return 0;
}

/* RFC 5389 15.4: the integrity covers the message up to MI, with the header's length set as
 * if MI ended the message. */
static bool icelite_mi_ok(const uint8_t *p, size_t mi, const struct hmacsha1 *key)
{
    uint8_t hdr[ICELITE_HDR_LEN], mac[ICELITE_MI_LEN];
    memcpy(hdr, p, sizeof(hdr));
    be16_put(hdr + 2, (uint16_t)(mi + 4 + ICELITE_MI_LEN - ICELITE_HDR_LEN));
    icelite_mi(key, hdr, p + ICELITE_HDR_LEN, mi - ICELITE_HDR_LEN, mac);
    return CRYPTO_memcmp(mac, p + mi + 4, sizeof(mac)) == 0;
}

/* The framing every message must pass, with its attributes walked into rq: RFC 5389 6, a
 * 20-byte header whose length field counts the rest, a multiple of 4, the two top bits zero
 * (a check never needs more than a few hundred bytes); RFC 8445 7.2.2, FINGERPRINT present
 * and right, which tells STUN from other traffic. 0 or -EBADMSG. */
static int icelite_parse(const uint8_t *p, size_t len, struct icelite_req *rq)
{
    memset(rq, 0, sizeof(*rq));
    if (len < ICELITE_HDR_LEN || len > 1500 || (len & 3) || (p[0] & 0xc0) ||
        be16_get(p + 2) != len - ICELITE_HDR_LEN || be32_get(p + 4) != ICELITE_COOKIE)
        return -EBADMSG;
    int err = icelite_walk(p, len, rq);
    if (err)
        return err;
    if (!rq->fp || be32_get(p + rq->fp + 4) != icelite_fingerprint(p, rq->fp))
        return -EBADMSG;
    return 0;
}

int icelite_handle(const uint8_t *p, size_t len, const struct sockaddr *src,
                   icelite_lookup_fn lookup, void *arg, struct icelite_result *res)
{
    memset(res, 0, sizeof(*res) - sizeof(res->response));
    struct icelite_req rq;
    int err = icelite_parse(p, len, &rq);
    if (err)
        return err;
    if (be16_get(p) != ICELITE_BINDING_REQ)
        return -ENOTSUP;
    if (!rq.user)
        return -EACCES;
    char local[ICELITE_UFRAG_MAX], remote[ICELITE_UFRAG_MAX];
    err = icelite_split_username(p + rq.user, rq.user_len, local, remote);
    if (err)
        return err;
    const char *pwd = lookup(arg, local, remote, &res->session);
    if (!pwd)
        return -ENOENT;
    /* RFC 8445 7.3: a request that does not authenticate with our password is dropped. The
     * password keys both the check and the response's MI. */
    if (!rq.mi)
        return -EACCES;
    struct hmacsha1 key;
    hmacsha1_init(&key, pwd, strlen(pwd));
    if (!icelite_mi_ok(p, rq.mi, &key))
        return -EACCES;
    /* RFC 5389 7.3.1 would answer 420 to an unknown comprehension-required attribute (after
     * authentication); an ICE-lite agent may simply drop such a request. Browsers send only
     * PRIORITY and USE-CANDIDATE below 0x8000. */
    if (rq.unknown_required)
        return -ENOTSUP;
    res->use_candidate = rq.use_candidate;
    return icelite_respond(p, src, &key, res);
}

int icelite_consent_request(uint8_t out[ICELITE_REQUEST_MAX], const char *remote_ufrag,
                            const char *local_ufrag, const char *remote_pwd,
                            const uint8_t tid[ICELITE_TID_LEN])
{
    size_t rl = strlen(remote_ufrag), ll = strlen(local_ufrag), ul = rl + 1 + ll;
    if (rl >= ICELITE_UFRAG_MAX || ll >= ICELITE_UFRAG_MAX)
        return -EINVAL;
    size_t padded = (ul + 3) & ~(size_t)3;
    _Static_assert(ICELITE_REQUEST_MAX >= ICELITE_HDR_LEN + 4 + 2 * ICELITE_UFRAG_MAX + 8 + 12 + 4 +
                                              ICELITE_MI_LEN + 8,
                   "the longest consent request fits");
    uint8_t *o = out;
    be16_put(o, ICELITE_BINDING_REQ);
    be32_put(o + 4, ICELITE_COOKIE);
    memcpy(o + 8, tid, ICELITE_TID_LEN);
    o += ICELITE_HDR_LEN;
    o = be16_put(o, ICELITE_USERNAME);
    o = be16_put(o, (uint16_t)ul);
    memcpy(o, remote_ufrag, rl);
    o[rl] = ':';
    memcpy(o + rl + 1, local_ufrag, ll);
    memset(o + ul, 0, padded - ul);
    o += padded;
    /* RFC 8445 5.1.2.1 priority of a host candidate (type preference 126, one component):
     * what a peer-reflexive candidate learnt from this request would get. */
    o = be16_put(o, ICELITE_PRIORITY);
    o = be16_put(o, 4);
    o = be32_put(o, (126u << 24) | (65535u << 8) | 255u);
    /* The tie-breaker matters only in a role conflict, which a lite agent never wins. */
    o = be16_put(o, ICELITE_CONTROLLED);
    o = be16_put(o, 8);
    memcpy(o, tid, 8);
    o += 8;
    struct hmacsha1 key;
    hmacsha1_init(&key, remote_pwd, strlen(remote_pwd));
    return (int)icelite_seal(out, (size_t)(o - out), &key);
}

int icelite_consent_response(const uint8_t *p, size_t len, const uint8_t tid[ICELITE_TID_LEN],
                             const char *remote_pwd)
{
    struct icelite_req rq;
    int err = icelite_parse(p, len, &rq);
    if (err)
        return err;
    if (be16_get(p) != ICELITE_BINDING_OK)
        return -ENOTSUP;
    if (CRYPTO_memcmp(p + 8, tid, ICELITE_TID_LEN) != 0)
        return -ESRCH;
    struct hmacsha1 key;
    hmacsha1_init(&key, remote_pwd, strlen(remote_pwd));
    return rq.mi && icelite_mi_ok(p, rq.mi, &key) ? 0 : -EACCES;
}
