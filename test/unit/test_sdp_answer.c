/* SPDX-License-Identifier: MIT */
/* test_sdp_answer.c: offer -> answer against a real aiortc 1.4.0 offer (different ICE
 * credentials per section), Chromium's and a Firefox-style bundle-only offer, codec and
 * profile choice, the a=fingerprint rules (RFC 8122), and the refusals WHEP maps to 4xx. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "egress/sdp_answer.h"

/* Captured from aiortc 1.4.0: recvonly video (VP8, H264 42001f, H264 42e01f) + audio. */
static const char aiortc_offer[] =
    "v=0\r\n"
    "o=- 4004549772 4004549772 IN IP4 0.0.0.0\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=group:BUNDLE 0 1\r\n"
    "a=msid-semantic:WMS *\r\n"
    "m=video 38165 UDP/TLS/RTP/SAVPF 97 98 99 100 101 102\r\n"
    "c=IN IP4 192.0.2.2\r\n"
    "a=recvonly\r\n"
    "a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
    "a=mid:0\r\n"
    "a=msid:b4e60d5e-3847-4559-8ff7-27a66ba39248 bb0cebba-6958-4402-ae16-b71d40f4c3d8\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=rtcp-mux\r\n"
    "a=ssrc-group:FID 4288260182 2821158577\r\n"
    "a=ssrc:4288260182 cname:24dc1b02-bbf8-491a-8673-da9ebcafc6c8\r\n"
    "a=ssrc:2821158577 cname:24dc1b02-bbf8-491a-8673-da9ebcafc6c8\r\n"
    "a=rtpmap:97 VP8/90000\r\n"
    "a=rtcp-fb:97 nack\r\n"
    "a=rtcp-fb:97 nack pli\r\n"
    "a=rtcp-fb:97 goog-remb\r\n"
    "a=rtpmap:98 rtx/90000\r\n"
    "a=fmtp:98 apt=97\r\n"
    "a=rtpmap:99 H264/90000\r\n"
    "a=rtcp-fb:99 nack\r\n"
    "a=rtcp-fb:99 nack pli\r\n"
    "a=rtcp-fb:99 goog-remb\r\n"
    "a=fmtp:99 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f\r\n"
    "a=rtpmap:100 rtx/90000\r\n"
    "a=fmtp:100 apt=99\r\n"
    "a=rtpmap:101 H264/90000\r\n"
    "a=rtcp-fb:101 nack\r\n"
    "a=rtcp-fb:101 nack pli\r\n"
    "a=rtcp-fb:101 goog-remb\r\n"
    "a=fmtp:101 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n"
    "a=rtpmap:102 rtx/90000\r\n"
    "a=fmtp:102 apt=101\r\n"
    "a=candidate:f957a2332b1715da3b0ef8ba684454eb 1 udp 2130706431 192.0.2.2 38165 typ host\r\n"
    "a=candidate:d0bcf3d9c29a2bc887618212a1623bfa 1 udp 2130706431 fd00::2 52428 typ host\r\n"
    "a=end-of-candidates\r\n"
    "a=ice-ufrag:MltS\r\n"
    "a=ice-pwd:xpNc2mDFWbx3vM1fumH3x6\r\n"
    "a=fingerprint:sha-256 "
    "BB:E8:95:B8:E7:C5:DC:8D:F6:E9:49:71:70:3F:7B:86:F9:09:25:71:61:FC:1A:9B:08:02:B4:C2:75:F3:05:"
    "33\r\n"
    "a=setup:actpass\r\n"
    "m=audio 43901 UDP/TLS/RTP/SAVPF 96 0 8\r\n"
    "c=IN IP4 192.0.2.2\r\n"
    "a=recvonly\r\n"
    "a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=extmap:2 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
    "a=mid:1\r\n"
    "a=msid:b4e60d5e-3847-4559-8ff7-27a66ba39248 f4c30184-7144-41d7-83b7-bc7d4a1b86e0\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=rtcp-mux\r\n"
    "a=ssrc:4241220367 cname:24dc1b02-bbf8-491a-8673-da9ebcafc6c8\r\n"
    "a=rtpmap:96 opus/48000/2\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=candidate:f957a2332b1715da3b0ef8ba684454eb 1 udp 2130706431 192.0.2.2 43901 typ host\r\n"
    "a=candidate:d0bcf3d9c29a2bc887618212a1623bfa 1 udp 2130706431 fd00::2 33121 typ host\r\n"
    "a=end-of-candidates\r\n"
    "a=ice-ufrag:S4X5\r\n"
    "a=ice-pwd:yL7R1mNw3xW5xSELgkD6VA\r\n"
    "a=fingerprint:sha-256 "
    "BB:E8:95:B8:E7:C5:DC:8D:F6:E9:49:71:70:3F:7B:86:F9:09:25:71:61:FC:1A:9B:08:02:B4:C2:75:F3:05:"
    "33\r\n"
    "a=setup:actpass\r\n";

