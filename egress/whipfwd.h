/* SPDX-License-Identifier: MIT */
/* whipfwd.h: the worker's half of WHIP (RFC 9725): POST /<path>/whip and DELETE on the
 * session's Location, authorized here (the path's publish_token, else loopback only) and
 * forwarded to the path's ingest, where the publisher's session lives (the ring has one
 * writer; DESIGN.md "RTSP server"). The request travels as a handover (common/handover.h)
 * whose descriptor is one end of a socketpair: the ingest answers on it with the status, the
 * session id and the SDP answer or a reason, and the worker completes the deferred HTTP
 * request from that. */
#ifndef RINGCAST_EGRESS_WHIPFWD_H
#define RINGCAST_EGRESS_WHIPFWD_H

#include "common/httpd.h"

struct worker;
struct config_path;

#define WHIPFWD_TIMEOUT_MS 3000 /* the ingest's answer, else 503 */

/* POST /<path>/whip with an offer: checks (source = publish, Content-Type, authorization,
 * size) or forwards and defers res. */
void whipfwd_post(struct worker *w, const struct httpd_request *req, const struct config_path *cp,
                  struct httpd_response *res);
/* DELETE /<path>/whip/<session>: the same bearer check, then forwarded. */
void whipfwd_delete(struct worker *w, const struct httpd_request *req, const struct config_path *cp,
                    const char *session, struct httpd_response *res);

#endif
