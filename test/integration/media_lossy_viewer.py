#!/usr/bin/python3
# media_lossy_viewer.py: the aiortc WHEP viewer of whep_viewer.py with a lossy receive path:
# as datagrams leave aiortc's ICE transport (before SRTP), a seeded random 5 % (--drop) of
# first arrivals of RTP packets are discarded, as a lossy network would. aiortc's own NACK generator (RFC 4585)
# then asks for them; a later arrival of a dropped sequence number is a retransmission and
# passes. Prints whep_viewer's JSON line plus "dropped", "recovered" and "nacks_sent".
import argparse
import asyncio
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import whep_viewer  # noqa: E402
import aioice  # noqa: E402
from aiortc import rtcrtpreceiver  # noqa: E402
from aiortc.rtp import is_rtcp  # noqa: E402

stats = {"dropped": 0, "recovered": 0, "nacks_sent": 0, "video_packets": 0}


def patch(rate, seed):
    """Drops on the ICE connection (aioice), below SRTP: a packet lost on the network never reaches
    the receiver's SRTP replay list, so its retransmission is accepted as new."""
    rng = random.Random(seed)
    dropped = set()
    orig_recv = aioice.Connection.recv
    orig_nack = rtcrtpreceiver.RTCRtpReceiver._send_rtcp_nack

    async def lossy_recv(self):
        while True:
            data = await orig_recv(self)
            # RTP (RFC 7983 first byte 128..191, not an RTCP type): the SRTP header is clear
            # text, so the (SSRC, sequence number) key is readable before decryption.
            if len(data) < 12 or not 127 < data[0] < 192 or is_rtcp(data):
                return data
            key = (data[8:12], data[2] << 8 | data[3])
            if key in dropped:
                dropped.discard(key)
                stats["recovered"] += 1
                return data
            if rng.random() < rate:
                dropped.add(key)
                stats["dropped"] += 1
                continue
            stats["video_packets"] += 1
            return data

    async def counting_nack(self, media_ssrc, lost):
        stats["nacks_sent"] += len(lost)
        await orig_nack(self, media_ssrc, lost)

    aioice.Connection.recv = lossy_recv
    rtcrtpreceiver.RTCRtpReceiver._send_rtcp_nack = counting_nack


class ViewerArgs(argparse.Namespace):
    """whep_viewer.run's options: ours, and None (off) for any it grows later."""

    def __getattr__(self, name):
        return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--settle", type=float, default=2)
    ap.add_argument("--fps", type=float, default=30)
    ap.add_argument("--drop", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=4585)
    args = ap.parse_args()
    patch(args.drop, args.seed)
    vargs = ViewerArgs(url=args.url, seconds=args.seconds, fps=args.fps, settle=args.settle,
                       connect_timeout=15, token="", audio=False, keep=False)
    result = asyncio.run(whep_viewer.run(vargs))
    result.update(stats)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
