/* SPDX-License-Identifier: MIT */
/* dtlsrv.h: the DTLS 1.2 server side of DTLS-SRTP (RFC 5763/5764) for an egress worker:
 * one self-signed ECDSA P-256 certificate per worker, one connection per viewer over
 * memory/callback BIOs (no sockets), retransmissions on a libuv timer, SRTP keys exported
 * when the handshake completes. Prefix dtlsrv_ (libre owns dtls_). */
#ifndef RINGCAST_RTC_DTLSRV_H
#define RINGCAST_RTC_DTLSRV_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define DTLSRV_FP_MAX     64 /* digest bytes (sha-512) */
#define DTLSRV_FP_SET_MAX 4  /* fingerprints kept from one offer */

/* A certificate fingerprint as in a=fingerprint (RFC 8122): hash name and digest. */
struct dtlsrv_fingerprint {
    char hash[8]; /* "sha-256", "sha-384" or "sha-512", lower case */
    uint8_t digest[DTLSRV_FP_MAX];
    size_t len;
};

/* The fingerprints an offer gave for one transport: the peer's certificate must match one
 * of them (RFC 8122 5: an endpoint may offer several, one per hash or per certificate). */
struct dtlsrv_fingerprints {
    struct dtlsrv_fingerprint fp[DTLSRV_FP_SET_MAX];
    size_t n;
};

/* SRTP keying material for one session in RFC 5764 4.2 layout (client key | server key |
 * client salt | server salt), as media_viewer_start takes it. profile is the DTLS-SRTP
 * protection profile id: 0x0001 AES128_CM_HMAC_SHA1_80, 0x0007 AEAD_AES_128_GCM. */
struct dtlsrv_keys {
    uint16_t profile;
    size_t len; /* 60 for CM-80, 56 for GCM */
    uint8_t material[60];
};

struct dtlsrv_ctx;
struct dtlsrv_conn;

struct dtlsrv_callbacks {
    /* A datagram to send to the viewer (a whole DTLS flight or part of it). */
    void (*send)(void *arg, const uint8_t *p, size_t len);
    /* The handshake completed and the peer's certificate matched: keys are valid. */
    void (*connected)(void *arg, const struct dtlsrv_keys *keys);
    /* The handshake failed (bad fingerprint, alert, timeout); err is -errno. */
    void (*failed)(void *arg, int err, const char *reason);
    /* After connected: our last flight went out again because the peer retransmitted its own,
     * so it had not got ours and had no keys for whatever SRTP was sent meanwhile. */
    void (*resent)(void *arg);
};

/* Generates the worker's key and certificate. 0 or -errno with a reason in err. */
int dtlsrv_ctx_new(struct dtlsrv_ctx **out, char *err, size_t errlen);
void dtlsrv_ctx_free(struct dtlsrv_ctx *ctx);
/* "sha-256 AB:CD:..." for a=fingerprint. */
const char *dtlsrv_ctx_fingerprint(const struct dtlsrv_ctx *ctx);

/* Parses an a=fingerprint value ("sha-256 AB:CD:..."): 0, -ENOTSUP for a hash other than
 * sha-256, sha-384 and sha-512 (md5 and sha-1 are too weak to bind a certificate), or
 * -EINVAL for a malformed value or a digest of the wrong length. */
int dtlsrv_fingerprint_parse(const char *value, struct dtlsrv_fingerprint *fp);

/* A server connection expecting a client certificate that matches one of fps (at least
 * one). The callbacks run on the loop's thread, from dtlsrv_conn_input or the
 * retransmission timer. */
int dtlsrv_conn_new(struct dtlsrv_conn **out, struct dtlsrv_ctx *ctx, uv_loop_t *loop,
                    const struct dtlsrv_fingerprints *fps, const struct dtlsrv_callbacks *cb,
                    void *arg);
/* Feeds one received datagram (first byte 20..63). */
void dtlsrv_conn_input(struct dtlsrv_conn *c, const uint8_t *p, size_t len);
/* Frees the SSL state at once and the timer in its close callback; tolerates NULL. Called
 * once the handshake has settled (the peer sent SRTP/SRTCP) or when the session ends. */
void dtlsrv_conn_free(struct dtlsrv_conn *c);
/* Gives the heap freed by released connections back to the system, at most once a second;
 * call it from a periodic timer so that the last releases of a burst are not kept. */
void dtlsrv_heap_settle(void);

#endif
