#!/usr/bin/python3
# whip_publisher.py: an independent WHIP publisher (RFC 9725) on aiortc (Debian's
# python3-aiortc 1.4.0, its own H.264 encoder and packetizer; Opus with --audio), used by
# test_whip_*. It POSTs a sendonly offer (H.264 forced with setCodecPreferences), sends a
# moving synthetic picture at --fps for --seconds, DELETEs the session and prints one JSON
# line: {"post_status": 201, "connected": true, "frames_sent": N, "packets_sent": K, ...};
# a refused POST gives its status and "error" (the reason).
# Bad behaviour on purpose, at given seconds after connecting: --ssrc-change-at (the video
# sender takes a new SSRC, as a restarted encoder), --pt-change-at (its packets carry an
# unnegotiated payload type for a second), --flood-at (--flood-mbps of valid-looking SRTP,
# its SSRC with random payloads and tags, from its own socket for --flood-seconds).
# --clip FILE.h264 --mbps R sends that Annex B clip's access units (looped, packetized by
# aiortc) instead of encoding, as fast as makes R Mbit/s: the WHIP ingest's bench
# (tools/bench-whip.sh) without the cost of an encoder.
# --rtt-ms T answers a NACK with the packet T ms after it came, as over a path of that round
# trip (loopback has none; network namespaces here have no netem): the reorder window's test.
import asyncio
import fractions
import sys
import time

import os
import random

import numpy
from av import VideoFrame
from aiortc import RTCPeerConnection, RTCRtpSender, VideoStreamTrack
from aiortc.mediastreams import AudioStreamTrack
from aiortc.rtcdtlstransport import RTCDtlsTransport
from aiortc.rtp import is_rtcp

import webrtc_http

bad_pt = [None]  # while set: the payload type video RTP carries (before encryption)


def patch_payload_type():
    orig = RTCDtlsTransport._send_rtp

    async def send(self, data):
        if bad_pt[0] is not None and not is_rtcp(data) and len(data) > 12:
            data = bytes([data[0], (data[1] & 0x80) | bad_pt[0]]) + data[2:]
        await orig(self, data)

    RTCDtlsTransport._send_rtp = send


def patch_retransmit(rtt_ms):
    """NACKed packets go out rtt_ms after the NACK, each looked up at once as the sender
    would, in a history of 1024 packets (aiortc's 128 are 77 ms at 16 Mbit/s: a request
    asked again after a round trip would find nothing; Chromium keeps far more). Our answers
    negotiate no RTX."""
    import aiortc.rtcrtpsender as rs
    rs.RTP_HISTORY_SIZE = 1024

    async def retransmit(self, seq):
        packet = self._RTCRtpSender__rtp_history.get(seq % rs.RTP_HISTORY_SIZE)
        if packet and packet.sequence_number == seq:
            data = packet.serialize(self._RTCRtpSender__rtp_header_extensions_map)
            asyncio.get_running_loop().call_later(
                rtt_ms / 1000, lambda: asyncio.ensure_future(self.transport._send_rtp(data)))

    RTCRtpSender._retransmit = retransmit


async def misbehave(args, sender, result):
    """The --*-at faults, in time order, counted into result."""
    t0 = time.monotonic()
    events = sorted((at, name) for at, name in ((args.ssrc_change_at, "ssrc"),
                                                 (args.pt_change_at, "pt"),
                                                 (args.flood_at, "flood")) if at is not None)
    for at, name in events:
        await asyncio.sleep(max(0, t0 + at - time.monotonic()))
        if name == "ssrc":
            sender._ssrc = random.getrandbits(32)  # _run_rtp reads it for every packet
            result["ssrc_changed"] = True
        elif name == "pt":
            bad_pt[0] = 45  # in no answer: ours name the one H.264 format they accept
            await asyncio.sleep(1)
            bad_pt[0] = None
            result["pt_changed"] = True
        else:
            result["flood_packets"] = await flood(args, sender)


async def flood(args, sender):
    """Sends valid-looking SRTP (RTP header of the video stream, random body and tag) at
    --flood-mbps for --flood-seconds from the publisher's own ICE socket; the count sent."""
    pair = sender.transport.transport._connection._nominated[1]
    tx, addr = pair.protocol.transport, pair.remote_addr
    size, sent = 1200, 0
    per_ms = args.flood_mbps * 1e6 / 8 / size / 1000
    t0 = time.monotonic()
    while time.monotonic() - t0 < args.flood_seconds:
        due = int((time.monotonic() - t0) * 1000 * per_ms) - sent
        for _ in range(max(0, due)):
            hdr = bytes([0x80, 96 + random.getrandbits(5)]) + random.getrandbits(16).to_bytes(2, "big") + \
                os.urandom(4) + sender._ssrc.to_bytes(4, "big")
            tx.sendto(hdr + os.urandom(size - 12), addr)
            sent += 1
        await asyncio.sleep(0.001)
    return sent


