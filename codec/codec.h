/* SPDX-License-Identifier: MIT */
/* codec.h: codec knowledge shared by ingest and egress that is not RTP framing: Annex-B
 * NAL iteration, NAL classification (parameter sets, keyframes), parameter sets from SDP
 * fmtp (sprop-*) and from access units. Codec ids are enum ring_codec (shm/codec_id.h). */
#ifndef RINGCAST_CODEC_H
#define RINGCAST_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shm/codec_id.h"

/* True for the codecs the packetizers and depacketizers handle (every enum ring_codec but
 * RING_CODEC_NONE). */
bool codec_is_known(uint32_t codec);
/* The codec's RTP encoding name (RFC 4856/6184/7587/7798), "none" for anything else. */
const char *codec_name(uint32_t codec);
/* True for the video codecs (Annex-B access units, 90 kHz, keyframes matter). */
bool codec_is_video(uint32_t codec);

/* Iterates the NAL units of an Annex-B buffer (3- or 4-byte start codes). *pos starts at 0.
 * Returns 1 with *nal and *nal_len (without start code, trailing zero bytes trimmed), 0 at the
 * end. Bytes before the first start code are skipped; empty NALs are skipped. Never reads
 * outside [p, p + len). */
int codec_annexb_next(const uint8_t *p, size_t len, size_t *pos, const uint8_t **nal,
                      size_t *nal_len);

/* NAL unit type of the first header byte(s): H.264 nal[0] & 0x1f, H.265 (nal[0] >> 1) & 0x3f.
 * Returns -1 when nal_len is too short for the header. */
int codec_nal_type(uint32_t codec, const uint8_t *nal, size_t nal_len);
/* SPS/PPS (H.264 7, 8) or VPS/SPS/PPS (H.265 32, 33, 34). */
bool codec_nal_is_param(uint32_t codec, const uint8_t *nal, size_t nal_len);
/* IDR (H.264 5) or IRAP (H.265 16..23). */
bool codec_nal_is_key(uint32_t codec, const uint8_t *nal, size_t nal_len);

/* True if the access unit (Annex-B) holds a keyframe slice. Audio: always true. */
bool codec_au_is_key(uint32_t codec, const uint8_t *au, size_t len);

/* Copies the parameter-set NALs found in au into out as Annex-B (4-byte start codes), in
 * order of appearance. Returns the bytes written (0: none), or -ENOSPC if out is too small. */
int codec_params_from_au(uint32_t codec, const uint8_t *au, size_t len, uint8_t *out, size_t cap);

/* Parameter sets from an SDP fmtp value (e.g. "packetization-mode=1;sprop-parameter-sets=
 * Z0IAH5WoFAFuQA==,aM48gA==" for H.264; sprop-vps/sprop-sps/sprop-pps for H.265, in that
 * order) as an Annex-B blob with 4-byte start codes. Returns the bytes written (0 when the
 * fmtp carries none), -EBADMSG on bad base64, -ENOSPC if out is too small. */
int codec_params_from_fmtp(uint32_t codec, const char *fmtp, size_t fmtp_len, uint8_t *out,
                           size_t cap);

/* Standard base64 (RFC 4648, padding optional) decoder that rejects invalid characters
 * (libre's accepts them). Returns bytes written, -EBADMSG or -ENOSPC. */
int codec_base64_decode(const char *in, size_t in_len, uint8_t *out, size_t cap);
/* Standard base64 with padding (RFC 4648 4) of in[0..len) into out, NUL-terminated. Returns the
 * characters written, or -ENOSPC if out cannot hold them and the NUL. */
int codec_base64_encode(const uint8_t *in, size_t len, char *out, size_t cap);

#endif
