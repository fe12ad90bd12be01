"""rtsp_testlib.py: shared pieces of the RTSP integration tests (test_rtsp_*): clips made
with ffmpeg, an independent Annex-B parser for the reference access units, GStreamer's RTSP
server (rtsp_camera.py) and ringcast-ingest as child processes, the ring read back through
tools/ringdump, a control segment the test owns (to read the ingest's counters), and cleanup
of every process and shm object even when a test fails.
"""
import atexit
import json
import os
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

BIN = os.environ.get("RINGCAST_BIN") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "bin")
HERE = os.path.dirname(os.path.abspath(__file__))

CODEC_H264, CODEC_H265, CODEC_OPUS = 1, 2, 3
FRAME_KEY = 1


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


# ---- clips and the reference parser ----

def make_clip(tmp, kind, seconds=4, fps=25):
    """Encodes a small test-pattern clip; returns (mkv, annexb) paths. kind: h264, h265,
    h264-opus. The Annex-B file is the reference; the mkv (a remux, no re-encode) is what
    the camera serves."""
    ext = "h265" if kind == "h265" else "h264"
    raw = os.path.join(tmp, "clip." + ext)
    mkv = os.path.join(tmp, "clip.mkv")
    src = ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=%d" % fps]
    if kind == "h265":
        venc = ["-c:v", "libx265", "-preset", "ultrafast",
                "-x265-params", "keyint=%d:bframes=0:log-level=error" % fps]
    else:
        venc = ["-c:v", "libx264", "-preset", "ultrafast", "-profile:v", "baseline",
                "-g", str(fps), "-bf", "0"]
    run(["ffmpeg", "-v", "error", "-y"] + src + ["-t", str(seconds)] + venc +
        ["-pix_fmt", "yuv420p", raw])
    cmd = ["ffmpeg", "-v", "error", "-y", "-framerate", str(fps), "-i", raw]
    if kind == "h264-opus":
        cmd += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
                "-t", str(seconds), "-map", "0:v", "-map", "1:a", "-c:a", "libopus",
                "-b:a", "64k"]
    run(cmd + ["-c:v", "copy", mkv])
    return mkv, raw


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    if p.returncode != 0:
        raise Failure("%s failed: %s" % (cmd[0], p.stderr.decode(errors="replace")[-500:]))
    return p.stdout


def nals(data):
    """Splits Annex-B bytes into NAL units (3- or 4-byte start codes), written here
    independently of codec/."""
    out, i, n = [], 0, len(data)
    starts = []
    while True:
        j = data.find(b"\x00\x00\x01", i)
        if j < 0:
            break
        starts.append(j + 3)
        i = j + 3
    for k, s in enumerate(starts):
        e = starts[k + 1] - 3 if k + 1 < len(starts) else n
        nal = data[s:e]
        while nal.endswith(b"\x00"):  # the next start code's leading zero, or padding
            nal = nal[:-1]
        if nal:
            out.append(nal)
    return out


def nal_type(codec, nal):
    return nal[0] & 0x1F if codec == CODEC_H264 else (nal[0] >> 1) & 0x3F


def is_param_or_aud(codec, nal):
    t = nal_type(codec, nal)
    return t in (7, 8, 9) if codec == CODEC_H264 else t in (32, 33, 34, 35)


def is_vcl(codec, nal):
    t = nal_type(codec, nal)
    return 1 <= t <= 5 if codec == CODEC_H264 else t <= 31


def is_key_nal(codec, nal):
    t = nal_type(codec, nal)
    return t == 5 if codec == CODEC_H264 else 16 <= t <= 23


def first_slice(codec, nal):
    """first_mb_in_slice == 0 (H.264: ue(v) 0 is the bit 1) or
    first_slice_segment_in_pic_flag (H.265): the slice starts a picture."""
    return bool(nal[1] & 0x80) if codec == CODEC_H264 else bool(nal[2] & 0x80)


