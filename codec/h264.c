/* SPDX-License-Identifier: MIT */
/* h264.c: H.264 SPS parsing (ITU-T H.264 7.3.2.1.1, E.1.1) for picture size, profile-level-id
 * and the VUI frame rate. The bit reader removes emulation prevention bytes as it goes and
 * turns any overrun into an error, so a hostile SPS can only fail. */
#include "codec/h264.h"

#include <errno.h>
#include <stdio.h>

struct bits {
    const uint8_t *p;
    size_t len;
    size_t byte;    /* next byte to load */
    unsigned zeros; /* consecutive zero bytes loaded, for emulation prevention */
    uint8_t cur;
    unsigned left; /* bits left in cur */
    bool overrun;
};

static unsigned bits_u1(struct bits *b)
{
    if (b->left == 0) {
        /* 7.4.1: 0x000003 -> 0x0000; the 03 is not part of the RBSP. */
        if (b->zeros >= 2 && b->byte < b->len && b->p[b->byte] == 3) {
            b->byte++;
            b->zeros = 0;
        }
        if (b->byte >= b->len) {
            b->overrun = true;
            return 0;
        }
        b->cur = b->p[b->byte++];
        b->zeros = b->cur == 0 ? b->zeros + 1 : 0;
        b->left = 8;
    }
    b->left--;
    return (b->cur >> b->left) & 1;
}

static uint32_t bits_u(struct bits *b, unsigned n)
{
    uint32_t v = 0;
    while (n-- > 0)
        v = (v << 1) | bits_u1(b);
    return v;
}

/* ue(v), 9.1; more than 31 leading zeros cannot fit 32 bits and marks the SPS bad. */
static uint32_t bits_ue(struct bits *b)
{
    unsigned zeros = 0;
    while (bits_u1(b) == 0) {
        if (b->overrun || ++zeros > 31) {
            b->overrun = true;
            return 0;
        }
    }
    return (uint32_t)((1ull << zeros) - 1 + bits_u(b, zeros));
}

/* se(v), 9.1.1; 64-bit so that hostile codes near 2^32 cannot overflow. */
static int64_t bits_se(struct bits *b)
{
    uint32_t k = bits_ue(b);
    return (k & 1) ? (int64_t)(k / 2) + 1 : -(int64_t)(k / 2);
}

static void skip_scaling_list(struct bits *b, unsigned size)
{
    int64_t last = 8, next = 8;
    for (unsigned j = 0; j < size && !b->overrun; j++) {
        if (next != 0) /* 7.4.2.1.1: delta_scale is -128..127; wrap any value into 0..255 */
            next = ((last + bits_se(b)) % 256 + 256) % 256;
        last = next == 0 ? last : next;
    }
}

static bool profile_has_chroma_info(uint8_t p)
{
    switch (p) {
    case 100:
    case 110:
    case 122:
    case 244:
    case 44:
    case 83:
    case 86:
    case 118:
    case 128:
    case 138:
    case 139:
    case 134:
    case 135:
        return true;
    default:
        return false;
    }
}

/* E.1.1 up to timing_info; the rest of the VUI is not needed. */
static void parse_vui_timing(struct bits *b, struct h264_sps *s)
{
    if (bits_u1(b) && bits_u(b, 8) == 255) /* aspect_ratio_info_present, Extended_SAR */
        bits_u(b, 32);
    if (bits_u1(b)) /* overscan_info_present */
        bits_u1(b);
    if (bits_u1(b)) {   /* video_signal_type_present */
        bits_u(b, 4);   /* video_format, video_full_range_flag */
        if (bits_u1(b)) /* colour_description_present */
            bits_u(b, 24);
    }
    if (bits_u1(b)) { /* chroma_loc_info_present */
        bits_ue(b);
        bits_ue(b);
    }
    s->has_timing = bits_u1(b);
    if (s->has_timing) {
        s->num_units_in_tick = bits_u(b, 32);
        s->time_scale = bits_u(b, 32);
        s->fixed_frame_rate = bits_u1(b);
    }
}

