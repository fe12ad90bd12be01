/* SPDX-License-Identifier: MIT */
/* lg_dtls.h: the load generator's DTLS-SRTP client (RFC 5763/5764): one ECDSA P-256
 * certificate per process, a handshake per viewer over OpenSSL memory BIOs, and the
 * libsrtp2 session built from the exported keys once the peer's fingerprint matched. */
#ifndef LG_DTLS_H
#define LG_DTLS_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>
#include <srtp2/srtp.h>

#include "tools/loadgen/lg_sdp.h"

enum lg_srtp_choice { LG_SRTP_ANY = 0, LG_SRTP_GCM, LG_SRTP_CM };

struct lg_dtls_ctx {
    SSL_CTX *ctx;
    char fingerprint[LG_FP_LEN * 3]; /* ours, "AB:CD:...", for the offer */
};

/* Creates the certificate and the client context offering the SRTP profiles of choice
 * (GCM first with "any"). Returns 0 or -errno; lg_dtls_ctx_free releases it. */
int lg_dtls_ctx_init(struct lg_dtls_ctx *d, enum lg_srtp_choice srtp);
void lg_dtls_ctx_free(struct lg_dtls_ctx *d);

struct lg_dtls {
    SSL *ssl; /* owns both memory BIOs */
    BIO *rbio, *wbio;
};

/* Sends one datagram; returns 0 or -errno. */
typedef int (*lg_dtls_send_fn)(void *arg, const uint8_t *p, size_t len);

/* Starts a client handshake and sends the ClientHello. Returns 0 or -errno. */
int lg_dtls_start(struct lg_dtls *t, struct lg_dtls_ctx *d, lg_dtls_send_fn send, void *arg);
/* Feeds a received DTLS datagram. Returns 1 when the handshake completed, 0 while it goes
 * on, -EPROTO on failure. Replies go out through send. */
int lg_dtls_input(struct lg_dtls *t, const uint8_t *p, size_t len, lg_dtls_send_fn send, void *arg);
/* Retransmits the last flight if its timer expired (RFC 6347 4.2.4). */
void lg_dtls_timer(struct lg_dtls *t, lg_dtls_send_fn send, void *arg);
/* After completion: checks the peer certificate against the answer's sha-256 fingerprint
 * (-EACCES), then creates *out with the inbound (server key, any SSRC) and outbound (our
 * key, for RTCP from ssrc) streams. *tag_len gets the SRTP authentication tag length, *gcm whether
 * GCM was chosen. */
int lg_dtls_srtp(struct lg_dtls *t, const uint8_t fingerprint[LG_FP_LEN], uint32_t ssrc,
                 srtp_t *out, int *tag_len, int *gcm);
void lg_dtls_free(struct lg_dtls *t);

#endif