/* Captured from Chromium 156 (recvonly video + audio, as the player page offers). */
static const char chromium_offer[] =
    "v=0\r\n"
    "o=- 2394012861701703672 2 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=group:BUNDLE 0 1\r\n"
    "a=extmap-allow-mixed\r\n"
    "a=msid-semantic: WMS\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97 98 99 100 101 35 36 37 38 102 103 104 107 108 109 114 115 "
    "116 117 39 40 41 42 43 44 45 46 47 48 118 119 120 49\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:6rdm\r\n"
    "a=ice-pwd:Q5nGlH/yrfmIJ2ehmanXcf4/\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 "
    "32:D3:9D:3F:0C:EB:7D:8A:68:6A:0A:C1:CF:BC:63:B4:D1:2F:93:7E:F1:33:FB:CD:B4:D6:33:EE:DF:F7:2B:"
    "21\r\n"
    "a=setup:actpass\r\n"
    "a=mid:0\r\n"
    "a=extmap:1 urn:ietf:params:rtp-hdrext:toffset\r\n"
    "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
    "a=extmap:3 urn:3gpp:video-orientation\r\n"
    "a=extmap:4 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
    "a=extmap:5 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay\r\n"
    "a=extmap:6 http://www.webrtc.org/experiments/rtp-hdrext/video-content-type\r\n"
    "a=extmap:7 http://www.webrtc.org/experiments/rtp-hdrext/video-timing\r\n"
    "a=extmap:8 http://www.webrtc.org/experiments/rtp-hdrext/color-space\r\n"
    "a=extmap:9 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n"
    "a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id\r\n"
    "a=recvonly\r\n"
    "a=rtcp-mux\r\n"
    "a=rtcp-rsize\r\n"
    "a=rtcp-xr:rcvr-rtt=all\r\n"
    "a=rtpmap:96 VP8/90000\r\n"
    "a=rtcp-fb:96 goog-remb\r\n"
    "a=rtcp-fb:96 transport-cc\r\n"
    "a=rtcp-fb:96 ccm fir\r\n"
    "a=rtcp-fb:96 nack\r\n"
    "a=rtcp-fb:96 nack pli\r\n"
    "a=rtpmap:97 rtx/90000\r\n"
    "a=fmtp:97 apt=96\r\n"
    "a=rtpmap:98 VP9/90000\r\n"
    "a=rtcp-fb:98 goog-remb\r\n"
    "a=rtcp-fb:98 transport-cc\r\n"
    "a=rtcp-fb:98 ccm fir\r\n"
    "a=rtcp-fb:98 nack\r\n"
    "a=rtcp-fb:98 nack pli\r\n"
    "a=fmtp:98 profile-id=0\r\n"
    "a=rtpmap:99 rtx/90000\r\n"
    "a=fmtp:99 apt=98\r\n"
    "a=rtpmap:100 VP9/90000\r\n"
    "a=rtcp-fb:100 goog-remb\r\n"
    "a=rtcp-fb:100 transport-cc\r\n"
    "a=rtcp-fb:100 ccm fir\r\n"
    "a=rtcp-fb:100 nack\r\n"
    "a=rtcp-fb:100 nack pli\r\n"
    "a=fmtp:100 profile-id=2\r\n"
    "a=rtpmap:101 rtx/90000\r\n"
    "a=fmtp:101 apt=100\r\n"
    "a=rtpmap:35 VP9/90000\r\n"
    "a=rtcp-fb:35 goog-remb\r\n"
    "a=rtcp-fb:35 transport-cc\r\n"
    "a=rtcp-fb:35 ccm fir\r\n"
    "a=rtcp-fb:35 nack\r\n"
    "a=rtcp-fb:35 nack pli\r\n"
    "a=fmtp:35 profile-id=1\r\n"
    "a=rtpmap:36 rtx/90000\r\n"
    "a=fmtp:36 apt=35\r\n"
    "a=rtpmap:37 VP9/90000\r\n"
    "a=rtcp-fb:37 goog-remb\r\n"
    "a=rtcp-fb:37 transport-cc\r\n"
    "a=rtcp-fb:37 ccm fir\r\n"
    "a=rtcp-fb:37 nack\r\n"
    "a=rtcp-fb:37 nack pli\r\n"
    "a=fmtp:37 profile-id=3\r\n"
    "a=rtpmap:38 rtx/90000\r\n"
    "a=fmtp:38 apt=37\r\n"
    "a=rtpmap:102 H264/90000\r\n"
    "a=rtcp-fb:102 goog-remb\r\n"
    "a=rtcp-fb:102 transport-cc\r\n"
    "a=rtcp-fb:102 ccm fir\r\n"
    "a=rtcp-fb:102 nack\r\n"
    "a=rtcp-fb:102 nack pli\r\n"
    "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f\r\n"
    "a=rtpmap:103 rtx/90000\r\n"
    "a=fmtp:103 apt=102\r\n"
    "a=rtpmap:104 H264/90000\r\n"
    "a=rtcp-fb:104 goog-remb\r\n"
    "a=rtcp-fb:104 transport-cc\r\n"
    "a=rtcp-fb:104 ccm fir\r\n"
    "a=rtcp-fb:104 nack\r\n"
    "a=rtcp-fb:104 nack pli\r\n"
    "a=fmtp:104 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f\r\n"
    "a=rtpmap:107 rtx/90000\r\n"
    "a=fmtp:107 apt=104\r\n"
    "a=rtpmap:108 H264/90000\r\n"
    "a=rtcp-fb:108 goog-remb\r\n"
    "a=rtcp-fb:108 transport-cc\r\n"
    "a=rtcp-fb:108 ccm fir\r\n"
    "a=rtcp-fb:108 nack\r\n"
    "a=rtcp-fb:108 nack pli\r\n"
    "a=fmtp:108 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n"
    "a=rtpmap:109 rtx/90000\r\n"
    "a=fmtp:109 apt=108\r\n"
    "a=rtpmap:114 H264/90000\r\n"
    "a=rtcp-fb:114 goog-remb\r\n"
    "a=rtcp-fb:114 transport-cc\r\n"
    "a=rtcp-fb:114 ccm fir\r\n"
    "a=rtcp-fb:114 nack\r\n"
    "a=rtcp-fb:114 nack pli\r\n"
    "a=fmtp:114 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f\r\n"
    "a=rtpmap:115 rtx/90000\r\n"
    "a=fmtp:115 apt=114\r\n"
    "a=rtpmap:116 H264/90000\r\n"
    "a=rtcp-fb:116 goog-remb\r\n"
    "a=rtcp-fb:116 transport-cc\r\n"
    "a=rtcp-fb:116 ccm fir\r\n"
    "a=rtcp-fb:116 nack\r\n"
    "a=rtcp-fb:116 nack pli\r\n"
    "a=fmtp:116 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f\r\n"
    "a=rtpmap:117 rtx/90000\r\n"
    "a=fmtp:117 apt=116\r\n"
    "a=rtpmap:39 H264/90000\r\n"
    "a=rtcp-fb:39 goog-remb\r\n"
    "a=rtcp-fb:39 transport-cc\r\n"
    "a=rtcp-fb:39 ccm fir\r\n"
    "a=rtcp-fb:39 nack\r\n"
    "a=rtcp-fb:39 nack pli\r\n"
    "a=fmtp:39 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=4d001f\r\n"
    "a=rtpmap:40 rtx/90000\r\n"
    "a=fmtp:40 apt=39\r\n"
    "a=rtpmap:41 H264/90000\r\n"
    "a=rtcp-fb:41 goog-remb\r\n"
    "a=rtcp-fb:41 transport-cc\r\n"
    "a=rtcp-fb:41 ccm fir\r\n"
    "a=rtcp-fb:41 nack\r\n"
    "a=rtcp-fb:41 nack pli\r\n"
    "a=fmtp:41 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=f4001f\r\n"
    "a=rtpmap:42 rtx/90000\r\n"
    "a=fmtp:42 apt=41\r\n"
    "a=rtpmap:43 H264/90000\r\n"
    "a=rtcp-fb:43 goog-remb\r\n"
    "a=rtcp-fb:43 transport-cc\r\n"
    "a=rtcp-fb:43 ccm fir\r\n"
    "a=rtcp-fb:43 nack\r\n"
    "a=rtcp-fb:43 nack pli\r\n"
    "a=fmtp:43 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=f4001f\r\n"
    "a=rtpmap:44 rtx/90000\r\n"
    "a=fmtp:44 apt=43\r\n"
    "a=rtpmap:45 AV1/90000\r\n"
    "a=rtcp-fb:45 goog-remb\r\n"
    "a=rtcp-fb:45 transport-cc\r\n"
    "a=rtcp-fb:45 ccm fir\r\n"
    "a=rtcp-fb:45 nack\r\n"
    "a=rtcp-fb:45 nack pli\r\n"
    "a=fmtp:45 level-idx=5;profile=0;tier=0\r\n"
    "a=rtpmap:46 rtx/90000\r\n"
    "a=fmtp:46 apt=45\r\n"
    "a=rtpmap:47 AV1/90000\r\n"
    "a=rtcp-fb:47 goog-remb\r\n"
    "a=rtcp-fb:47 transport-cc\r\n"
    "a=rtcp-fb:47 ccm fir\r\n"
    "a=rtcp-fb:47 nack\r\n"
    "a=rtcp-fb:47 nack pli\r\n"
    "a=fmtp:47 level-idx=5;profile=1;tier=0\r\n"
    "a=rtpmap:48 rtx/90000\r\n"
    "a=fmtp:48 apt=47\r\n"
    "a=rtpmap:118 red/90000\r\n"
    "a=rtpmap:119 rtx/90000\r\n"
    "a=fmtp:119 apt=118\r\n"
    "a=rtpmap:120 ulpfec/90000\r\n"
    "a=rtpmap:49 flexfec-03/90000\r\n"
    "a=rtcp-fb:49 goog-remb\r\n"
    "a=rtcp-fb:49 transport-cc\r\n"
    "a=fmtp:49 repair-window=10000000\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:6rdm\r\n"
    "a=ice-pwd:Q5nGlH/yrfmIJ2ehmanXcf4/\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 "
    "32:D3:9D:3F:0C:EB:7D:8A:68:6A:0A:C1:CF:BC:63:B4:D1:2F:93:7E:F1:33:FB:CD:B4:D6:33:EE:DF:F7:2B:"
    "21\r\n"
    "a=setup:actpass\r\n"
    "a=mid:1\r\n"
    "a=extmap:14 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
    "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
    "a=extmap:4 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
    "a=extmap:9 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=recvonly\r\n"
    "a=rtcp-mux\r\n"
    "a=rtcp-rsize\r\n"
    "a=rtcp-xr:rcvr-rtt=all\r\n"
    "a=rtpmap:111 opus/48000/2\r\n"
    "a=rtcp-fb:111 transport-cc\r\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
    "a=rtpmap:63 red/48000/2\r\n"
    "a=fmtp:63 111/111\r\n"
    "a=rtpmap:9 G722/8000\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:13 CN/8000\r\n"
    "a=rtpmap:110 telephone-event/48000\r\n"
    "a=rtpmap:126 telephone-event/8000\r\n";

