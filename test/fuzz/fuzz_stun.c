/* SPDX-License-Identifier: MIT */
/* fuzz_stun.c: icelite_handle on arbitrary datagrams (what anyone can send to the media
 * port): never reads out of bounds, and answers only requests that authenticate with the
 * session's password, with the one response size an IPv4 source gets. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "rtc/icelite.h"

static const char pwd[] = "VOkJxbRl1RmTxUk/WvJxBt";
static int token;

static const char *lookup(void *arg, const char *local, const char *remote, void **session)
{
    (void)arg;
    if (strlen(local) >= ICELITE_UFRAG_MAX || strlen(remote) >= ICELITE_UFRAG_MAX)
        abort(); /* the split must bound both halves */
    *session = &token;
    return strcmp(local, "evtj") == 0 ? pwd : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sockaddr_in src = {.sin_family = AF_INET, .sin_port = htons(4242)};
    src.sin_addr.s_addr = htonl(0xc0000201);
    struct icelite_result r;
    int rc = icelite_handle(data, size, (const struct sockaddr *)&src, lookup, NULL, &r);
    if (rc == 0 &&
        (r.session != &token || r.response_len != 64 || r.use_candidate > 1)) /* IPv4: 64 */
        abort();
    return 0;
}