class Pattern(VideoStreamTrack):
    """A moving bar: every frame differs, so the encoder sends real P-frames."""

    def __init__(self, fps, width=320, height=240):
        super().__init__()
        self.fps, self.w, self.h, self.n = fps, width, height, 0
        self.t0 = None

    async def recv(self):
        if self.t0 is None:
            self.t0 = time.monotonic()
        self.n += 1
        wait = self.t0 + self.n / self.fps - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        img = numpy.full((self.h, self.w, 3), 40, dtype=numpy.uint8)
        x = (self.n * 4) % self.w
        img[:, x:x + 16, :] = 230
        img[(self.n * 2) % self.h, :, 1] = 200
        frame = VideoFrame.from_ndarray(img, format="bgr24")
        frame.pts = int(self.n * 90000 / self.fps)
        frame.time_base = fractions.Fraction(1, 90000)
        return frame


def clip_units(path):
    """The clip's access units, each a list of NAL units: a new unit starts at an access
    unit delimiter, parameter set or SEI after a slice, or at a slice whose first_mb_in_slice
    is 0 (its first bit after the header is 1) after a slice."""
    data = open(path, "rb").read()
    nals = [n.lstrip(b"\0") for n in data.split(b"\0\0\1") if n.strip(b"\0")]
    units, cur, vcl = [], [], False
    for n in nals:
        t = n[0] & 0x1F
        if vcl and (t in (6, 7, 8, 9) or (t in (1, 5) and len(n) > 1 and n[1] & 0x80)):
            units.append(cur)
            cur, vcl = [], False
        cur.append(n)
        vcl = vcl or t in (1, 5)
    if cur:
        units.append(cur)
    return units


def send_clip(sender, path, mbps):
    """Replaces the sender's encoder with the clip, paced to mbps; returns nothing."""
    from aiortc.codecs.h264 import H264Encoder
    from aiortc.rtcrtpsender import RTCEncodedFrame
    units = clip_units(path)
    size = sum(len(n) for u in units for n in u)
    fps = mbps * 1e6 / 8 / (size / len(units))
    state = {"n": 0, "t0": None}

    async def next_frame(codec):
        if state["t0"] is None:
            state["t0"] = time.monotonic()
        wait = state["t0"] + state["n"] / fps - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        unit = units[state["n"] % len(units)]
        state["n"] += 1
        return RTCEncodedFrame(H264Encoder._packetize(iter(unit)), state["n"] * 3000, None)

    sender._next_encoded_frame = next_frame


async def run(args):
    result = {"connected": False}
    pc = RTCPeerConnection()
    video = Pattern(args.fps)
    tr = pc.addTransceiver(video, direction="sendonly")
    if args.clip:
        send_clip(tr.sender, args.clip, args.mbps)
    tr.setCodecPreferences([c for c in RTCRtpSender.getCapabilities("video").codecs
                            if c.mimeType == "video/H264"])
    if args.audio:
        pc.addTransceiver(AudioStreamTrack(), direction="sendonly")
    answer = await webrtc_http.post_offer(pc, args.url, args.token, result)
    if answer is None:
        return result
    await webrtc_http.connect(pc, answer, 15, result)
    if result["connected"]:
        tasks = [asyncio.sleep(args.seconds)]
        if args.ssrc_change_at is not None or args.pt_change_at is not None or args.flood_at:
            tasks.append(misbehave(args, tr.sender, result))
        await asyncio.gather(*tasks)
    result["frames_sent"] = video.n
    for t in pc.getTransceivers():
        if t.kind == "video":
            for st in (await t.sender.getStats()).values():
                if st.type == "outbound-rtp":
                    result["packets_sent"] = st.packetsSent
    if result["location"] and not args.keep:
        result["delete_status"] = await webrtc_http.delete(args.url, result["location"],
                                                           args.token)
    await pc.close()
    return result


def main():
    ap = webrtc_http.options("whip", "also send Opus")
    ap.add_argument("--ssrc-change-at", type=float, default=None)
    ap.add_argument("--pt-change-at", type=float, default=None)
    ap.add_argument("--flood-at", type=float, default=None)
    ap.add_argument("--flood-mbps", type=float, default=50)
    ap.add_argument("--flood-seconds", type=float, default=2)
    ap.add_argument("--clip", default=None, help="an Annex B H.264 clip sent as it is")
    ap.add_argument("--mbps", type=float, default=2)
    ap.add_argument("--rtt-ms", type=float, default=0, help="retransmissions this much later")
    args = ap.parse_args()
    if args.rtt_ms:
        patch_retransmit(args.rtt_ms)
    if args.pt_change_at is not None:
        patch_payload_type()
    webrtc_http.print_run(run, args)
    sys.exit(0)


if __name__ == "__main__":
    main()