static const struct media_track_info h264_track = {.index = 0,
                                                   .codec = RING_CODEC_H264,
                                                   .clock_rate = 90000,
                                                   .channels = 1,
                                                   .profile_level_id = "42e01f"};
static const struct media_track_info opus_track = {
    .index = 1, .codec = RING_CODEC_OPUS, .clock_rate = 48000, .channels = 2};

static struct answer_local local(void)
{
    struct answer_local l = {.ufrag = "abcd",
                             .pwd = "0123456789abcdef012345",
                             .fingerprint = "sha-256 AA:BB",
                             .port = 18850,
                             .candidates = {"127.0.0.1", "192.0.2.7"},
                             .n_candidates = 2,
                             .ssrc = {1111, 2222}};
    return l;
}

static int build(const char *offer, const struct media_track_info *t, size_t n,
                 struct answer_result *out)
{
    struct answer_local l = local();
    return answer_build((const uint8_t *)offer, strlen(offer), t, n, &l, out);
}

/* The answer for a viewer of both usual tracks, H.264 video and Opus audio. */
static int build_av(const char *offer, struct answer_result *out)
{
    const struct media_track_info t[2] = {h264_track, opus_track};
    return build(offer, t, 2, out);
}

static void has(const char *sdp, const char *needle)
{
    if (!strstr(sdp, needle))
        fail_msg("answer lacks \"%s\":\n%s", needle, sdp);
}

