/* SPDX-License-Identifier: MIT */
/* whip.h: a WHIP publisher's session (RFC 9725) inside its path's ingest, the ring's one
 * writer: the offer forwarded by a worker (egress/whipfwd.h) is answered here, and the
 * publisher's media then comes straight to a UDP socket of this process (port chosen by the
 * kernel): ICE-lite checks (rtc/icelite), the DTLS-SRTP server (rtc/dtlsrv), SRTP/SRTCP
 * decryption (rtc/esrtp), a reorder buffer per track, NACKs for missing packets, PLI when a
 * keyframe is needed, receiver reports; access units go into the ring as an RTSP pull's. One
 * publisher at a time; the publish source (ingest/publish.c) arbitrates with RTSP ones. */
#ifndef RINGCAST_WHIP_H
#define RINGCAST_WHIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "common/config.h"
#include "ingest/ingest.h"

#define WHIP_CONNECT_MS 10000 /* a publisher that has not completed DTLS by then is dropped */
#define WHIP_TIMEOUT_MS 15000 /* nothing authenticated (checks, media) for this long: gone */

struct whip;

/* The publish source's side of the one-publisher rule: may a WHIP publisher from peer take
 * the path? 0 (any RTSP publisher has been ended), or -EBUSY. */
typedef int (*whip_claim_fn)(void *arg, const char *peer);

/* Creates the path's WHIP side (its DTLS certificate). Borrows loop, ing and cfg (the process
 * keeps them), copies what it needs from path. 0 or -errno with a reason in err. */
int whip_create(struct whip **out, uv_loop_t *loop, struct ingest *ing, const struct config *cfg,
                const struct config_path *path, whip_claim_fn claim, void *claim_arg, char *err,
                size_t errlen);
/* Whether a message of a handover is a forwarded WHIP request. */
bool whip_is_request(const uint8_t *msg, size_t len);
/* Handles one forwarded request (msg[0..len), "WHIP1 POST|DELETE ..."), answers it on fd
 * and closes fd. */
void whip_request(struct whip *w, int fd, const uint8_t *msg, size_t len);
/* Whether a WHIP publisher holds the path (its session exists). */
bool whip_live(const struct whip *w);
/* Ends the publisher's session, if any, logging why. */
void whip_end(struct whip *w, const char *why);
/* Ends everything and frees w once its handles have closed, then calls done(arg). */
void whip_close(struct whip *w, void (*done)(void *arg), void *arg);

#endif
