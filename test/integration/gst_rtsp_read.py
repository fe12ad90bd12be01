#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""gst_rtsp_read.py: GStreamer reads an H.264 RTSP URL and counts the frames it decodes, for
test_rtsp_server: a second RTSP client beside ffmpeg, with its own RTSP and RTP stack (rtspsrc,
its jitter buffer) and its own decoder (openh264, not ffmpeg's libavcodec).

  gst_rtsp_read.py URL tcp|udp SECONDS

Counts the frames decoded whose timestamps fall in a window of SECONDS of the stream, opened a
second after the first decoded frame, and the warnings and errors the pipeline posts (a
decoder's failed frame among them). Prints {"frames": N, "errors": E, "first": "..."} and
exits 0; 1 when nothing decoded within SECONDS + 10 s.
"""
import json
import sys
import threading
import time

import gi

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402


def main():
    url, proto, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    Gst.init(None)
    pipe = Gst.parse_launch(
        "rtspsrc name=src protocols=%s latency=300 buffer-mode=none ! rtph264depay ! h264parse ! openh264dec ! "
        "fakesink name=sink sync=false signal-handoffs=true" % proto)
    pipe.get_by_name("src").set_property("location", url)
    window = int(seconds * Gst.SECOND)
    state = {"first_s": None, "start": None, "frames": 0}
    done = threading.Event()

    def handoff(_sink, buf, _pad):  # the streaming thread: one call per decoded frame
        # The server starts a reader at the latest keyframe and sends what follows it at once;
        # the jitter buffer squeezes that burst's timestamps. The window opens a second later.
        now = time.monotonic()
        if state["first_s"] is None:
            state["first_s"] = now
        if now - state["first_s"] < 1:
            return
        if state["start"] is None:
            state["start"] = buf.pts
        if buf.pts - state["start"] >= window:
            done.set()
        elif not done.is_set():
            state["frames"] += 1

    pipe.get_by_name("sink").connect("handoff", handoff)
    pipe.set_state(Gst.State.PLAYING)
    bus = pipe.get_bus()
    errors, first_error = 0, ""
    deadline = time.monotonic() + seconds + 10
    while not done.is_set() and time.monotonic() < deadline:
        msg = bus.timed_pop_filtered(100 * Gst.MSECOND,
                                     Gst.MessageType.ERROR | Gst.MessageType.WARNING |
                                     Gst.MessageType.EOS)
        if msg is None:
            continue
        if msg.type == Gst.MessageType.EOS:
            break
        err, _ = msg.parse_error() if msg.type == Gst.MessageType.ERROR else msg.parse_warning()
        errors += 1
        first_error = first_error or "%s: %s" % (msg.src.get_name(), err.message)
        if msg.type == Gst.MessageType.ERROR:
            break
    pipe.set_state(Gst.State.NULL)
    print(json.dumps({"frames": state["frames"], "errors": errors, "first": first_error}))
    return 0 if state["start"] is not None else 1


if __name__ == "__main__":
    sys.exit(main())