static void video_only_path(void **state)
{
    (void)state;
    struct answer_result r;
    assert_int_equal(build(aiortc_offer, &h264_track, 1, &r), 0);
    /* 42e01f matches exactly (101), better than 42001f (99). */
    has(r.sdp, "m=video 18850 UDP/TLS/RTP/SAVPF 101\r\n");
    has(r.sdp, "a=rtpmap:101 H264/90000\r\n");
    has(r.sdp, "packetization-mode=1");
    has(r.sdp, "a=sendonly\r\n");
    has(r.sdp, "a=ice-lite\r\n");
    has(r.sdp, "a=setup:passive\r\n");
    has(r.sdp, "a=rtcp-mux\r\n");
    has(r.sdp, "a=fingerprint:sha-256 AA:BB\r\n");
    has(r.sdp, "a=group:BUNDLE 0\r\n");
    has(r.sdp, "a=rtcp-fb:101 nack\r\n");
    has(r.sdp, "a=rtcp-fb:101 nack pli\r\n");
    has(r.sdp, "a=candidate:1 1 udp 2130706431 127.0.0.1 18850 typ host\r\n");
    has(r.sdp, "192.0.2.7 18850 typ host");
    has(r.sdp, "a=ssrc:1111 cname:ringcast\r\n");
    /* The audio section is rejected but keeps its mid. */
    has(r.sdp, "m=audio 0 UDP/TLS/RTP/SAVPF");
    has(r.sdp, "a=mid:1\r\n");
    has(r.sdp, "a=inactive\r\n");
    assert_null(strstr(r.sdp, "VP8"));
    /* RFC 8843: the BUNDLE-tagged section's credentials, not the audio section's. */
    assert_string_equal(r.remote_ufrag, "MltS");
    assert_string_equal(r.remote_pwd, "xpNc2mDFWbx3vM1fumH3x6");
    assert_int_equal(r.fingerprints.n, 1);
    assert_string_equal(r.fingerprints.fp[0].hash, "sha-256");
    assert_int_equal(r.fingerprints.fp[0].len, 32);
    assert_int_equal(r.fingerprints.fp[0].digest[0], 0xBB);
    assert_int_equal(r.tracks[0].pt, 101);
    assert_int_equal(r.tracks[0].flags, MEDIA_TRACK_SEND | MEDIA_TRACK_NACK | MEDIA_TRACK_PLI);
    assert_int_equal(r.tracks[0].mid_id, 1);
    assert_int_equal(r.tracks[0].playout_delay_id, 0);
    assert_string_equal(r.tracks[0].mid, "0");
    answer_result_free(&r);
}

