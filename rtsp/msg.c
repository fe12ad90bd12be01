/* SPDX-License-Identifier: MIT */
/* msg.c: RTSP/1.0 wire format: control URLs, responses, the interleaved TCP demux and
 * Transport headers. Every length read from the peer is checked against the bytes at hand
 * and against the caps in msg.h before it is used. */
#include "rtsp/msg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "codec/codec.h"
#include "common/head.h"
#include "common/text.h"

/* ---- control URLs ---- */

int rtsp_url_resolve(const char *base, const char *control, char *out, size_t outlen)
{
    int n;
    if (!control || !*control || strcmp(control, "*") == 0)
        n = snprintf(out, outlen, "%s", base);
    else if (strncasecmp(control, "rtsp://", 7) == 0 || strncasecmp(control, "rtsps://", 8) == 0)
        n = snprintf(out, outlen, "%s", control);
    else {
        size_t bl = strlen(base);
        bool slash = bl > 0 && base[bl - 1] == '/';
        n = snprintf(out, outlen, "%s%s%s", base, slash ? "" : "/", control);
    }
    return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

/* ---- message heads ---- */

struct span {
    const char *p;
    size_t n;
};

/* Next line of the head at *pos (without its CR LF); false at the end. */
static bool next_line(const uint8_t *p, size_t end, size_t *pos, struct span *line)
{
    if (*pos >= end)
        return false;
    const uint8_t *nl = memchr(p + *pos, '\n', end - *pos);
    size_t stop = nl ? (size_t)(nl - p) : end;
    line->p = (const char *)p + *pos;
    line->n = stop - *pos;
    if (line->n > 0 && line->p[line->n - 1] == '\r')
        line->n--;
    *pos = stop + 1;
    return true;
}

static struct span trim(struct span s)
{
    while (s.n && (s.p[0] == ' ' || s.p[0] == '\t'))
        s.p++, s.n--;
    while (s.n && (s.p[s.n - 1] == ' ' || s.p[s.n - 1] == '\t'))
        s.n--;
    return s;
}

static bool span_is(struct span s, const char *name)
{
    return strlen(name) == s.n && strncasecmp(s.p, name, s.n) == 0;
}

/* Copies a value into a fixed field; too long is a protocol error, not a truncation. */
static int copy_value(char *dst, size_t cap, struct span v)
{
    if (v.n >= cap)
        return -EBADMSG;
    for (size_t i = 0; i < v.n; i++) {
        if (v.p[i] == '\0')
            return -EBADMSG;
    }
    memcpy(dst, v.p, v.n);
    dst[v.n] = '\0';
    return 0;
}

static int parse_uint(struct span v, unsigned long max, unsigned long *out)
{
    unsigned long x = 0;
    if (v.n == 0 || v.n > 10)
        return -EBADMSG;
    for (size_t i = 0; i < v.n; i++) {
        if (v.p[i] < '0' || v.p[i] > '9')
            return -EBADMSG;
        x = x * 10 + (unsigned long)(v.p[i] - '0');
    }
    if (x > max)
        return -EMSGSIZE;
    *out = x;
    return 0;
}

/* Splits "Name: value"; false for a line without a colon or with an empty name. */
static bool split_header(struct span line, struct span *name, struct span *value)
{
    const char *colon = memchr(line.p, ':', line.n);
    if (!colon || colon == line.p)
        return false;
    name->p = line.p;
    name->n = (size_t)(colon - line.p);
    value->p = colon + 1;
    value->n = line.n - name->n - 1;
    *name = trim(*name);
    *value = trim(*value);
    return name->n > 0;
}

/* A CSeq value (RFC 2326 12.17), the same in requests and responses. 0 or -EBADMSG. */
static int parse_cseq(struct span v, uint32_t *cseq, bool *has_cseq)
{
    unsigned long x;
    if (parse_uint(v, 0xffffffffUL, &x) < 0)
        return -EBADMSG;
    *cseq = (uint32_t)x;
    *has_cseq = true;
    return 0;
}

static int parse_session(struct rtsp_response *r, struct span v)
{
    const char *semi = memchr(v.p, ';', v.n);
    struct span id = {v.p, semi ? (size_t)(semi - v.p) : v.n};
    int err = copy_value(r->session, sizeof(r->session), trim(id));
    if (err < 0 || !semi)
        return err;
    struct span rest = {semi + 1, v.n - id.n - 1};
    rest = trim(rest);
    if (rest.n > 8 && strncasecmp(rest.p, "timeout=", 8) == 0) {
        struct span t = {rest.p + 8, rest.n - 8};
        const char *end = memchr(t.p, ';', t.n);
        if (end)
            t.n = (size_t)(end - t.p);
        unsigned long x;
        if (parse_uint(trim(t), 86400, &x) == 0)
            r->session_timeout = (unsigned)x;
    }
    return 0;
}

static int response_header(void *msg, struct span name, struct span v)
{
    struct rtsp_response *r = msg;
    if (span_is(name, "CSeq"))
        return parse_cseq(v, &r->cseq, &r->has_cseq);
    if (span_is(name, "Session"))
        return parse_session(r, v);
    if (span_is(name, "Content-Base"))
        return copy_value(r->content_base, sizeof(r->content_base), v);
    if (span_is(name, "Content-Location"))
        return copy_value(r->content_location, sizeof(r->content_location), v);
    if (span_is(name, "Location"))
        return copy_value(r->location, sizeof(r->location), v);
    if (span_is(name, "Content-Type"))
        return copy_value(r->content_type, sizeof(r->content_type), v);
    if (span_is(name, "Transport"))
        return copy_value(r->transport, sizeof(r->transport), v);
    if (span_is(name, "Public"))
        return copy_value(r->publics, sizeof(r->publics), v);
    if (span_is(name, "WWW-Authenticate")) {
        if (r->n_auth >= RTSP_AUTH_HDR_MAX)
            return 0;
        return copy_value(r->www_auth[r->n_auth++], sizeof(r->www_auth[0]), v);
    }
    return 0;
}

static int parse_status_line(void *msg, struct span line)
{
    struct rtsp_response *r = msg;
    /* "RTSP/1.0 200 OK": the reason phrase may be empty. */
    if (line.n < 12 || memcmp(line.p, "RTSP/1.", 7) != 0 || line.p[8] != ' ')
        return -EBADMSG;
    int st = 0;
    for (int i = 9; i < 12; i++) {
        if (line.p[i] < '0' || line.p[i] > '9')
            return -EBADMSG;
        st = st * 10 + (line.p[i] - '0');
    }
    if (st < 100 || st > 599 || (line.n > 12 && line.p[12] != ' '))
        return -EBADMSG;
    r->status = st;
    /* The reason phrase goes into log lines: keep it short and printable. */
    size_t o = 0;
    for (size_t i = 13; i < line.n && o + 1 < sizeof(r->reason); i++)
        r->reason[o++] = line.p[i] >= ' ' && line.p[i] < 0x7f ? line.p[i] : '?';
    r->reason[o] = '\0';
    return 0;
}

/* Opens the head of the message at p (at most max bytes): its length (0 while it has not ended,
 * -EMSGSIZE), msg (size bytes) cleared, the start line in *first and where the header lines
 * begin in *pos. */
static long head_open(const uint8_t *p, size_t len, size_t max, void *msg, size_t size,
                      struct span *first, size_t *pos)
{
    long hl = head_end(p, len, max);
    if (hl <= 0)
        return hl;
    memset(msg, 0, size);
    *pos = 0;
    next_line(p, (size_t)hl, pos, first);
    return hl;
}

/* What a strictly read message (a response, a client's request) hands its parser: the start
 * line, then each header but Content-Length. Each returns 0 or -errno. */
struct msg_parser {
    size_t head_max, body_max;
    int (*start_line)(void *msg, struct span line);
    int (*header)(void *msg, struct span name, struct span value);
};

/* Parses the message at p into msg (size bytes, cleared first). Returns the bytes of its head
 * and body (Content-Length, else none; its length in *body_len), 0 while either is incomplete,
 * -EBADMSG for a line that is no header or two different lengths, -EMSGSIZE for a head or body
 * beyond the caps, or a handler's error. */
static int parse_message(const struct msg_parser *mp, void *msg, size_t size, const uint8_t *p,
                         size_t len, size_t *body_len)
{
    struct span line;
    size_t pos;
    long hl = head_open(p, len, mp->head_max, msg, size, &line, &pos);
    if (hl <= 0)
        return (int)hl;
    int err = mp->start_line(msg, line);
    if (err < 0)
        return err;
    unsigned long clen = (unsigned long)-1, x;
    while (next_line(p, (size_t)hl, &pos, &line)) {
        if (line.n == 0)
            break;
        if (line.p[0] == ' ' || line.p[0] == '\t')
            continue; /* obsolete line folding: the headers we read never need it */
        struct span name, value;
        if (!split_header(line, &name, &value))
            return -EBADMSG;
        if (!span_is(name, "Content-Length"))
            err = mp->header(msg, name, value);
        else if ((err = parse_uint(value, mp->body_max, &x)) == 0 && clen != (unsigned long)-1 &&
                 clen != x)
            err = -EBADMSG; /* two lengths: request smuggling territory */
        else
            clen = x;
        if (err < 0)
            return err;
    }
    if (clen == (unsigned long)-1)
        clen = 0;
    if ((size_t)hl + clen > len)
        return 0;
    *body_len = clen;
    return (int)((size_t)hl + clen);
}

int rtsp_response_parse(struct rtsp_response *r, const uint8_t *p, size_t len)
{
    static const char magic[] = "RTSP/";
    size_t k = len < 5 ? len : 5;
    if (memcmp(p, magic, k) != 0)
        return -EBADMSG; /* fail early: garbage never grows into a response */
    static const struct msg_parser mp = {RTSP_HEAD_MAX, RTSP_BODY_MAX, parse_status_line,
                                         response_header};
    int n = parse_message(&mp, r, sizeof(*r), p, len, &r->body_len);
    if (n > 0)
        r->body = p + n - r->body_len;
    return n;
}

/* A server's request: "METHOD uri RTSP/1.0". We only need its CSeq to answer it, and its
 * length to skip it. */
static int request_parse(struct rtsp_request_in *q, const uint8_t *p, size_t len)
{
    struct span line;
    size_t pos;
    long hl = head_open(p, len, RTSP_HEAD_MAX, q, sizeof(*q), &line, &pos);
    if (hl <= 0)
        return (int)hl;
    const char *sp = memchr(line.p, ' ', line.n);
    if (!sp || (size_t)(sp - line.p) >= sizeof(q->method) || line.n < 9 ||
        memcmp(line.p + line.n - 9, " RTSP/1.0", 9) != 0)
        return -EBADMSG;
    memcpy(q->method, line.p, (size_t)(sp - line.p));
    unsigned long clen = 0;
    while (next_line(p, (size_t)hl, &pos, &line)) {
        struct span name, value;
        if (line.n == 0 || !split_header(line, &name, &value))
            continue;
        if (span_is(name, "CSeq"))
            (void)parse_cseq(value, &q->cseq, &q->has_cseq); /* a bad one: answered without */
        else if (span_is(name, "Content-Length")) {
            int err = parse_uint(value, RTSP_BODY_MAX, &clen);
            if (err < 0)
                return err;
        }
    }
    if ((size_t)hl + clen > len)
        return 0;
    return (int)((size_t)hl + clen);
}

static bool looks_like_request(const uint8_t *p, size_t len)
{
    /* A method token in capitals, then a space (RFC 2326 6.1). */
    size_t i = 0;
    while (i < len && i < 32 && ((p[i] >= 'A' && p[i] <= 'Z') || p[i] == '_'))
        i++;
    if (i == len && i < 32)
        return true; /* undecided yet: wait for more bytes */
    return i > 0 && i < len && p[i] == ' ';
}

int rtsp_stream_next(struct rtsp_item *it, const uint8_t *p, size_t len)
{
    if (len == 0)
        return 0;
    if (p[0] == '$') {
        if (len < 4)
            return 0;
        size_t n = (size_t)p[2] << 8 | p[3];
        if (n < RTSP_INTERLEAVED_MIN)
            return -ERANGE;
        if (len < 4 + n)
            return 0;
        it->kind = RTSP_ITEM_INTERLEAVED;
        it->channel = p[1];
        it->data = p + 4;
        it->data_len = n;
        return (int)(4 + n);
    }
    if (p[0] == 'R' && (len < 5 || memcmp(p, "RTSP/", 5) == 0)) {
        it->kind = RTSP_ITEM_RESPONSE;
        return rtsp_response_parse(&it->resp, p, len);
    }
    if (looks_like_request(p, len)) {
        it->kind = RTSP_ITEM_REQUEST;
        return request_parse(&it->req, p, len);
    }
    return -EBADMSG;
}

/* ---- Transport, token lists ---- */

/* "a-b", or "a" meaning a, a + 1 (RFC 2326 12.39), each 0..65535: ports or channels. Anything
 * else (a number beyond the range, a + 1 beyond it, a second number that is not one) leaves the
 * pair at -1, -1 rather than guess a port the peer did not name. */
static void parse_pair(const char *v, int out[2])
{
    char *end;
    long a = strtol(v, &end, 10), b;
    if (end == v || a < 0 || a > 65535)
        return;
    b = a + 1;
    if (*end == '-') {
        const char *s = end + 1;
        b = strtol(s, &end, 10);
        if (end == s)
            return;
    }
    if (b < 0 || b > 65535)
        return;
    out[0] = (int)a;
    out[1] = (int)b;
}

int rtsp_transport_parse(struct rtsp_transport *t, const char *value)
{
    memset(t, 0, sizeof(*t));
    t->interleaved[0] = t->interleaved[1] = -1;
    t->server_port[0] = t->server_port[1] = -1;
    t->client_port[0] = t->client_port[1] = -1;
    const char *s = value;
    /* Only the first transport spec: a server answers with the one it chose. */
    size_t total = strcspn(s, ",");
    const char *end = s + total;
    while (s < end) {
        size_t n = strcspn(s, ";");
        if (s + n > end)
            n = (size_t)(end - s);
        char field[128];
        if (n < sizeof(field)) {
            memcpy(field, s, n);
            field[n] = '\0';
            if (strncasecmp(field, "RTP/AVP", 7) == 0) {
                t->rtp_avp = field[7] == '\0' || !strcasecmp(field + 7, "/TCP") ||
                             !strcasecmp(field + 7, "/UDP");
                t->tcp = !strcasecmp(field + 7, "/TCP");
            } else if (strcasecmp(field, "multicast") == 0)
                t->multicast = true;
            else if (strcasecmp(field, "mode=record") == 0 ||
                     strcasecmp(field, "mode=\"record\"") == 0)
                t->record = true;
            else if (strncasecmp(field, "interleaved=", 12) == 0)
                parse_pair(field + 12, t->interleaved);
            else if (strncasecmp(field, "server_port=", 12) == 0)
                parse_pair(field + 12, t->server_port);
            else if (strncasecmp(field, "client_port=", 12) == 0)
                parse_pair(field + 12, t->client_port);
            else if (strncasecmp(field, "ssrc=", 5) == 0) {
                char *e;
                unsigned long x = strtoul(field + 5, &e, 16);
                if (e != field + 5 && x <= 0xffffffffUL) {
                    t->ssrc = (uint32_t)x;
                    t->has_ssrc = true;
                }
            }
        }
        s += n;
        if (s < end)
            s++;
    }
    return 0;
}

int rtsp_transport_format(const struct rtsp_transport *t, char *out, size_t cap)
{
    int n;
    if (t->tcp)
        n = snprintf(out, cap, "RTP/AVP/TCP;unicast;interleaved=%d-%d", t->interleaved[0],
                     t->interleaved[1]);
    else
        n = snprintf(out, cap, "RTP/AVP;unicast;client_port=%d-%d;server_port=%d-%d",
                     t->client_port[0], t->client_port[1], t->server_port[0], t->server_port[1]);
    if (n >= 0 && (size_t)n < cap && t->has_ssrc)
        n += snprintf(out + n, cap - (size_t)n, ";ssrc=%08X", (unsigned)t->ssrc);
    return n < 0 || (size_t)n >= cap ? -ENOSPC : n;
}

bool rtsp_list_has(const char *list, const char *token)
{
    size_t tl = strlen(token);
    const char *s = list;
    while (*s) {
        while (*s == ' ' || *s == ',')
            s++;
        size_t n = strcspn(s, ", ");
        if (n == tl && strncasecmp(s, token, n) == 0)
            return true;
        s += n;
    }
    return false;
}

/* ---- server side ---- */

static int request_header(void *msg, struct span name, struct span v)
{
    struct rtsp_request *q = msg;
    if (span_is(name, "CSeq"))
        return parse_cseq(v, &q->cseq, &q->has_cseq);
    if (span_is(name, "Session")) {
        const char *semi = memchr(v.p, ';', v.n);
        struct span id = {v.p, semi ? (size_t)(semi - v.p) : v.n};
        return copy_value(q->session, sizeof(q->session), trim(id));
    }
    if (span_is(name, "Transport"))
        return copy_value(q->transport, sizeof(q->transport), v);
    if (span_is(name, "Authorization"))
        return copy_value(q->authorization, sizeof(q->authorization), v);
    return 0;
}

/* "METHOD SP URI SP RTSP/1.0": a method token (RFC 2326 15.1), a URI without spaces or
 * control bytes. */
static int request_line(void *msg, struct span line)
{
    struct rtsp_request *q = msg;
    const char *sp1 = memchr(line.p, ' ', line.n);
    if (!sp1 || sp1 == line.p || (size_t)(sp1 - line.p) >= sizeof(q->method))
        return -EBADMSG;
    size_t ml = (size_t)(sp1 - line.p);
    for (size_t i = 0; i < ml; i++)
        if (!((line.p[i] >= 'A' && line.p[i] <= 'Z') || line.p[i] == '_' || line.p[i] == '-'))
            return -EBADMSG;
    static const char ver[] = " RTSP/1.0";
    size_t vl = sizeof(ver) - 1;
    if (line.n < ml + 2 + vl || memcmp(line.p + line.n - vl, ver, vl) != 0)
        return -EBADMSG;
    struct span uri = {sp1 + 1, line.n - ml - 1 - vl};
    if (uri.n == 0 || uri.n >= sizeof(q->uri))
        return -EBADMSG;
    for (size_t i = 0; i < uri.n; i++)
        if ((unsigned char)uri.p[i] <= ' ' || uri.p[i] == 0x7f)
            return -EBADMSG;
    memcpy(q->method, line.p, ml);
    q->method[ml] = '\0';
    memcpy(q->uri, uri.p, uri.n);
    q->uri[uri.n] = '\0';
    return 0;
}

int rtsp_request_parse(struct rtsp_request *q, const uint8_t *p, size_t len)
{
    if (len > 0 && !((p[0] >= 'A' && p[0] <= 'Z') || p[0] == '_'))
        return -EBADMSG; /* fail early: garbage never grows into a request */
    static const struct msg_parser mp = {RTSP_REQ_HEAD_MAX, RTSP_REQ_BODY_MAX, request_line,
                                         request_header};
    return parse_message(&mp, q, sizeof(*q), p, len, &q->body_len);
}

/* The query's token= value, percent-decoded into out. */
static int target_token(const char *q, char *out, size_t cap)
{
    while (*q) {
        size_t n = strcspn(q, "&");
        if (n > 6 && strncmp(q, "token=", 6) == 0)
            return text_pct_decode(out, cap, q + 6, n - 6) < 0 ? -EINVAL : 0;
        q += n;
        if (*q)
            q++;
    }
    return 0;
}

int rtsp_target_parse(struct rtsp_target *t, const char *uri)
{
    memset(t, 0, sizeof(*t));
    t->track = -1;
    const char *s = uri;
    if (strncasecmp(s, "rtsp://", 7) == 0) {
        s = strchr(s + 7, '/');
        if (!s)
            return -EINVAL; /* "rtsp://host": no path */
    } else if (s[0] != '/') {
        return -EINVAL;
    }
    s++;
    size_t plen = strcspn(s, "?");
    const char *query = s[plen] == '?' ? s + plen + 1 : "";
    size_t seg = strcspn(s, "/?");
    if (seg == 0 || seg >= sizeof(t->path))
        return -EINVAL;
    memcpy(t->path, s, seg);
    t->path[seg] = '\0';
    const char *rest = s + seg;
    size_t rl = plen - seg;
    if (rl > 0) /* the '/' after the path */
        rest++, rl--;
    if (rl > 0 && rest[rl - 1] == '/')
        rl--;
    if (rl > 8 && strncmp(rest, "trackID=", 8) == 0) {
        unsigned long x;
        if (parse_uint((struct span){rest + 8, rl - 8}, 255, &x) < 0)
            return -EINVAL;
        t->track = (int)x;
    } else if (rl > 0) {
        return -EINVAL;
    }
    return target_token(query, t->token, sizeof(t->token));
}

const char *rtsp_reason(int status)
{
    /* RFC 2326 7.1.1 names these two its own way; the other codes are HTTP's. */
    if (status == 413)
        return "Request Entity Too Large";
    if (status == 505)
        return "RTSP Version Not Supported";
    return head_reason(status);
}

int rtsp_response_write(char *out, size_t cap, int status, const struct rtsp_request *q,
                        const char *headers, const char *body, size_t body_len)
{
    int n = snprintf(out, cap, "RTSP/1.0 %d %s\r\n", status, rtsp_reason(status));
    size_t used = n < 0 ? cap : (size_t)n;
    if (used < cap && q && q->has_cseq)
        used += (size_t)snprintf(out + used, cap - used, "CSeq: %u\r\n", (unsigned)q->cseq);
    if (used < cap)
        used += (size_t)snprintf(out + used, cap - used, "Server: ringcast\r\n%s", headers);
    if (used < cap && body_len)
        used += (size_t)snprintf(out + used, cap - used, "Content-Length: %zu\r\n", body_len);
    if (used < cap)
        used += (size_t)snprintf(out + used, cap - used, "\r\n");
    if (used >= cap || body_len >= cap - used)
        return -ENOSPC;
    if (body_len)
        memcpy(out + used, body, body_len);
    return (int)(used + body_len);
}

int rtsp_basic_password(const char *authorization, char *out, size_t cap)
{
    if (strncasecmp(authorization, "Basic ", 6) != 0)
        return -ENOENT;
    const char *b = authorization + 6;
    while (*b == ' ')
        b++;
    size_t bl = strcspn(b, " ");
    uint8_t dec[512];
    int n = codec_base64_decode(b, bl, dec, sizeof(dec) - 1);
    if (n < 0)
        return -EBADMSG;
    const uint8_t *colon = memchr(dec, ':', (size_t)n);
    if (!colon)
        return -EBADMSG;
    size_t pl = (size_t)(dec + n - colon - 1);
    if (pl >= cap)
        return -ENOSPC;
    memcpy(out, colon + 1, pl);
    out[pl] = '\0';
    return memchr(out, '\0', pl) ? -EBADMSG : 0;
}
