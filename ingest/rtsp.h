/* SPDX-License-Identifier: MIT */
/* rtsp.h: the rtsp:// pull source (RFC 2326 client) on the ingest's uv loop: OPTIONS,
 * DESCRIBE, SETUP of every supported track, PLAY, keep-alive, TEARDOWN; RTP over
 * TCP-interleaved or UDP (with receiver reports and a reorder buffer), forced or the one
 * that works (rtsp_lower.h); Basic and Digest authentication; 3xx redirects. Failures are
 * logged once, naming the path and the reason, and retried with exponential backoff forever. */
#ifndef RINGCAST_RTSP_H
#define RINGCAST_RTSP_H

#include "ingest/source.h"

/* Backoff between attempts: doubles from RTSP_BACKOFF_MIN_MS to RTSP_BACKOFF_MAX_MS, back to
 * the minimum after RTSP_HEALTHY_MS of streaming. */
#define RTSP_BACKOFF_MIN_MS   500
#define RTSP_BACKOFF_MAX_MS   30000
#define RTSP_HEALTHY_MS       60000
#define RTSP_REPLY_TIMEOUT_MS 5000 /* connect, and each request's response */
#define RTSP_RTP_TIMEOUT_MS   5000 /* no RTP while playing: the source is dead */
#define RTSP_MAX_REDIRECTS    5

/* UDP transport binds RTP/RTCP port pairs in "LO-HI" from this environment variable when
 * set (tests keep to their assigned ports), else lets the kernel choose. */
#define RTSP_UDP_PORTS_ENV "RINGCAST_RTSP_UDP_PORTS"

/* path->source is an rtsp:// URL; credentials come from its userinfo, else path->username
 * and path->password; path->transport is auto, TCP or UDP. Borrows loop and ing; copies what
 * it needs from path. Returns 0, or -EINVAL for a URL that cannot work. */
int rtsp_source_create(struct source **out, uv_loop_t *loop, struct ingest *ing,
                       const struct config_path *path);

#endif
