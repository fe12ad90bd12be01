/* SPDX-License-Identifier: MIT */
/* fuzz_whip_sdp.c: a WHIP offer from anyone who may POST, through whip_sdp_parse and, when it
 * is accepted, the answer written for it: no crash, no leak, the reason always one terminated
 * line, an accepted offer has ICE credentials and an accepted section, and its answer fits. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/whip_sdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct whip_sdp_offer o;
    static char answer[16384];
    static const char cands[1][HOSTCAND_ADDR_MAX] = {"127.0.0.1"};
    int rc = whip_sdp_parse(&o, data, size);
    if (!memchr(o.reason, '\0', sizeof(o.reason)) || strchr(o.reason, '\n'))
        abort();
    if (rc < 0)
        return 0;
    if (o.n == 0 || o.n > WHIP_SDP_MAX_SECTIONS || !o.ufrag[0] || !o.pwd[0])
        abort();
    bool any = false;
    for (unsigned i = 0; i < o.n; i++)
        any |= o.s[i].accepted;
    if (!any)
        abort();
    struct whip_sdp_local l = {.ufrag = "abcd",
                               .pwd = "abcdefghijklmnopqrstuvwx",
                               .fingerprint = "sha-256 00:11",
                               .candidates = cands,
                               .n_candidates = 1,
                               .port = 9,
                               .session_id = 1};
    int n = whip_sdp_answer(answer, sizeof(answer), &o, &l);
    if (n < 0 || (size_t)n >= sizeof(answer) || strlen(answer) != (size_t)n)
        abort();
    return 0;
}