def reference_aus(path, codec):
    """Access units of an Annex-B file as lists of NALs, parameter sets and AUDs left out
    (servers insert or drop those), with a keyframe flag each."""
    with open(path, "rb") as f:
        data = f.read()
    aus, cur, seen_vcl = [], [], False
    for nal in nals(data):
        vcl = is_vcl(codec, nal)
        if seen_vcl and (not vcl or first_slice(codec, nal)):
            aus.append(cur)
            cur, seen_vcl = [], False
        if not is_param_or_aud(codec, nal):
            cur.append(nal)
        seen_vcl = seen_vcl or vcl
    if cur and seen_vcl:
        aus.append(cur)
    return [(au, any(is_key_nal(codec, n) for n in au)) for au in aus]


def reference_opus(mkv):
    """The Opus packets of the clip, from ffprobe's packet sizes and ffmpeg's raw copy."""
    sizes = run(["ffprobe", "-v", "error", "-select_streams", "a", "-show_entries",
                 "packet=size", "-of", "csv=p=0", mkv]).split()
    blob = run(["ffmpeg", "-v", "error", "-i", mkv, "-map", "0:a", "-c", "copy", "-f", "data",
                "-"])
    out, off = [], 0
    for s in sizes:
        n = int(s.split(b",")[0])
        out.append(blob[off:off + n])
        off += n
    check(off == len(blob), "opus reference: sizes and data disagree")
    return out


# ---- processes and cleanup ----

# ---- memory ----

# Private memory an ingest may keep beyond its shm objects (issue 15: many cameras per machine).
INGEST_PRIVATE_MAX_KIB = 512


def ingest_private_kib(pid):
    """The memory pid alone holds, in KiB: Private_Dirty of its mappings, and Private_Clean of
    its anonymous ones. Left out: its shm objects (the ring, the control segment), and clean
    pages of files (the binary, libraries), which are page cache that any other process
    mapping the file shares: they count as private only while no other process maps them, so
    the figure would depend on what else runs on the machine."""
    total, skip, anon = 0, False, False
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            field = line.split()
            if not field[0].endswith(":"):  # a mapping's header line: range perms ... [path]
                path = field[5] if len(field) > 5 else ""
                skip = path.startswith("/dev/shm/")
                anon = not path.startswith("/")
            elif not skip and (field[0] == "Private_Dirty:" or
                               (field[0] == "Private_Clean:" and anon)):
                total += int(field[1])
    return total


