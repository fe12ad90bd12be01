/* SPDX-License-Identifier: MIT */
/* codec_id.h: the codec ids and the parameter-set cap of a ring's track table (part of the
 * ring layout, so they live in shm/), on their own so that codec/ can name them without
 * including the ring itself. */
#ifndef RINGCAST_CODEC_ID_H
#define RINGCAST_CODEC_ID_H

#define RING_PARAMS_MAX 1024 /* parameter sets, Annex-B (start codes) */

enum ring_codec {
    RING_CODEC_NONE = 0,
    RING_CODEC_H264,
    RING_CODEC_H265,
    RING_CODEC_OPUS,
    RING_CODEC_PCMU,
    RING_CODEC_PCMA,
};

#endif