static void video_and_audio(void **state)
{
    (void)state;
    struct answer_result r;
    assert_int_equal(build_av(aiortc_offer, &r), 0);
    has(r.sdp, "a=group:BUNDLE 0 1\r\n");
    has(r.sdp, "m=audio 18850 UDP/TLS/RTP/SAVPF 96\r\n");
    has(r.sdp, "a=rtpmap:96 opus/48000/2\r\n");
    has(r.sdp, "a=ssrc:2222 cname:ringcast\r\n");
    assert_int_equal(r.tracks[1].pt, 96);
    assert_int_equal(r.tracks[1].flags, MEDIA_TRACK_SEND);
    answer_result_free(&r);
}

static void pcma_audio(void **state)
{
    (void)state;
    struct media_track_info t[2] = {
        h264_track, {.index = 1, .codec = RING_CODEC_PCMA, .clock_rate = 8000, .channels = 1}};
    struct answer_result r;
    assert_int_equal(build(aiortc_offer, t, 2, &r), 0);
    has(r.sdp, "m=audio 18850 UDP/TLS/RTP/SAVPF 8\r\n");
    assert_int_equal(r.tracks[1].pt, 8);
    answer_result_free(&r);
}

static void playout_delay_echoed(void **state)
{
    (void)state;
    char *offer = strdup(aiortc_offer);
    char *ext = strstr(offer, "abs-send-time");
    assert_non_null(ext);
    char buf[8192];
    snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(ext - offer), offer, "playout-delay",
             ext + strlen("abs-send-time"));
    struct answer_result r;
    assert_int_equal(build(buf, &h264_track, 1, &r), 0);
    has(r.sdp, "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay\r\n");
    assert_int_equal(r.tracks[0].playout_delay_id, 2);
    answer_result_free(&r);
    free(offer);
}

