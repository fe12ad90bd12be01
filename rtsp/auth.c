/* SPDX-License-Identifier: MIT */
/* auth.c: Basic and Digest (MD5, MD5-sess) authentication for the RTSP client, and the
 * server's check of a publisher's Basic or Digest MD5 answer. The digest arithmetic follows
 * RFC 2617 3.2.2 (RFC 7616 3.4.1 keeps it for MD5). */
#include "rtsp/auth.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "codec/codec.h"
#include "common/md5sum.h"
#include "rtsp/msg.h"

/* Lowercase hex MD5 of the concatenated parts (RFC 2617's H and KD). */
static void md5_hex(char out[33], const char *const *parts, unsigned n)
{
    uint8_t md[MD5SUM_LEN];
    struct md5sum m;
    md5sum_init(&m);
    for (unsigned i = 0; i < n; i++)
        md5sum_update(&m, parts[i], strlen(parts[i]));
    md5sum_final(&m, md);
    explicit_bzero(&m, sizeof(m)); /* it held the password */
    for (unsigned i = 0; i < MD5SUM_LEN; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* Reads the next auth-param "name=value" or name="quoted" at *s; false at the end. Values
 * longer than vcap are -EBADMSG through *err. */
static bool next_param(const char **s, char *name, size_t ncap, char *val, size_t vcap, int *err)
{
    const char *p = *s;
    while (*p == ' ' || *p == '\t' || *p == ',')
        p++;
    if (!*p)
        return false;
    size_t n = strcspn(p, "= \t,");
    if (n == 0 || n >= ncap || p[n] != '=') {
        *err = -EBADMSG;
        return false;
    }
    memcpy(name, p, n);
    name[n] = '\0';
    p += n + 1;
    size_t o = 0;
    if (*p == '"') {
        p++;
        while (*p && *p != '"') {
            if (*p == '\\' && p[1])
                p++;
            if (o + 1 >= vcap) {
                *err = -EBADMSG;
                return false;
            }
            val[o++] = *p++;
        }
        if (*p != '"') {
            *err = -EBADMSG;
            return false;
        }
        p++;
    } else {
        while (*p && *p != ',' && *p != ' ' && *p != '\t') {
            if (o + 1 >= vcap) {
                *err = -EBADMSG;
                return false;
            }
            val[o++] = *p++;
        }
    }
    val[o] = '\0';
    *s = p;
    return true;
}

static int parse_digest(struct rtsp_auth *a, const char *params)
{
    char name[32], val[256];
    int err = 0;
    memset(a, 0, sizeof(*a));
    while (next_param(&params, name, sizeof(name), val, sizeof(val), &err)) {
        if (strcasecmp(name, "realm") == 0)
            snprintf(a->realm, sizeof(a->realm), "%s", val);
        else if (strcasecmp(name, "nonce") == 0)
            snprintf(a->nonce, sizeof(a->nonce), "%s", val);
        else if (strcasecmp(name, "opaque") == 0)
            snprintf(a->opaque, sizeof(a->opaque), "%s", val);
        else if (strcasecmp(name, "qop") == 0)
            a->qop_auth = rtsp_list_has(val, "auth");
        else if (strcasecmp(name, "stale") == 0)
            a->stale = strcasecmp(val, "true") == 0;
        else if (strcasecmp(name, "algorithm") == 0) {
            if (strcasecmp(val, "MD5-sess") == 0)
                a->sess = true;
            else if (strcasecmp(val, "MD5") != 0)
                return -ENOTSUP;
        }
    }
    if (err < 0)
        return err;
    if (!a->nonce[0])
        return -EBADMSG;
    a->scheme = RTSP_AUTH_DIGEST;
    return 0;
}

int rtsp_auth_challenge(struct rtsp_auth *a, const char *const *values, unsigned n)
{
    int best = -ENOTSUP;
    memset(a, 0, sizeof(*a));
    for (unsigned i = 0; i < n; i++) {
        const char *v = values[i];
        if (strncasecmp(v, "Digest", 6) == 0 && (v[6] == ' ' || v[6] == '\t')) {
            struct rtsp_auth d;
            int err = parse_digest(&d, v + 7);
            if (err == 0) {
                *a = d;
                return 0;
            }
            if (best == -ENOTSUP)
                best = err;
        } else if (strncasecmp(v, "Basic", 5) == 0 && (v[5] == '\0' || v[5] == ' ')) {
            if (a->scheme == RTSP_AUTH_NONE) {
                a->scheme = RTSP_AUTH_BASIC;
                best = 0;
            }
        }
    }
    return a->scheme == RTSP_AUTH_BASIC ? 0 : best;
}

static int basic_header(const char *user, const char *pass, char *out, size_t outlen)
{
    char plain[2 * 128 + 2];
    int n = snprintf(plain, sizeof(plain), "%s:%s", user, pass);
    if (n < 0 || (size_t)n >= sizeof(plain))
        return -ENAMETOOLONG;
    if (outlen < 6)
        return -ENAMETOOLONG;
    memcpy(out, "Basic ", 6);
    return codec_base64_encode((const uint8_t *)plain, (size_t)n, out + 6, outlen - 6) < 0
               ? -ENAMETOOLONG
               : 0;
}

/* s as the inside of a quoted-string (RFC 2616 2.2): backslash and double quote escaped, so
 * that a server's realm, nonce or opaque echoed back cannot end the string early. */
static void quote(char *out, size_t cap, const char *s)
{
    size_t o = 0;
    for (; *s && o + 2 < cap; s++) {
        if (*s == '\\' || *s == '"')
            out[o++] = '\\';
        out[o++] = *s;
    }
    out[o] = '\0';
}

int rtsp_auth_header(struct rtsp_auth *a, const char *user, const char *pass, const char *method,
                     const char *uri, const char *cnonce, char *out, size_t outlen)
{
    if (a->scheme == RTSP_AUTH_BASIC)
        return basic_header(user, pass, out, outlen);
    if (a->scheme != RTSP_AUTH_DIGEST || strpbrk(user, "\"\r\n"))
        return -EINVAL; /* a quote would end the quoted username early */
    char ha1[33], ha2[33], resp[33], nc[9];
    if (!a->sess || !a->sess_ha1[0]) {
        const char *p1[] = {user, ":", a->realm, ":", pass};
        md5_hex(ha1, p1, 5);
    }
    if (a->sess && !a->sess_ha1[0]) { /* the challenge's first request */
        if (strlen(cnonce) >= sizeof(a->sess_cnonce))
            return -EINVAL;
        const char *ps[] = {ha1, ":", a->nonce, ":", cnonce};
        md5_hex(a->sess_ha1, ps, 5);
        snprintf(a->sess_cnonce, sizeof(a->sess_cnonce), "%s", cnonce);
    }
    if (a->sess) {
        memcpy(ha1, a->sess_ha1, sizeof(ha1));
        cnonce = a->sess_cnonce;
    }
    const char *p2[] = {method, ":", uri};
    md5_hex(ha2, p2, 3);
    a->nc++;
    snprintf(nc, sizeof(nc), "%08x", a->nc);
    if (a->qop_auth) {
        const char *pr[] = {ha1, ":", a->nonce, ":", nc, ":", cnonce, ":", "auth", ":", ha2};
        md5_hex(resp, pr, 11);
    } else {
        const char *pr[] = {ha1, ":", a->nonce, ":", ha2};
        md5_hex(resp, pr, 5);
    }
    char realm[2 * sizeof(a->realm)], nonce[2 * sizeof(a->nonce)], opaque[2 * sizeof(a->opaque)];
    quote(realm, sizeof(realm), a->realm);
    quote(nonce, sizeof(nonce), a->nonce);
    quote(opaque, sizeof(opaque), a->opaque);
    int n = snprintf(out, outlen,
                     "Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"%s\", "
                     "response=\"%s\"%s%s%s%s%s%s%s%s",
                     user, realm, nonce, uri, resp, a->sess ? ", algorithm=MD5-sess" : "",
                     a->opaque[0] ? ", opaque=\"" : "", opaque, a->opaque[0] ? "\"" : "",
                     a->qop_auth ? ", qop=auth, nc=" : "", a->qop_auth ? nc : "",
                     a->qop_auth ? ", cnonce=\"" : "", a->qop_auth ? cnonce : "");
    if (n < 0 || (size_t)n + 1 >= outlen)
        return -ENAMETOOLONG;
    if (a->qop_auth)
        strcat(out, "\"");
    return 0;
}

/* ---- server side ---- */

int rtsp_auth_challenge_write(char *out, size_t cap, const char *realm, const char *nonce)
{
    int n = snprintf(out, cap,
                     "WWW-Authenticate: Digest realm=\"%s\", nonce=\"%s\", algorithm=MD5, "
                     "qop=\"auth\"\r\nWWW-Authenticate: Basic realm=\"%s\"\r\n",
                     realm, nonce, realm);
    return n < 0 || (size_t)n >= cap ? -ENOSPC : n;
}

/* Equal strings, in time independent of where they differ (their lengths are not secret). */
static bool secret_equal(const char *a, const char *b)
{
    size_t al = strlen(a);
    if (al != strlen(b))
        return false;
    /* volatile: the compiler may not stop at the first difference. */
    volatile unsigned char diff = 0;
    for (size_t i = 0; i < al; i++)
        diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

static int check_basic(const char *b, const char *user, const char *pass)
{
    while (*b == ' ')
        b++;
    uint8_t dec[2 * 128 + 2];
    int n = codec_base64_decode(b, strcspn(b, " "), dec, sizeof(dec) - 1);
    if (n < 0)
        return -EBADMSG;
    dec[n] = '\0';
    char *colon = memchr(dec, ':', (size_t)n);
    if (!colon || memchr(dec, '\0', (size_t)n))
        return -EBADMSG;
    *colon = '\0';
    /* Both compared whatever the first gives: no early exit tells which one was wrong. */
    bool user_ok = secret_equal((const char *)dec, user), pass_ok = secret_equal(colon + 1, pass);
    bool ok = user_ok && pass_ok;
    explicit_bzero(dec, sizeof(dec));
    return ok ? 0 : -EACCES;
}

/* A Digest answer's fields (RFC 2617 3.2.2). */
struct digest_answer {
    char username[128], realm[128], nonce[128], uri[RTSP_URL_MAX], response[33], qop[16], nc[9],
        cnonce[128];
};

static int parse_answer(struct digest_answer *d, const char *params)
{
    static const struct {
        const char *name;
        size_t off, cap;
    } fields[] = {
#define FIELD(f) {#f, offsetof(struct digest_answer, f), sizeof(((struct digest_answer *)0)->f)}
        FIELD(username), FIELD(realm), FIELD(nonce), FIELD(uri),
        FIELD(response), FIELD(qop),   FIELD(nc),    FIELD(cnonce),
#undef FIELD
    };
    char name[32], val[RTSP_URL_MAX];
    int err = 0;
    memset(d, 0, sizeof(*d));
    while (next_param(&params, name, sizeof(name), val, sizeof(val), &err)) {
        if (strcasecmp(name, "algorithm") == 0 && strcasecmp(val, "MD5") != 0)
            return -ENOTSUP;
        for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
            if (strcasecmp(name, fields[i].name) != 0)
                continue;
            if (strlen(val) >= fields[i].cap)
                return -EBADMSG;
            memcpy((char *)d + fields[i].off, val, strlen(val) + 1);
        }
    }
    if (err < 0)
        return err;
    if (!d->username[0] || !d->nonce[0] || !d->uri[0] || strlen(d->response) != 32)
        return -EBADMSG;
    if (d->qop[0] && (strcasecmp(d->qop, "auth") != 0 || !d->nc[0] || !d->cnonce[0]))
        return -EBADMSG;
    return 0;
}

static int check_digest(const char *params, const char *method, const char *realm,
                        const char *nonce, const char *user, const char *pass)
{
    struct digest_answer d;
    int err = parse_answer(&d, params);
    if (err < 0)
        return err;
    if (strcmp(d.realm, realm) != 0 || strcmp(d.nonce, nonce) != 0)
        return -EACCES;
    char ha1[33], ha2[33], want[33];
    const char *p1[] = {d.username, ":", realm, ":", pass};
    md5_hex(ha1, p1, 5);
    const char *p2[] = {method, ":", d.uri};
    md5_hex(ha2, p2, 3);
    if (d.qop[0]) {
        const char *pr[] = {ha1, ":", nonce, ":", d.nc, ":", d.cnonce, ":", "auth", ":", ha2};
        md5_hex(want, pr, 11);
    } else {
        const char *pr[] = {ha1, ":", nonce, ":", ha2};
        md5_hex(want, pr, 5);
    }
    for (char *c = d.response; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    /* Both compared whatever the first gives, as for Basic. */
    bool user_ok = secret_equal(d.username, user), resp_ok = secret_equal(d.response, want);
    bool ok = user_ok && resp_ok;
    explicit_bzero(ha1, sizeof(ha1));
    return ok ? 0 : -EACCES;
}

int rtsp_auth_check(const char *authorization, const char *method, const char *realm,
                    const char *nonce, const char *user, const char *pass)
{
    const char *a = authorization;
    if (!a[0])
        return -ENOENT;
    if (strncasecmp(a, "Basic ", 6) == 0)
        return check_basic(a + 6, user, pass);
    if (strncasecmp(a, "Digest ", 7) == 0)
        return check_digest(a + 7, method, realm, nonce, user, pass);
    return -ENOTSUP;
}
