/* SPDX-License-Identifier: MIT */
/* fuzz_depack.h: the driver shared by the depacketizer fuzz targets. The input is a series
 * of RTP packets, each prefixed by a 16-bit little-endian length, fed to one depacketizer;
 * every unit it delivers must be well-formed and packetize again. */
#ifndef RINGCAST_FUZZ_DEPACK_H
#define RINGCAST_FUZZ_DEPACK_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "codec/codec.h"
#include "codec/depack.h"
#include "codec/pack.h"

#define FUZZ_MAX_AU (64u << 10)

static void fuzz_on_au(void *arg, const struct depack_au *au)
{
    uint32_t codec = *(const uint32_t *)arg;
    if (au->len == 0 || au->len > FUZZ_MAX_AU)
        abort();
    if (au->key != codec_au_is_key(codec, au->data, au->len))
        abort();
    /* The parameter sets the ingest takes from it fit the ring's track table. */
    uint8_t params[RING_PARAMS_MAX];
    int plen = codec_params_from_au(codec, au->data, au->len, params, sizeof(params));
    if (plen > (int)sizeof(params) || (plen > 0 && params[3] != 1))
        abort();
    /* Whatever came in, the egress must be able to send it again, unless nothing in it
     * survives as a NAL unit (all zero bytes), which the ingest then drops. */
    size_t pos = 0, n;
    const uint8_t *nal;
    bool has_nal = !codec_is_video(codec) || codec_annexb_next(au->data, au->len, &pos, &nal, &n);
    if ((pack_count(codec, au->data, au->len, PACK_DEFAULT_MTU) >= 1) != has_nal)
        abort();
}

static int fuzz_depack_run(uint32_t codec, const uint8_t *data, size_t size)
{
    struct depack *d;
    if (depack_create(&d, codec, FUZZ_MAX_AU, fuzz_on_au, &codec) < 0)
        abort();
    while (size >= 2) {
        size_t len = (size_t)data[0] | ((size_t)data[1] << 8);
        data += 2;
        size -= 2;
        if (len > size)
            len = size;
        (void)depack_push(d, data, len);
        data += len;
        size -= len;
    }
    depack_free(d);
    return 0;
}

#endif
