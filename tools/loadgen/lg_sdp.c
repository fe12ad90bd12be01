/* SPDX-License-Identifier: MIT */
/* lg_sdp.c: offer building and answer parsing for the load generator. The answer parser
 * walks lines itself (no libre SDP session per viewer) and keeps only the fields a
 * receive-only viewer needs; it rejects rather than guesses. */
#include "tools/loadgen/lg_sdp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/text.h"

int lg_sdp_offer(const struct lg_offer_params *prm, char *out, size_t outlen)
{
    /* One recvonly H.264 section as a browser offers it (RFC 8829 5.2.1): BUNDLE,
     * rtcp-mux, nack and nack pli (RFC 4585), full ICE credentials and our host candidate,
     * a=setup:active (we are the DTLS client, RFC 8842 5.1). An active TCP candidate's port
     * is 9 (RFC 6544 4.5: it never accepts), and so is the m= port then, as browsers write. */
    char cand[128];
    if (prm->tcp)
        snprintf(cand, sizeof(cand), "1 1 tcp 1518280447 %s %u typ host tcptype active",
                 prm->local_ip, prm->local_port);
    else
        snprintf(cand, sizeof(cand), "1 1 udp 2130706431 %s %u typ host", prm->local_ip,
                 prm->local_port);
    int n = snprintf(out, outlen,
                     "v=0\r\n"
                     "o=- %llu 2 IN IP4 %s\r\n"
                     "s=-\r\n"
                     "t=0 0\r\n"
                     "a=group:BUNDLE 0\r\n"
                     "a=fingerprint:sha-256 %s\r\n"
                     "m=video %u UDP/TLS/RTP/SAVPF 96\r\n"
                     "c=IN IP4 %s\r\n"
                     "a=rtcp:%u IN IP4 %s\r\n"
                     "a=ice-ufrag:%s\r\n"
                     "a=ice-pwd:%s\r\n"
                     "a=setup:active\r\n"
                     "a=mid:0\r\n"
                     "a=recvonly\r\n"
                     "a=rtcp-mux\r\n"
                     "a=rtpmap:96 H264/90000\r\n"
                     "a=rtcp-fb:96 nack\r\n"
                     "a=rtcp-fb:96 nack pli\r\n"
                     "a=fmtp:96 level-asymmetry-allowed=1;packetization-mode=1;"
                     "profile-level-id=42e01f\r\n"
                     "a=candidate:%s\r\n"
                     "a=end-of-candidates\r\n",
                     (unsigned long long)prm->session_id, prm->local_ip, prm->fingerprint,
                     prm->local_port, prm->local_ip, prm->local_port, prm->local_ip, prm->ice_ufrag,
                     prm->ice_pwd, cand);
    if (n < 0 || (size_t)n >= outlen)
        return -ENOSPC;
    return n;
}

