/* SPDX-License-Identifier: MIT */
/* fuzz_rtsp_request.c: a request from a hostile RTSP client: rtsp_request_parse must stay inside
 * the bytes it was given and return a consistent result (a length within the input, terminated
 * strings); what the server then reads from it (the target URI, the Transport with its
 * client_port pair, a Basic password) goes through those parsers, and an answer to it is
 * written. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rtsp/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct rtsp_request q;
    /* A heap copy of exactly size bytes: ASan catches any read past the end. */
    uint8_t *p = malloc(size ? size : 1);
    if (!p)
        return 0;
    memcpy(p, data, size);
    int n = rtsp_request_parse(&q, p, size);
    if (n > 0) {
        if ((size_t)n > size || q.body_len > RTSP_REQ_BODY_MAX || q.body_len > (size_t)n)
            abort();
        if (strlen(q.method) >= sizeof(q.method) || strlen(q.uri) >= sizeof(q.uri) ||
            strlen(q.session) >= sizeof(q.session) || !q.method[0] || !q.uri[0])
            abort();
        struct rtsp_target t;
        if (rtsp_target_parse(&t, q.uri) == 0 &&
            (!t.path[0] || strlen(t.path) >= sizeof(t.path) || t.track > 255))
            abort();
        struct rtsp_transport tr;
        rtsp_transport_parse(&tr, q.transport);
        /* The server sends to client_port: each pair is both unset or both a port. */
        const int *pairs[] = {tr.client_port, tr.server_port, tr.interleaved};
        for (unsigned i = 0; i < 3; i++)
            if ((pairs[i][0] < 0) != (pairs[i][1] < 0) || pairs[i][0] > 65535 ||
                pairs[i][1] > 65535 || pairs[i][0] < -1 || pairs[i][1] < -1)
                abort();
        char pass[256], out[RTSP_REQ_HEAD_MAX];
        int rc = rtsp_basic_password(q.authorization, pass, sizeof(pass));
        if (rc == 0 && strlen(pass) >= sizeof(pass))
            abort();
        char hdr[600];
        if (rtsp_transport_format(&tr, hdr, sizeof(hdr)) < 0)
            abort(); /* any parsed transport fits an answer */
        if (rtsp_response_write(out, sizeof(out), 400, &q, "", NULL, 0) <= 0)
            abort();
    } else if (n < 0 && n != -EBADMSG && n != -EMSGSIZE) {
        abort();
    }
    free(p);
    return 0;
}
