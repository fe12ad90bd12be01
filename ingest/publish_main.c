/* SPDX-License-Identifier: MIT */
/* publish_main.c: ringcast-ingest-publish, the ingest of a publish path: RTSP publishers
 * (ANNOUNCE/RECORD) and WHIP sessions handed over by the node's workers (ingest/publish.h).
 * ringcast-ingest becomes this program for such a path; it is the only ingest linking rtc/
 * (DTLS, SRTP) and with it OpenSSL. */
#include "common/log.h"
#include "ingest/app.h"
#include "ingest/publish.h"

static int source_for(const struct ingest_app *a, uv_loop_t *loop, struct ingest *ing,
                      const struct ctl_hdr *ctl, struct source **out)
{
    return publish_source_create(out, loop, ing, &a->cfg, &a->path, ctl);
}

int main(int argc, char **argv)
{
    static struct ingest_app app;
    int status;
    if (!ingest_app_setup(&app, argc, argv, &status))
        return status;
    if (!config_path_is_publish(&app.path)) {
        log_error("ringcast-ingest-publish runs publish paths only; file: and rtsp:// sources "
                  "are ringcast-ingest's");
        return 2;
    }
    return ingest_app_run(&app, source_for);
}