int lg_sdp_parse_fingerprint(const char *s, size_t len, uint8_t out[LG_FP_LEN])
{
    if (len != LG_FP_LEN * 3 - 1)
        return -EINVAL;
    for (size_t i = 0; i < LG_FP_LEN; i++) {
        int hi = text_hex_digit(s[3 * i]), lo = text_hex_digit(s[3 * i + 1]);
        if (hi < 0 || lo < 0 || (i + 1 < LG_FP_LEN && s[3 * i + 2] != ':'))
            return -EINVAL;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

/* A line's value as a bounded, NUL-terminated copy (SDP values never need more here). */
struct sdp_line {
    char s[512];
    size_t n;
};

static int line_starts(const struct sdp_line *l, const char *prefix)
{
    size_t n = strlen(prefix);
    return l->n >= n && memcmp(l->s, prefix, n) == 0;
}

static int copy_ice_str(char *dst, const char *src, size_t n)
{
    if (n == 0 || n >= LG_ICE_STR_MAX)
        return -EBADMSG;
    for (size_t i = 0; i < n; i++) {
        /* RFC 8839 5.4: ice-char = ALPHA / DIGIT / "+" / "/" */
        char c = src[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/'))
            return -EBADMSG;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
    return 0;
}

/* "a=candidate:<foundation> <component> <transport> <priority> <addr> <port> typ <type>
 * [tcptype <tcptype>]": the first UDP one, and the first passive TCP one (RFC 6544 4.5). */
static void parse_candidate(const char *v, struct lg_answer *out)
{
    char found[64], transport[16], addr[64], typ[8], type[16], tcptype_kw[8], tcptype[16];
    unsigned comp, port;
    unsigned long prio;
    int k = sscanf(v, "%63s %u %15s %lu %63s %u %7s %15s %7s %15s", found, &comp, transport, &prio,
                   addr, &port, typ, type, tcptype_kw, tcptype);
    if (k < 8 || comp != 1 || strcmp(typ, "typ") != 0 || port == 0 || port > 65535)
        return;
    int tcp = strcasecmp(transport, "tcp") == 0;
    if (tcp ? out->has_tcp_cand || k != 10 || strcmp(tcptype_kw, "tcptype") != 0 ||
                  strcmp(tcptype, "passive") != 0
            : out->has_cand || strcasecmp(transport, "udp") != 0)
        return;
    struct in_addr ia;
    if (inet_pton(AF_INET, addr, &ia) != 1)
        return; /* IPv6 and mDNS (.local) candidates are not used by this client */
    struct sockaddr_in *sa = tcp ? &out->tcp_cand : &out->cand;
    sa->sin_family = AF_INET;
    sa->sin_addr = ia;
    sa->sin_port = htons((uint16_t)port);
    *(tcp ? &out->has_tcp_cand : &out->has_cand) = 1;
}

/* "m=video <port> <proto> <fmt>..." */
static void parse_media(const char *v, struct lg_answer *out, int *in_video)
{
    unsigned port;
    char kind[16];
    *in_video = 0;
    if (out->video_port >= 0)
        return; /* only the first video section is ours (one m-line offered) */
    if (sscanf(v, "%15s %u", kind, &port) != 2 || strcmp(kind, "video") != 0 || port > 65535)
        return;
    out->video_port = (int)port;
    *in_video = 1;
}

static int parse_line(const struct sdp_line *l, struct lg_answer *out, int *in_video,
                      struct in_addr *conn, int *has_conn)
{
    if (line_starts(l, "m=")) {
        parse_media(l->s + 2, out, in_video);
        return 0;
    }
    if (line_starts(l, "c=IN IP4 ")) {
        if ((*in_video || !*has_conn) && inet_pton(AF_INET, l->s + 9, conn) == 1)
            *has_conn = 1;
        return 0;
    }
    if (!line_starts(l, "a="))
        return 0;
    const char *a = l->s + 2;
    size_t an = l->n - 2;
    if (strncmp(a, "ice-ufrag:", 10) == 0)
        return copy_ice_str(out->ice_ufrag, a + 10, an - 10);
    if (strncmp(a, "ice-pwd:", 8) == 0)
        return copy_ice_str(out->ice_pwd, a + 8, an - 8);
    if (strcmp(a, "ice-lite") == 0)
        out->ice_lite = 1;
    else if (strncasecmp(a, "fingerprint:sha-256 ", 20) == 0) {
        if (lg_sdp_parse_fingerprint(a + 20, an - 20, out->fingerprint) != 0)
            return -EBADMSG;
        out->has_fingerprint = 1;
    } else if (strncmp(a, "setup:", 6) == 0) {
        const char *r = a + 6;
        out->setup = strcmp(r, "passive") == 0   ? LG_SETUP_PASSIVE
                     : strcmp(r, "active") == 0  ? LG_SETUP_ACTIVE
                     : strcmp(r, "actpass") == 0 ? LG_SETUP_ACTPASS
                                                 : LG_SETUP_NONE;
    } else if (strncmp(a, "candidate:", 10) == 0 && (*in_video || out->video_port < 0)) {
        parse_candidate(a + 10, out);
    } else if (strncmp(a, "rtpmap:", 7) == 0 && *in_video && out->h264_pt < 0) {
        unsigned pt;
        char enc[32];
        if (sscanf(a + 7, "%u %31[^/]", &pt, enc) == 2 && pt < 128 && strcasecmp(enc, "H264") == 0)
            out->h264_pt = (int)pt;
    }
    return 0;
}

int lg_sdp_parse_answer(const uint8_t *p, size_t len, struct lg_answer *out)
{
    memset(out, 0, sizeof(*out));
    out->video_port = -1;
    out->h264_pt = -1;
    int in_video = 0, has_conn = 0;
    struct in_addr conn = {0};

    size_t pos = 0;
    while (pos < len) {
        const uint8_t *nl = memchr(p + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (p + pos)) : len - pos;
        size_t next = pos + n + 1;
        if (n && p[pos + n - 1] == '\r')
            n--;
        struct sdp_line l;
        if (n >= sizeof(l.s))
            return -EBADMSG;
        memcpy(l.s, p + pos, n);
        l.s[n] = '\0';
        l.n = n;
        if (memchr(l.s, '\0', n))
            return -EBADMSG;
        int err = parse_line(&l, out, &in_video, &conn, &has_conn);
        if (err)
            return err;
        pos = next;
    }
    if (out->video_port <= 0 || out->h264_pt < 0 || !out->ice_ufrag[0] || !out->ice_pwd[0] ||
        !out->has_fingerprint)
        return -EBADMSG;
    if (!out->has_cand) {
        /* No candidate lines: fall back to the connection address and media port. */
        if (!has_conn || conn.s_addr == htonl(INADDR_ANY))
            return -EBADMSG;
        out->cand.sin_family = AF_INET;
        out->cand.sin_addr = conn;
        out->cand.sin_port = htons((uint16_t)out->video_port);
        out->has_cand = 1;
    }
    return 0;
}