class Harness:
    """Owns the temp dir, every child process and every shm object of one test."""

    def __init__(self, name):
        self.name = name
        # Every shm prefix of this test starts with base; cleanup removes them all.
        self.base = self.prefix = "rct-%s-%d" % (name, os.getpid())
        self.tmp = tempfile.mkdtemp(prefix="rct-%s-" % name)
        self.procs = []
        atexit.register(self.cleanup)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signum, frame):
        self.cleanup()
        sys.exit(128 + signum)

    def cleanup(self):
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=3)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        self.procs = []
        for f in os.listdir("/dev/shm"):
            if f.startswith(self.base + ".") or f.startswith(self.base + "-"):
                try:
                    os.unlink(os.path.join("/dev/shm", f))
                except OSError:
                    pass
        shutil.rmtree(self.tmp, ignore_errors=True)

    def spawn(self, cmd, log_name, env=None, pipe_stdout=False):
        log = open(os.path.join(self.tmp, log_name), "wb")
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE if pipe_stdout else log, stderr=log,
                             env=env)
        self.procs.append(p)
        return p

    def camera(self, port, mkv, kind, server_ports="", protocols="all"):
        """GStreamer's RTSP server; protocols tcp or udp: it answers 461 to the other."""
        cmd = ["/usr/bin/python3", os.path.join(HERE, "rtsp_camera.py"), "--port", str(port),
               "--clip", mkv, "--kind", kind, "--protocols", protocols]
        if server_ports:
            cmd += ["--server-ports", server_ports]
        return self.server(cmd)

    def fake(self, port, host="127.0.0.1", udp_port=None):
        """The scripted misbehaving peer on host:port (its UDP scenarios on udp_port and the
        next); events() returns what all the fake peers of this test saw."""
        path = os.path.join(self.tmp, "fake-events-%s.jsonl" % host)
        self.events_paths = getattr(self, "events_paths", []) + [path]
        cmd = ["/usr/bin/python3", os.path.join(HERE, "rtsp_fake.py"), "--port", str(port),
               "--events", path, "--host", host]
        return self.server(cmd + (["--udp-ports", str(udp_port)] if udp_port else []))

    def events(self):
        out = []
        for path in self.events_paths:
            with open(path) as f:
                out += [json.loads(x) for x in f if x.strip()]
        return out

    def server(self, cmd):
        """Starts a server that prints "READY" once listening, and waits for that line."""
        p = self.spawn(cmd, "server-%d.log" % len(self.procs), pipe_stdout=True)
        # Wait for its READY line (bounded), the server is listening after it.
        deadline = time.monotonic() + 15
        line = b""
        while time.monotonic() < deadline and not line.endswith(b"\n"):
            r, _, _ = select.select([p.stdout], [], [], deadline - time.monotonic())
            if not r:
                break
            c = os.read(p.stdout.fileno(), 64)
            if not c:
                break
            line += c
        check(line.startswith(b"READY"), "camera did not start: %r" % line)
        return p

    def config(self, source, transport="tcp", extra="", prefix=None, name="ringcast.conf"):
        """transport None: the key is left out (its default)."""
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            # ring_seconds: the tests read the whole ring as the record of what was written,
            # so it keeps everything (it grows to hold it, within ring_mb).
            f.write("[server]\nshm_prefix = %s\nlog_level = info\nring_seconds = 600\n\n"
                    "[path cam]\nsource = %s\n"
                    "%s%s" % (prefix or self.prefix, source,
                              "transport = %s\n" % transport if transport else "", extra))
        return path

    def ingest(self, conf, ctl_slot=None, env=None):
        """Starts ringcast-ingest for path "cam"; the process's log_path is its stderr."""
        cmd = [os.path.join(BIN, "ringcast-ingest"), "--path", "cam", "-c", conf]
        if ctl_slot is not None:
            cmd += ["--ctl-slot", str(ctl_slot)]
        log_name = "ingest-%d.log" % len(self.procs)
        p = self.spawn(cmd, log_name, env=env)
        p.log_path = self.ingest_log = os.path.join(self.tmp, log_name)
        return p

    def log(self, proc=None):
        with open(proc.log_path if proc else self.ingest_log, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self, p, sig=signal.SIGTERM, timeout=5):
        """Signals p and reaps it (bounded); it is no longer this test's to clean up."""
        p.send_signal(sig)
        rc = p.wait(timeout=timeout)
        self.procs.remove(p)
        return rc

    # ---- the ring ----

    def ring(self, data=True, prefix=None):
        """(header, {track: info}, [frames]) as ringdump prints them; None if no ring yet."""
        cmd = [os.path.join(BIN, "ringdump")] + ([] if data else ["--no-data"])
        p = subprocess.run(cmd + ["%s.cam" % (prefix or self.prefix)], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=30)
        if p.returncode != 0:
            return None
        lines = [json.loads(x) for x in p.stdout.splitlines()]
        tracks = {x["track"]: x for x in lines if "codec" in x}
        frames = [x for x in lines if "seq" in x]
        for fr in frames:
            if "data" in fr:
                fr["data"] = bytes.fromhex(fr["data"])
        return lines[0], tracks, frames

    def check_alive(self):
        for p in self.procs:
            check(p.poll() is None, "%s exited (status %s)" % (os.path.basename(p.args[0])
                                                              if p.args[0] != "/usr/bin/python3"
                                                              else p.args[1], p.returncode))

    def wait_frames(self, pred, timeout, what, prefix=None):
        """Polls the ring (bounded) until pred(frames) holds; the ring has no event a
        separate process could wait on without becoming a reader itself."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            r = self.ring(data=False, prefix=prefix)
            if r and pred(r[2]):
                return
            time.sleep(0.2)
        raise Failure("timed out after %d s waiting for %s" % (timeout, what))

    def wait_log(self, text, timeout, proc=None):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            if text in self.log(proc):
                return
            time.sleep(0.1)
        raise Failure("no log line with %r within %d s; log:\n%s" % (text, timeout,
                                                                     self.log(proc)[-2000:]))

    # ---- a control segment of our own, to read the ingest's counters ----

    CTL_SIZE, CHILD0, CHILD_SIZE, COUNTERS = 458880, 128, 448, 104  # shm/ctl.h, test_ctl checks
    RECONNECTS, FRAMES_WRITTEN, FRAMES_DROPPED = 88, 80, 96

    def make_ctl(self):
        """Creates /<prefix>.ctl as the supervisor would (shm/ctl.h layout, CTL_VERSION 3)."""
        path = "/dev/shm/%s.ctl" % self.prefix
        hdr = struct.pack("<QIIiI", 0x314C544354524300, 3, self.CTL_SIZE, os.getpid(), 1024)
        with open(path, "wb") as f:
            f.write(hdr + b"\x00" * (self.CTL_SIZE - len(hdr)))
        os.chmod(path, 0o600)

    def counter(self, offset, slot=0):
        with open("/dev/shm/%s.ctl" % self.prefix, "rb") as f:
            f.seek(self.CHILD0 + slot * self.CHILD_SIZE + self.COUNTERS + offset)
            return struct.unpack("<Q", f.read(8))[0]


# ---- ring checks shared by the clip tests ----

def track_frames(frames, track):
    return [f for f in frames if f["track"] == track]


def frames_per_write(frames):
    """Frames per group written at once (arrivals within 2 ms of the previous one)."""
    groups = sum(1 for i, fr in enumerate(frames)
                 if i == 0 or fr["arrival_ns"] - frames[i - 1]["arrival_ns"] > 2000000)
    return len(frames) / groups if groups else 0.0


def check_monotonic(frames, what):
    for a, b in zip(frames, frames[1:]):
        d = (b["ts"] - a["ts"]) & 0xFFFFFFFF
        check(0 < d < 0x80000000, "%s: timestamps not increasing at seq %d (%d -> %d)" %
              (what, b["seq"], a["ts"], b["ts"]))


def check_video(frames, ref, codec, track_info):
    """Every reference access unit arrived, byte-identical apart from parameter sets, in
    order; keyframes flagged and carrying parameter sets; timestamps monotonic."""
    check(len(frames) >= len(ref), "only %d of %d video frames" % (len(frames), len(ref)))
    got = frames[:len(ref)]
    for i, (fr, (au, key)) in enumerate(zip(got, ref)):
        check(fr["valid"], "frame %d overwritten while read" % fr["seq"])
        body = [n for n in nals(fr["data"]) if not is_param_or_aud(codec, n)]
        check(body == au, "access unit %d (seq %d) differs from the clip: %d NALs %s vs %d %s" %
              (i, fr["seq"], len(body), [len(n) for n in body], len(au), [len(n) for n in au]))
        check(bool(fr["key"]) == key, "access unit %d: key flag %s, clip says %s" %
              (i, fr["key"], key))
        if key:
            types = {nal_type(codec, n) for n in nals(fr["data"])}
            want = {7, 8} if codec == CODEC_H264 else {32, 33, 34}
            check(want <= types, "keyframe %d lacks parameter sets (NAL types %s)" %
                  (i, sorted(types)))
    check(track_info and len(track_info["params"]) > 0, "track has no parameter sets")
    check_monotonic(got, "video")
    return len(got)


# ---- the clip test: one camera, one ingest, the ring compared with the clip ----

UDP_CLIENT_PORTS = {"h264": "18600-18619", "h265": "18620-18639", "h264-opus": "18640-18659"}
UDP_SERVER_PORTS = {"h264": "18660-18673", "h265": "18674-18687", "h264-opus": "18688-18699"}


def clip_test(name, kind, port):
    """Runs the clip through GStreamer's RTSP server into the ring over TCP, then UDP, and
    checks the ring against the clip each time, and the ingest's private memory beyond its
    ring (INGEST_PRIVATE_MAX_KIB). Exit status 0 on success."""
    h = Harness(name)
    try:
        codec = CODEC_H265 if kind == "h265" else CODEC_H264
        mkv, raw = make_clip(h.tmp, kind)
        ref = reference_aus(raw, codec)
        ref_opus = reference_opus(mkv) if kind == "h264-opus" else None
        check(len(ref) >= 90, "reference clip has only %d access units" % len(ref))
        for transport in ("tcp", "udp"):
            cam = h.camera(port, mkv, kind, UDP_SERVER_PORTS[kind] if transport == "udp" else "")
            h.prefix = "%s-%s" % (h.base, transport)
            conf = h.config("rtsp://127.0.0.1:%d/clip" % port, transport)
            env = dict(os.environ, RINGCAST_RTSP_UDP_PORTS=UDP_CLIENT_PORTS[kind])
            h.make_ctl()  # supervised, as under ringcast: the control segment is shared
            ing = h.ingest(conf, ctl_slot=0, env=env)
            h.wait_log("over %s" % transport.upper(), 15)
            n_audio = len(ref_opus) if ref_opus else 0
            h.wait_frames(lambda fr: len(track_frames(fr, 0)) >= len(ref) and
                          len(track_frames(fr, 1)) >= n_audio, 30,
                          "%d video and %d audio frames over %s" % (len(ref), n_audio,
                                                                     transport))
            priv = ingest_private_kib(ing.pid)
            check(priv <= INGEST_PRIVATE_MAX_KIB, "the ingest keeps %d KiB of private memory "
                  "beyond its ring (> %d)" % (priv, INGEST_PRIVATE_MAX_KIB))
            hdr, tracks, frames = h.ring()
            check(tracks.get(0, {}).get("codec") == codec, "track 0 is not the video codec")
            nv = check_video(track_frames(frames, 0), ref, codec, tracks.get(0))
            batch = frames_per_write(track_frames(frames, 0))
            if transport == "tcp":  # nobody watched this ring: read every 100 ms, not per frame
                check(batch >= 1.8, "unwatched, the ingest wrote %.2f video frames per wake-up "
                      "(reading interleaved media every 100 ms writes 2.5 at 25 fps)" % batch)
            na = 0
            if ref_opus:
                check(tracks.get(1, {}).get("codec") == CODEC_OPUS, "track 1 is not Opus")
                audio = track_frames(frames, 1)[:len(ref_opus)]
                for i, (fr, pkt) in enumerate(zip(audio, ref_opus)):
                    check(fr["data"] == pkt, "opus frame %d differs from the clip" % i)
                check_monotonic(audio, "audio")
                na = len(audio)
            # The stream ends with the clip; stop before the "no RTP" retry replays it.
            check(h.stop(ing) == 0, "ingest exited with an error")
            h.stop(cam)
            print("PASS %s over %s: %d video access units identical to the clip%s; %d KiB "
                  "private beyond the ring; %.2f frames per write" %
                  (kind, transport, nv, ", %d Opus frames identical" % na if na else "", priv,
                   batch))
        return 0
    except Failure as e:
        print("FAIL %s: %s" % (name, e))
        try:
            print("ingest log:\n" + h.log()[-3000:])
        except Exception:
            pass
        return 1
    finally:
        h.cleanup()