static char *replace(const char *s, const char *from, const char *to)
{
    const char *at = strstr(s, from);
    assert_non_null(at);
    size_t n = strlen(s) - strlen(from) + strlen(to) + 1;
    char *out = malloc(n);
    snprintf(out, n, "%.*s%s%s", (int)(at - s), s, to, at + strlen(from));
    return out;
}

static void refusals(void **state)
{
    (void)state;
    struct answer_result r;
    /* No fingerprint anywhere (both sections carry one). */
    char *a = replace(aiortc_offer, "a=fingerprint:", "a=x-fingerprint:");
    char *b = replace(a, "a=fingerprint:", "a=x-fingerprint:");
    assert_int_equal(build(b, &h264_track, 1, &r), -EBADMSG);
    assert_non_null(strstr(r.reason, "fingerprint"));
    assert_null(r.sdp);
    free(a);
    free(b);
    /* Passive offerer. */
    a = replace(aiortc_offer, "a=setup:actpass", "a=setup:passive");
    assert_int_equal(build(a, &h264_track, 1, &r), -ENOTSUP);
    free(a);
    /* High profile stream, only baseline offered. */
    struct media_track_info high = h264_track;
    memcpy(high.profile_level_id, "640028", 7);
    assert_int_equal(build(aiortc_offer, &high, 1, &r), -ENOMEDIUM);
    /* Garbage and empty input. */
    assert_int_equal(build("hello world\r\n", &h264_track, 1, &r), -EBADMSG);
    assert_int_equal(build("", &h264_track, 1, &r), -EBADMSG);
    assert_int_equal(build("v=0\r\n", &h264_track, 1, &r), -EBADMSG);
}

static void audio_only_offer(void **state)
{
    (void)state;
    const char *video = strstr(aiortc_offer, "m=video");
    const char *audio = strstr(aiortc_offer, "m=audio");
    char buf[8192];
    snprintf(buf, sizeof(buf), "%.*s%s", (int)(video - aiortc_offer), aiortc_offer, audio);
    char *nobundle = replace(buf, "a=group:BUNDLE 0 1", "a=group:BUNDLE 1");
    struct answer_result r;
    assert_int_equal(build(nobundle, &h264_track, 1, &r), -ENOMEDIUM);
    assert_non_null(strstr(r.reason, "no video"));
    free(nobundle);
}

/* Without BUNDLE everything would need its own transport: only the first section that can
 * carry a track is answered, the rest are rejected (a regression found by fuzz_sdp_answer:
 * sections after the first answered one were left unassigned). */
static void no_bundle_answers_one_section(void **state)
{
    (void)state;
    char *offer = replace(aiortc_offer, "a=group:BUNDLE 0 1\r\n", "");
    struct answer_result r;
    assert_int_equal(build_av(offer, &r), 0);
    has(r.sdp, "m=video 18850 UDP/TLS/RTP/SAVPF");
    has(r.sdp, "m=audio 0 UDP/TLS/RTP/SAVPF");
    assert_null(strstr(r.sdp, "a=group:BUNDLE"));
    assert_int_equal(r.tracks[0].flags & MEDIA_TRACK_SEND, MEDIA_TRACK_SEND);
    assert_int_equal(r.tracks[1].flags, 0);
    answer_result_free(&r);
    free(offer);
}

/* Chromium: the exact profile with packetization-mode=1 (108, not 104/114 with mode 0),
 * playout-delay and mid extensions echoed, Opus on 111, its credentials. */
