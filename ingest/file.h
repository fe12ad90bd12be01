/* SPDX-License-Identifier: MIT */
/* file.h: the file: source: loops an H.264 Annex-B file forever at real-time pace (fps from
 * path->fps, else the SPS timing info, else 30), with timestamps continuing across loops.
 * The file is split into access units once; each is read from it as it is due. */
#ifndef RINGCAST_FILE_H
#define RINGCAST_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "ingest/source.h"

/* path->source is "file:PATH". Fails with -errno (unreadable, no access unit) at create. */
int file_source_create(struct source **out, uv_loop_t *loop, struct ingest *ing,
                       const struct config_path *path);

/* Splits an H.264 Annex-B stream into access units (ITU-T H.264 7.4.1.2.3: an AUD, SPS, PPS,
 * SEI or a slice with first_mb_in_slice == 0 after a slice starts a new unit). Calls cb
 * for each with its byte range (start codes included). Returns the number of units, or
 * -EBADMSG when the buffer holds no NAL. */
int file_h264_split(const uint8_t *p, size_t len,
                    void (*cb)(void *arg, const uint8_t *au, size_t au_len), void *arg);

/* The time of frame i at num/den frames per second, in 1/unit s (unit 1e9: ns; 90000: RTP
 * ticks). Exact for any i (128-bit product): SPS timing such as 1000/50000 or 3000/180000
 * would overflow 64 bits within days of looping. */
uint64_t file_frame_time(uint64_t i, uint64_t unit, uint32_t num, uint32_t den);

#endif
