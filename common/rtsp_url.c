/* SPDX-License-Identifier: MIT */
/* rtsp_url.c: rtsp:// URL parsing, formatting without userinfo, and redaction of
 * credentials from free text (log lines, redirect targets, config sources). */
#include "common/rtsp_url.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/text.h"

int rtsp_url_parse(struct rtsp_url *u, const char *s)
{
    memset(u, 0, sizeof(*u));
    if (strncasecmp(s, "rtsp://", 7) != 0)
        return -EINVAL;
    s += 7;
    size_t auth_end = strcspn(s, "/?#");
    const char *at = memrchr(s, '@', auth_end);
    if (at) {
        const char *colon = memchr(s, ':', (size_t)(at - s));
        size_t ulen = colon ? (size_t)(colon - s) : (size_t)(at - s);
        /* Userinfo may hold '@' or ':' escaped. */
        if (text_pct_decode(u->user, sizeof(u->user), s, ulen) < 0)
            return -EINVAL;
        if (colon &&
            text_pct_decode(u->pass, sizeof(u->pass), colon + 1, (size_t)(at - colon - 1)) < 0)
            return -EINVAL;
        auth_end -= (size_t)(at + 1 - s);
        s = at + 1;
    }
    const char *hp_end = s + auth_end;
    const char *port = NULL;
    size_t hlen;
    if (*s == '[') {
        const char *rb = memchr(s, ']', auth_end);
        if (!rb)
            return -EINVAL;
        hlen = (size_t)(rb - s - 1);
        if (rb + 1 < hp_end) {
            if (rb[1] != ':')
                return -EINVAL;
            port = rb + 2;
        }
        s++;
    } else {
        const char *colon = memchr(s, ':', auth_end);
        hlen = colon ? (size_t)(colon - s) : auth_end;
        if (colon)
            port = colon + 1;
    }
    if (hlen == 0 || hlen >= sizeof(u->host))
        return -EINVAL;
    memcpy(u->host, s, hlen);
    u->host[hlen] = '\0';
    u->port = 554;
    if (port) {
        unsigned v = 0;
        if (port == hp_end)
            return -EINVAL;
        for (const char *q = port; q < hp_end; q++) {
            if (*q < '0' || *q > '9' || (v = v * 10 + (unsigned)(*q - '0')) > 65535)
                return -EINVAL;
        }
        if (v == 0)
            return -EINVAL;
        u->port = (uint16_t)v;
    }
    const char *path = hp_end;
    if (*path == '\0')
        path = "/";
    if (*path != '/' || strlen(path) >= sizeof(u->path))
        return -EINVAL;
    for (const char *q = path; *q; q++) {
        if ((unsigned char)*q <= ' ' || *q == 0x7f)
            return -EINVAL; /* would break the request line */
    }
    strcpy(u->path, path);
    return 0;
}

int rtsp_url_format(const struct rtsp_url *u, char *out, size_t outlen)
{
    bool v6 = strchr(u->host, ':') != NULL;
    int n = snprintf(out, outlen, "rtsp://%s%s%s:%u%s", v6 ? "[" : "", u->host, v6 ? "]" : "",
                     u->port, u->path);
    return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

void rtsp_url_redact(const char *s, char *out, size_t outlen)
{
    size_t o = 0;
    if (outlen == 0)
        return;
    while (*s && o + 1 < outlen) {
        const char *scheme = strstr(s, "://");
        if (!scheme) {
            break;
        }
        size_t pre = (size_t)(scheme + 3 - s);
        size_t auth = strcspn(scheme + 3, "/?# \t\r\n\"'");
        const char *at = memrchr(scheme + 3, '@', auth);
        size_t take = pre < outlen - 1 - o ? pre : outlen - 1 - o;
        memcpy(out + o, s, take);
        o += take;
        s = at ? at + 1 : scheme + 3;
    }
    size_t rest = strlen(s);
    if (rest > outlen - 1 - o)
        rest = outlen - 1 - o;
    memcpy(out + o, s, rest);
    out[o + rest] = '\0';
}

void rtsp_url_source_redact(const char *src, char *out, size_t outlen)
{
    struct rtsp_url u;
    if (strncmp(src, "rtsp://", 7) != 0)
        snprintf(out, outlen, "%s", src);
    else if (rtsp_url_parse(&u, src) < 0 || rtsp_url_format(&u, out, outlen) < 0)
        snprintf(out, outlen, "rtsp://(unparsable URL hidden)");
}
