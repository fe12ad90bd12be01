/* SPDX-License-Identifier: MIT */
/* fuzz_rtcp.c: ertcp_parse on arbitrary bytes (what a viewer's SRTCP decrypts to, or a
 * hostile one's): never reads out of bounds, reports consistent NACK/RR fields, and walks
 * no more packets than 4-byte headers fit in the input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "egress/rtcp.h"

static unsigned events;

static void on_rr(void *a, const struct ertcp_rr *rr)
{
    (void)a;
    if (rr->lost < -(1 << 23) || rr->lost >= (1 << 23))
        abort(); /* a 24-bit signed field */
    events++;
}
static void on_nack(void *a, uint32_t ssrc, uint16_t pid, uint16_t blp)
{
    (void)a;
    (void)ssrc;
    (void)pid;
    (void)blp;
    events++;
}
static void on_ssrc(void *a, uint32_t ssrc)
{
    (void)a;
    (void)ssrc;
    events++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct ertcp_handler h = {on_rr, on_nack, on_ssrc, on_ssrc};
    /* A private copy sized exactly: ASan then flags any read past the end. */
    uint8_t *p = malloc(size ? size : 1);
    if (!p)
        return 0;
    memcpy(p, data, size);
    events = 0;
    int n = ertcp_parse(p, size, &h, NULL);
    if (n > (int)(size / 4) || (n < 0 && events))
        abort();
    free(p);
    return 0;
}
