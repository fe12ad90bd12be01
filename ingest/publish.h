/* SPDX-License-Identifier: MIT */
/* publish.h: the `source = publish` source: RTSP publishers (ffmpeg -f rtsp, GStreamer's
 * rtspclientsink, cameras that push) reach the node's RTSP server, whose worker authorizes
 * their ANNOUNCE and hands the connection over to this path's ingest (DESIGN.md "RTSP
 * server"). Here one publisher at a time records: ANNOUNCE, SETUP mode=record over TCP
 * interleaved or UDP (a port pair per track), RECORD, keep-alives, TEARDOWN; its RTP goes into
 * the ring as an RTSP pull's, receiver reports go back, its figures go to the control slot. */
#ifndef RINGCAST_PUBLISH_H
#define RINGCAST_PUBLISH_H

#include "ingest/source.h"
#include "shm/ctl.h"

#define PUBLISH_RECORD_MS 10000 /* a handed-over publisher that has not recorded by then leaves */
#define PUBLISH_TIMEOUT_S 60    /* session timeout: nothing received for this long */

/* Listens for handovers on "<shm_prefix>.publish.<path>" once started: RTSP publishers and
 * WHIP requests (ingest/whip.h). ctl: the control segment whose egress workers alone may hand
 * over (their pids), or NULL when standalone (then any process of this user may). Borrows
 * loop, ing, cfg and ctl; copies what it needs from path. */
int publish_source_create(struct source **out, uv_loop_t *loop, struct ingest *ing,
                          const struct config *cfg, const struct config_path *path,
                          const struct ctl_hdr *ctl);

#endif
