#!/usr/bin/python3
# whep_viewer.py: an independent WHEP viewer on aiortc (Debian's python3-aiortc 1.4.0), used
# by the test_whep_* integration tests. It POSTs an offer, plays the answer for a while,
# decodes the video, DELETEs the session and prints one JSON line of what it saw:
#   {"connected": true, "frames": N, "expected": M, "width": W, "height": H, ...}
# frames/expected cover the steady window (after --settle); frames_total counts all.
# Exit status 0 when it ran to the end (the calling test judges the numbers).
import asyncio
import sys
import time

from aiortc import RTCPeerConnection
from aioice import Connection
from aiortc.rtp import is_rtcp

import webrtc_http

dropped = [0]


def drop_incoming_rtp(fraction, seed=1):
    """Drops that fraction of incoming SRTP packets (not SRTCP) before decryption, as a lossy
    network would, so that retransmissions pass SRTP's replay check."""
    import random
    rng = random.Random(seed)
    orig = Connection.recv

    async def lossy(self):
        while True:
            data = await orig(self)
            if data and 127 < data[0] < 192 and not is_rtcp(data) and rng.random() < fraction:
                dropped[0] += 1
                continue
            return data

    Connection.recv = lossy  # aiortc binds it when the peer connection is created


async def run(args):
    if args.drop:
        drop_incoming_rtp(args.drop / 100.0)
    result = {"connected": False, "frames": 0, "expected": 0, "width": 0, "height": 0,
              "post_status": 0, "delete_status": 0, "first_frame_ms": None}
    pc = RTCPeerConnection()
    pc.addTransceiver("video", direction="recvonly")
    if args.audio:
        pc.addTransceiver("audio", direction="recvonly")
    frames = []  # (pts, width, height)
    t_answer = [0.0]

    @pc.on("track")
    def on_track(track):
        if track.kind != "video":
            return

        async def consume():
            while True:
                try:
                    frame = await track.recv()
                except Exception:
                    return
                if not frames:
                    result["first_frame_ms"] = round((time.monotonic() - t_answer[0]) * 1000)
                frames.append((frame.pts, frame.width, frame.height, time.monotonic()))

        asyncio.ensure_future(consume())

    answer = await webrtc_http.post_offer(pc, args.url, args.token, result)
    if answer is None:
        return result
    t_answer[0] = time.monotonic()
    await webrtc_http.connect(pc, answer, args.connect_timeout, result)
    if result["connected"] and args.silence_ice_after is not None:
        # Revoke consent (RFC 7675) while still receiving: stop aioice's checks and its
        # answers to the server's own consent requests; the server must end the session
        # on its own once consent expires.
        await asyncio.sleep(args.silence_ice_after)
        for t in pc.getTransceivers():
            conn = t.receiver.transport.transport._connection
            if conn._query_consent_handle:
                conn._query_consent_handle.cancel()
            conn.request_received = lambda *a, **k: None
        result["silenced_at"] = round(time.monotonic() - t_answer[0], 2)
        await asyncio.sleep(max(0, args.seconds - args.silence_ice_after))
    elif result["connected"]:
        await asyncio.sleep(args.seconds)
    # Frames are judged over a steady window that starts --settle seconds after the first
    # decoded frame (the catch-up burst from the keyframe arrives faster than real time).
    if frames:
        result["frames_total"] = len(frames)
        result["width"], result["height"] = frames[-1][1], frames[-1][2]
        steady = [f for f in frames if f[3] >= frames[0][3] + args.settle]
        if len(steady) >= 2:
            # The source runs in real time: the window's wall-clock length gives the frames it
            # produced (robust to a decoder reporting a bogus timestamp for a damaged frame);
            # the timestamp span is reported alongside.
            wall = steady[-1][3] - steady[0][3]
            result["expected"] = int(round(wall * args.fps)) + 1
            result["expected_pts"] = int(round((steady[-1][0] - steady[0][0]) * args.fps / 90000)) + 1
            result["frames"] = len(steady)
            result["wall_s"] = round(wall, 2)
        result["last_frame_s"] = round(frames[-1][3] - t_answer[0], 2)
        # The longest time between two decoded frames after the first (a server restart).
        gaps = [((b[3] - a[3]) * 1000, (b[0] - a[0]) / 90, a[3] - t_answer[0])
                for a, b in zip(frames, frames[1:])] or [(0, 0, 0)]
        worst = max(gaps)
        result["max_gap_ms"] = round(worst[0])
        # Across that gap: the source's time (frames the stream lacks: a gap as long as the
        # wall's) and when it began (seconds after the answer).
        result["max_gap_pts_ms"], result["max_gap_at_s"] = round(worst[1]), round(worst[2], 2)
    result["dropped"] = dropped[0]
    for t in pc.getTransceivers():
        if t.kind == "video":
            stats = await t.receiver.getStats()
            for st in stats.values():
                if st.type == "inbound-rtp":
                    result["packets_received"] = st.packetsReceived
    if result["location"] and not args.keep:
        result["delete_status"] = await webrtc_http.delete(args.url, result["location"])
    await pc.close()
    return result


def main():
    ap = webrtc_http.options("whep", "also offer a recvonly audio section")
    ap.add_argument("--settle", type=float, default=2, help="seconds before the judged window")
    ap.add_argument("--connect-timeout", type=float, default=15)
    ap.add_argument("--drop", type=float, default=0,
                    help="percent of incoming RTP packets to drop before SRTP (loss test)")
    ap.add_argument("--silence-ice-after", type=float, default=None,
                    help="stop sending and answering ICE consent checks after this many "
                         "seconds")
    webrtc_http.print_run(run, ap.parse_args())
    return 0


if __name__ == "__main__":
    sys.exit(main())