static void chromium_offer_answered(void **state)
{
    (void)state;
    struct answer_result r;
    assert_int_equal(build_av(chromium_offer, &r), 0);
    has(r.sdp, "m=video 18850 UDP/TLS/RTP/SAVPF 108\r\n");
    has(r.sdp, "m=audio 18850 UDP/TLS/RTP/SAVPF 111\r\n");
    has(r.sdp, "a=extmap:5 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay\r\n");
    has(r.sdp, "a=group:BUNDLE 0 1\r\n");
    assert_int_equal(r.tracks[0].pt, 108);
    assert_int_equal(r.tracks[0].playout_delay_id, 5);
    assert_int_equal(r.tracks[0].mid_id, 9);
    assert_int_equal(r.tracks[0].flags, MEDIA_TRACK_SEND | MEDIA_TRACK_NACK | MEDIA_TRACK_PLI);
    assert_int_equal(r.tracks[1].pt, 111);
    assert_string_equal(r.remote_ufrag, "6rdm");
    answer_result_free(&r);
}

/* Firefox with bundlePolicy max-bundle (RFC 8843 7.2): the audio section is bundle-only, port
 * 0, without transport attributes of its own. It is answered inside the BUNDLE group on our
 * port with the BUNDLE-tagged section's credentials; a port-0 section without bundle-only
 * stays rejected. */
static void bundle_only_offer(void **state)
{
    (void)state;
    static const char audio[] = "m=audio 0 UDP/TLS/RTP/SAVPF 111 0 8\r\n"
                                "c=IN IP4 0.0.0.0\r\n"
                                "a=bundle-only\r\n"
                                "a=mid:1\r\n"
                                "a=recvonly\r\n"
                                "a=rtcp-mux\r\n"
                                "a=rtpmap:111 opus/48000/2\r\n"
                                "a=fmtp:111 maxplaybackrate=48000;stereo=1;useinbandfec=1\r\n"
                                "a=rtpmap:0 PCMU/8000\r\n"
                                "a=rtpmap:8 PCMA/8000\r\n";
    const char *at = strstr(chromium_offer, "m=audio");
    assert_non_null(at);
    char offer[8192];
    snprintf(offer, sizeof(offer), "%.*s%s", (int)(at - chromium_offer), chromium_offer, audio);
    struct answer_result r;
    assert_int_equal(build_av(offer, &r), 0);
    has(r.sdp, "m=video 18850 UDP/TLS/RTP/SAVPF 108\r\n");
    has(r.sdp, "m=audio 18850 UDP/TLS/RTP/SAVPF 111\r\n");
    has(r.sdp, "a=group:BUNDLE 0 1\r\n");
    assert_int_equal(r.tracks[1].pt, 111);
    assert_int_equal(r.tracks[1].flags & MEDIA_TRACK_SEND, MEDIA_TRACK_SEND);
    assert_string_equal(r.remote_ufrag, "6rdm");
    answer_result_free(&r);

    char *plain0 = replace(offer, "a=bundle-only\r\n", "");
    assert_int_equal(build_av(plain0, &r), 0);
    has(r.sdp, "m=audio 0 UDP/TLS/RTP/SAVPF");
    has(r.sdp, "a=group:BUNDLE 0\r\n");
    assert_int_equal(r.tracks[1].flags, 0);
    answer_result_free(&r);
    free(plain0);
}

/* Hex digits "00:01:..." of n bytes, for a=fingerprint values. */
static const char *digest_hex(size_t n, uint8_t first)
{
    static char buf[3 * 64];
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += (size_t)snprintf(buf + k, sizeof(buf) - k, i ? ":%02X" : "%02X",
                              (unsigned)(uint8_t)(first + i));
    return buf;
}

/* offer with the line add inserted before the first occurrence of before; free() it. */
static char *insert_before(const char *offer, const char *before, const char *add)
{
    char to[512];
    snprintf(to, sizeof(to), "%s%s", add, before);
    return replace(offer, before, to);
}

static int build_with(const char *before, const char *add, struct answer_result *r)
{
    char *offer = insert_before(aiortc_offer, before, add);
    int err = build(offer, &h264_track, 1, r);
    free(offer);
    return err;
}

/* RFC 8122 5: only sha-256, sha-384 and sha-512 count; the certificate may match any of
 * several lines; a media-level line overrides the session level. */
