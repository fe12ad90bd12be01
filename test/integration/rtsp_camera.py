#!/usr/bin/python3
"""rtsp_camera.py: a real RTSP camera for the tests: GStreamer's RTSP server (gst-rtsp-server
via python3-gi) serving a Matroska clip made with ffmpeg, demuxed, parsed and re-payloaded
without re-encoding. Each client gets its own pipeline from the clip's start.

  rtsp_camera.py --port P --clip FILE.mkv --kind h264|h265|h264-opus [--mount /clip]
                 [--server-ports LO-HI] [--protocols tcp|udp|all]

--protocols limits the lower transports the camera accepts (the media factory's protocols):
SETUP asking for another is answered 461 Unsupported Transport.

Prints "READY <port>" on stdout once listening, and "client connected" on stderr for every
RTSP connection (the on-demand test counts them); runs until SIGTERM/SIGINT.
"""
import argparse
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402

VIDEO = {
    # config-interval=-1: the payloader repeats SPS/PPS (VPS) in band before every IDR, as
    # cameras do; the tests ignore parameter sets the server inserts.
    "h264": "d.video_0 ! queue ! h264parse ! rtph264pay name=pay0 pt=96 config-interval=-1",
    "h265": "d.video_0 ! queue ! h265parse ! rtph265pay name=pay0 pt=96 config-interval=-1",
}
AUDIO = "d.audio_0 ! queue ! opusparse ! rtpopuspay name=pay1 pt=97"


def launch_line(clip, kind):
    video = VIDEO["h265" if kind == "h265" else "h264"]
    parts = ["filesrc location=%s ! matroskademux name=d" % clip, video]
    if kind == "h264-opus":
        parts.append(AUDIO)
    return "( %s )" % " ".join(parts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--clip", required=True)
    ap.add_argument("--kind", default="h264", choices=["h264", "h265", "h264-opus"])
    ap.add_argument("--mount", default="/clip")
    ap.add_argument("--server-ports", default="")
    ap.add_argument("--protocols", default="all", choices=["tcp", "udp", "all"])
    args = ap.parse_args()

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(launch_line(args.clip, args.kind))
    factory.set_shared(False)
    if args.protocols != "all":
        lower = GstRtsp.RTSPLowerTrans
        factory.set_protocols(lower.TCP if args.protocols == "tcp" else lower.UDP)
    if args.server_ports:
        # Keep the server's UDP ports inside the range the test owns.
        lo, hi = (int(x) for x in args.server_ports.split("-"))
        pool = GstRtspServer.RTSPAddressPool()
        if not pool.add_range("127.0.0.1", "127.0.0.1", lo, hi, 0):
            sys.exit("rtsp_camera: bad --server-ports")
        factory.set_address_pool(pool)
    server.get_mount_points().add_factory(args.mount, factory)
    server.connect("client-connected",
                   lambda srv, client: print("client connected", file=sys.stderr, flush=True))
    if server.attach(None) == 0:
        sys.exit("rtsp_camera: cannot listen on 127.0.0.1:%d" % args.port)

    loop = GLib.MainLoop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, loop.quit)
    print("READY %d" % server.get_bound_port(), flush=True)
    loop.run()


if __name__ == "__main__":
    main()