int h264_sps_parse(const uint8_t *nal, size_t len, struct h264_sps *out)
{
    *out = (struct h264_sps){0};
    if (len < 1 || (nal[0] & 0x1f) != 7)
        return -EINVAL;
    struct bits b = {.p = nal, .len = len, .byte = 1};
    struct h264_sps *s = out;
    s->profile_idc = (uint8_t)bits_u(&b, 8);
    s->constraints = (uint8_t)bits_u(&b, 8);
    s->level_idc = (uint8_t)bits_u(&b, 8);
    s->sps_id = bits_ue(&b);
    uint32_t chroma_format_idc = 1, separate_planes = 0;
    if (profile_has_chroma_info(s->profile_idc)) {
        chroma_format_idc = bits_ue(&b);
        if (chroma_format_idc > 3)
            return -EBADMSG;
        if (chroma_format_idc == 3)
            separate_planes = bits_u1(&b);
        bits_ue(&b);       /* bit_depth_luma_minus8 */
        bits_ue(&b);       /* bit_depth_chroma_minus8 */
        bits_u1(&b);       /* qpprime_y_zero_transform_bypass_flag */
        if (bits_u1(&b)) { /* seq_scaling_matrix_present_flag */
            for (unsigned i = 0; i < (chroma_format_idc != 3 ? 8u : 12u) && !b.overrun; i++)
                if (bits_u1(&b))
                    skip_scaling_list(&b, i < 6 ? 16 : 64);
        }
    }
    bits_ue(&b); /* log2_max_frame_num_minus4 */
    uint32_t poc_type = bits_ue(&b);
    if (poc_type == 0) {
        bits_ue(&b);
    } else if (poc_type == 1) {
        bits_u1(&b);
        bits_se(&b);
        bits_se(&b);
        uint32_t n = bits_ue(&b);
        if (n > 255)
            return -EBADMSG;
        for (uint32_t i = 0; i < n && !b.overrun; i++)
            bits_se(&b);
    } else if (poc_type > 2) {
        return -EBADMSG;
    }
    bits_ue(&b); /* max_num_ref_frames */
    bits_u1(&b); /* gaps_in_frame_num_value_allowed_flag */
    uint32_t w_mbs = bits_ue(&b) + 1;
    uint32_t h_map = bits_ue(&b) + 1;
    uint32_t frame_mbs_only = bits_u1(&b);
    if (!frame_mbs_only)
        bits_u1(&b); /* mb_adaptive_frame_field_flag */
    bits_u1(&b);     /* direct_8x8_inference_flag */
    uint32_t crop[4] = {0, 0, 0, 0};
    if (bits_u1(&b))
        for (int i = 0; i < 4; i++)
            crop[i] = bits_ue(&b);
    if (bits_u1(&b))
        parse_vui_timing(&b, s);
    if (b.overrun || w_mbs > 1024 || h_map > 1024)
        return -EBADMSG;
    /* 7.4.2.1.1: crop units depend on the chroma format and field coding. */
    uint32_t array_type = separate_planes ? 0 : chroma_format_idc;
    uint32_t unit_x = array_type == 0 ? 1 : (array_type == 3 ? 1 : 2);
    uint32_t unit_y = (array_type == 1 ? 2 : 1) * (2 - frame_mbs_only);
    uint64_t w = (uint64_t)w_mbs * 16, h = (uint64_t)h_map * 16 * (2 - frame_mbs_only);
    uint64_t cx = ((uint64_t)crop[0] + crop[1]) * unit_x,
             cy = ((uint64_t)crop[2] + crop[3]) * unit_y;
    if (cx >= w || cy >= h)
        return -EBADMSG;
    s->width = (uint32_t)(w - cx);
    s->height = (uint32_t)(h - cy);
    return 0;
}

int h264_sps_fps(const struct h264_sps *sps, uint32_t *num, uint32_t *den)
{
    if (!sps->has_timing || sps->num_units_in_tick == 0 || sps->time_scale == 0 ||
        sps->num_units_in_tick > UINT32_MAX / 2)
        return -ENOENT;
    /* E.2.1: a frame lasts two ticks of num_units_in_tick / time_scale. */
    *num = sps->time_scale;
    *den = 2 * sps->num_units_in_tick;
    return 0;
}

void h264_profile_level_id(const struct h264_sps *sps, char out[7])
{
    snprintf(out, 7, "%02x%02x%02x", sps->profile_idc, sps->constraints, sps->level_idc);
}
