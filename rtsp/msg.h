/* SPDX-License-Identifier: MIT */
/* msg.h: RTSP/1.0 wire format (RFC 2326) shared by the RTSP sides: control URLs resolved
 * against a base, response parsing with size caps, and the TCP stream demux of interleaved
 * binary frames ($ channel length) from RTSP messages. rtsp:// URLs themselves are
 * common/rtsp_url.h (the config reads them too). Pure functions on bytes: no I/O, no
 * allocation, no logging. */
#ifndef RINGCAST_RTSP_MSG_H
#define RINGCAST_RTSP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/rtsp_url.h"

#define RTSP_HEAD_MAX        16384 /* a response's status line and headers */
#define RTSP_BODY_MAX        65536 /* Content-Length cap (an SDP is a few KB) */
#define RTSP_AUTH_HDR_MAX    4     /* WWW-Authenticate headers kept */
#define RTSP_INTERLEAVED_MIN 4     /* shorter than an RTCP header: not a packet */

/* Resolves a SDP a=control value against base (RFC 2326 C.1.1): "*" or empty is base
 * itself, an absolute rtsp:// URL is taken as is, anything else is appended to base with
 * one '/' between (what servers and other clients do rather than RFC 3986 merging).
 * 0 or -ENAMETOOLONG. */
int rtsp_url_resolve(const char *base, const char *control, char *out, size_t outlen);

/* A parsed response. Strings are copied and NUL-terminated; body points into the input. */
struct rtsp_response {
    int status;      /* 100..599 */
    char reason[64]; /* reason phrase, printable ASCII only, may be cut */
    uint32_t cseq;
    bool has_cseq;
    char session[128];        /* Session id, without ";timeout=" */
    unsigned session_timeout; /* seconds; 0 if not given */
    char content_base[RTSP_URL_MAX];
    char content_location[RTSP_URL_MAX];
    char location[RTSP_URL_MAX]; /* 3xx */
    char content_type[64];
    char transport[512];
    char publics[512]; /* Public: the server's methods */
    unsigned n_auth;
    char www_auth[RTSP_AUTH_HDR_MAX][512];
    const uint8_t *body;
    size_t body_len;
};

/* Parses one response at the start of p. Returns the bytes it spans (head and body) with
 * *r filled, 0 when more bytes are needed, -EBADMSG for a garbled response, -EMSGSIZE when
 * the head exceeds RTSP_HEAD_MAX or the body RTSP_BODY_MAX. Header values longer than
 * their field are -EBADMSG rather than silently truncated. */
int rtsp_response_parse(struct rtsp_response *r, const uint8_t *p, size_t len);

/* A request the server sent us (some servers ping clients with OPTIONS or GET_PARAMETER). */
struct rtsp_request_in {
    char method[32];
    uint32_t cseq;
    bool has_cseq;
};

/* What the next item of the TCP stream is. */
enum rtsp_item_kind { RTSP_ITEM_RESPONSE = 1, RTSP_ITEM_REQUEST, RTSP_ITEM_INTERLEAVED };

struct rtsp_item {
    enum rtsp_item_kind kind;
    struct rtsp_response resp;  /* RTSP_ITEM_RESPONSE */
    struct rtsp_request_in req; /* RTSP_ITEM_REQUEST */
    uint8_t channel;            /* RTSP_ITEM_INTERLEAVED */
    const uint8_t *data;        /* interleaved payload, points into the input */
    size_t data_len;
};

/* Splits the next item off a TCP stream: an interleaved frame "$" ch len16 data (RFC 2326
 * 10.12), a response, or a request from the server. Returns bytes consumed with *it filled,
 * 0 if more bytes are needed, -EBADMSG for bytes that start neither (desynchronized or
 * garbled stream), -ERANGE for an interleaved length below RTSP_INTERLEAVED_MIN, -EMSGSIZE
 * for an oversized message. */
int rtsp_stream_next(struct rtsp_item *it, const uint8_t *p, size_t len);

/* Parses a Transport header's fields we use (a server's answer, or a client's first offered
 * spec). Missing numbers are left at -1. */
struct rtsp_transport {
    int interleaved[2]; /* channels */
    int server_port[2];
    int client_port[2];
    uint32_t ssrc;
    bool has_ssrc;
    bool tcp;       /* RTP/AVP/TCP */
    bool rtp_avp;   /* the profile is RTP/AVP (over UDP or TCP) */
    bool multicast; /* a client asks for multicast (we serve unicast only) */
    bool record;    /* mode=record: a publisher, not a reader */
};
int rtsp_transport_parse(struct rtsp_transport *t, const char *value);
/* Writes a server's Transport answer for t: "RTP/AVP/TCP;unicast;interleaved=a-b" or
 * "RTP/AVP;unicast;client_port=a-b;server_port=c-d", then ";ssrc=X" when has_ssrc. Returns
 * the length, or -ENOSPC. */
int rtsp_transport_format(const struct rtsp_transport *t, char *out, size_t cap);

/* ---- server side: a client's requests, our responses ---- */

#define RTSP_REQ_HEAD_MAX 8192 /* a client's request line and headers */
#define RTSP_REQ_BODY_MAX 4096 /* a reader's requests carry at most a small parameter body */

struct rtsp_request {
    char method[32];
    char uri[RTSP_URL_MAX];
    uint32_t cseq;
    bool has_cseq;
    char session[128]; /* Session id, without ";timeout=" */
    char transport[512];
    char authorization[512];
    size_t body_len; /* spanned, not kept */
};

/* Parses one client request at the start of p: "METHOD URI RTSP/1.0", headers, a body of
 * Content-Length bytes. Returns the bytes it spans with *q filled, 0 when more bytes are
 * needed, -EBADMSG for a garbled request (bad request line, a header without a colon, a value
 * longer than its field or holding a NUL, two Content-Lengths), -EMSGSIZE for a head beyond
 * RTSP_REQ_HEAD_MAX or a body beyond RTSP_REQ_BODY_MAX. */
int rtsp_request_parse(struct rtsp_request *q, const uint8_t *p, size_t len);

/* What a request URI names on our server: rtsp://HOST[:PORT]/PATH[/trackID=N][/][?QUERY] (or the
 * same without scheme and host). path is the first segment, track N or -1, token the query's
 * token= value (percent-decoded), "" when absent. Returns 0, or -EINVAL for "*", another
 * scheme, a path of more segments or one longer than its field. */
struct rtsp_target {
    char path[64];
    int track;
    char token[256];
};
int rtsp_target_parse(struct rtsp_target *t, const char *uri);

/* The reason phrase of a status code we send ("Bad Request"; common/head.h), "Unknown" for
 * others. */
const char *rtsp_reason(int status);

/* Writes a response: status line, CSeq when the request had one, headers (each line ending in
 * CRLF, may be ""), Content-Length when body_len > 0, the blank line and the body. Returns its
 * length, or -ENOSPC. */
int rtsp_response_write(char *out, size_t cap, int status, const struct rtsp_request *q,
                        const char *headers, const char *body, size_t body_len);

/* The password of an "Authorization: Basic base64(user:password)" value into out (the user
 * name is ignored). 0, -ENOENT when the value is no Basic credential, -EBADMSG for bad base64
 * or no colon, -ENOSPC when out is too small. */
int rtsp_basic_password(const char *authorization, char *out, size_t cap);

/* True if the comma-separated token list (a Public header's methods, a Digest qop value)
 * holds token, compared case-insensitively. */
bool rtsp_list_has(const char *list, const char *token);

#endif