static void fingerprint_rules(void **state)
{
    (void)state;
    struct answer_result r;
    char line[256];
    /* A sha-1 line before the sha-256 one is skipped, not taken. */
    snprintf(line, sizeof(line), "a=fingerprint:sha-1 %s\r\n", digest_hex(20, 0x10));
    assert_int_equal(build_with("a=fingerprint:sha-256 BB", line, &r), 0);
    assert_int_equal(r.fingerprints.n, 1);
    assert_string_equal(r.fingerprints.fp[0].hash, "sha-256");
    assert_int_equal(r.fingerprints.fp[0].digest[0], 0xBB);
    answer_result_free(&r);
    /* sha-512 and sha-256 lines: both kept, for the handshake to match either. */
    snprintf(line, sizeof(line), "a=fingerprint:SHA-512 %s\r\n", digest_hex(64, 0x40));
    assert_int_equal(build_with("a=fingerprint:sha-256 BB", line, &r), 0);
    assert_int_equal(r.fingerprints.n, 2);
    assert_string_equal(r.fingerprints.fp[0].hash, "sha-512");
    assert_int_equal(r.fingerprints.fp[0].len, 64);
    assert_int_equal(r.fingerprints.fp[0].digest[63], 0x7F);
    assert_string_equal(r.fingerprints.fp[1].hash, "sha-256");
    answer_result_free(&r);
    /* A session-level sha-384 line: overridden by the section's own line... */
    snprintf(line, sizeof(line), "a=fingerprint:sha-384 %s\r\n", digest_hex(48, 0x30));
    assert_int_equal(build_with("a=group:BUNDLE", line, &r), 0);
    assert_int_equal(r.fingerprints.n, 1);
    assert_string_equal(r.fingerprints.fp[0].hash, "sha-256");
    answer_result_free(&r);
    /* ...and used when the section has none. */
    char *a = replace(aiortc_offer, "a=fingerprint:sha-256 BB", "a=x-fingerprint:sha-256 BB");
    char *b = insert_before(a, "a=group:BUNDLE", line);
    assert_int_equal(build(b, &h264_track, 1, &r), 0);
    assert_int_equal(r.fingerprints.n, 1);
    assert_string_equal(r.fingerprints.fp[0].hash, "sha-384");
    assert_int_equal(r.fingerprints.fp[0].len, 48);
    answer_result_free(&r);
    free(a);
    free(b);
    /* Only md5 and sha-1: refused with the reason. */
    a = replace(aiortc_offer, "a=fingerprint:sha-256 BB", "a=fingerprint:md5 BB");
    snprintf(line, sizeof(line), "a=fingerprint:sha-1 %s\r\n", digest_hex(20, 0x10));
    b = insert_before(a, "a=fingerprint:md5", line);
    assert_int_equal(build(b, &h264_track, 1, &r), -EBADMSG);
    assert_non_null(strstr(r.reason, "sha-256, sha-384 or sha-512"));
    assert_null(r.sdp);
    free(a);
    free(b);
    /* A sha-256 digest of the wrong length is not usable either. */
    a = replace(aiortc_offer, "F3:05:", "");
    assert_int_equal(build(a, &h264_track, 1, &r), -EBADMSG);
    assert_non_null(strstr(r.reason, "usable a=fingerprint"));
    free(a);
}

static void thousand_sections(void **state)
{
    (void)state;
    size_t cap = 64 * 1024, n = 0;
    char *buf = malloc(cap);
    n += (size_t)snprintf(buf, cap, "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n");
    for (int i = 0; i < 1000; i++)
        n += (size_t)snprintf(buf + n, cap - n, "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n");
    struct answer_result r;
    assert_int_equal(build(buf, &h264_track, 1, &r), -E2BIG);
    assert_non_null(strstr(r.reason, "1000 media sections"));
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(video_only_path),
        cmocka_unit_test(video_and_audio),
        cmocka_unit_test(pcma_audio),
        cmocka_unit_test(playout_delay_echoed),
        cmocka_unit_test(refusals),
        cmocka_unit_test(fingerprint_rules),
        cmocka_unit_test(audio_only_offer),
        cmocka_unit_test(thousand_sections),
        cmocka_unit_test(no_bundle_answers_one_section),
        cmocka_unit_test(chromium_offer_answered),
        cmocka_unit_test(bundle_only_offer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
