/* SPDX-License-Identifier: MIT */
/* h264.h: H.264 sequence parameter set parsing (ITU-T H.264 7.3.2.1.1 and Annex E VUI):
 * picture size, profile-level-id for SDP, and the frame rate from the VUI timing info. */
#ifndef RINGCAST_H264_H
#define RINGCAST_H264_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct h264_sps {
    uint8_t profile_idc; /* profile-level-id byte 0 */
    uint8_t constraints; /* byte 1: constraint_set0..5 flags */
    uint8_t level_idc;   /* byte 2 */
    uint32_t sps_id;
    uint32_t width, height; /* luma samples, after cropping */
    bool has_timing;        /* VUI timing_info_present_flag */
    uint32_t num_units_in_tick, time_scale;
    bool fixed_frame_rate;
};

/* Parses one SPS NAL unit (header byte included, emulation prevention bytes in place).
 * Returns 0, -EINVAL if it is not an SPS, -EBADMSG if truncated or out of range. */
int h264_sps_parse(const uint8_t *nal, size_t len, struct h264_sps *out);

/* Frames per second from the timing info as num/den (time_scale / (2 * num_units_in_tick),
 * one frame being two fields' ticks). Returns 0, or -ENOENT without usable timing info. */
int h264_sps_fps(const struct h264_sps *sps, uint32_t *num, uint32_t *den);

/* "42e01f": profile-level-id as six lowercase hex digits plus NUL. */
void h264_profile_level_id(const struct h264_sps *sps, char out[7]);

#endif
