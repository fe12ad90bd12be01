/* SPDX-License-Identifier: MIT */
/* whep.h: the worker's HTTP routes (draft-ietf-wish-whep; HTTP details shared with WHIP,
 * RFC 9725): POST /<path>/whep creates a session, DELETE/PATCH on its Location, OPTIONS
 * (CORS), GET /<path> (player page), GET /v1/health (load balancers), GET /v1/status and
 * /v1/paths (JSON). */
#ifndef RINGCAST_EGRESS_WHEP_H
#define RINGCAST_EGRESS_WHEP_H

#include "common/httpd.h"

struct worker;
struct config_path;

/* httpd_handler_fn for the worker: arg is the struct worker. */
void whep_handle(void *arg, const struct httpd_request *req, struct httpd_response *res);

/* Answers an offer to cp that passed whep's checks (and, on demand, found its source
 * delivering): a session and 201 with the SDP answer, or the refusal (full, no stream, bad
 * offer). */
void whep_offer(struct worker *w, const struct httpd_request *req, const struct config_path *cp,
                struct httpd_response *res);

/* Logs a refusal once (naming the client and path) and answers it with a one-line reason. */
void whep_refuse(struct httpd_response *res, const struct httpd_request *req, const char *path,
                 int status, const char *reason);
/* True when the request carries "Authorization: Bearer <token>" (RFC 6750), compared without
 * early exit. */
int whep_bearer_ok(const struct httpd_request *req, const char *token);
/* Whether a Content-Type is application/sdp (parameters allowed). */
int whep_is_sdp(const char *ct);

/* The embedded player page (egress/player.html, see egress/player.c). */
extern const char player_html[];
extern const char player_html_end[];

#endif
