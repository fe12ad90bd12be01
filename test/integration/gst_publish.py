#!/usr/bin/python3
"""gst_publish.py: GStreamer's rtspclientsink publishing live H.264 (openh264enc, a keyframe a
second) + Opus (opusenc) test signals to an RTSP server (ANNOUNCE, SETUP mode=record, RECORD),
as an encoder box would.

  gst_publish.py URL SECONDS [--protocols tcp|udp|tcp+udp]

Prints "RECORDING" once the sink is playing; stops after SECONDS with EOS (TEARDOWN) and exits
0, or 1 on a pipeline error (printed)."""
import argparse
import sys

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("seconds", type=float)
    ap.add_argument("--protocols", default="udp")
    args = ap.parse_args()
    Gst.init(None)
    pipe = Gst.parse_launch(
        "rtspclientsink name=s location=%s protocols=%s latency=0 "
        "videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=30/1 "
        "! videoconvert ! openh264enc gop-size=30 ! h264parse ! s. "
        "audiotestsrc is-live=true ! audio/x-raw,rate=48000,channels=2 ! audioconvert "
        "! opusenc ! s." % (args.url, args.protocols))
    loop = GLib.MainLoop()
    rc = [0]

    def on_message(_bus, msg):
        if msg.type == Gst.MessageType.ERROR:
            err, dbg = msg.parse_error()
            print("error: %s (%s)" % (err.message, dbg), file=sys.stderr)
            rc[0] = 1
            loop.quit()
        elif msg.type == Gst.MessageType.EOS:
            loop.quit()
        elif (msg.type == Gst.MessageType.STATE_CHANGED and msg.src == pipe and
              msg.parse_state_changed()[1] == Gst.State.PLAYING):
            print("RECORDING", flush=True)

    bus = pipe.get_bus()
    bus.add_signal_watch()
    bus.connect("message", on_message)
    GLib.timeout_add(int(args.seconds * 1000), lambda: pipe.send_event(Gst.Event.new_eos()) and False)
    GLib.timeout_add(int(args.seconds * 1000) + 5000, loop.quit)  # EOS not through: stop anyway
    pipe.set_state(Gst.State.PLAYING)
    loop.run()
    pipe.set_state(Gst.State.NULL)
    return rc[0]


if __name__ == "__main__":
    sys.exit(main())
