#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# rtsp_probe.py: raw RTSP clients against ringcast's RTSP server, for test_rtsp_server.
#   rtsp_probe.py answers PORT PATH TOKEN   status codes and headers: OPTIONS, 401 with a
#                                           WWW-Authenticate Basic challenge, 404, 405, 501,
#                                           454, 461 (multicast), a SETUP and PLAY with the
#                                           token, interleaved RTP on the answered channel
#   rtsp_probe.py udp PORT PATH             a session over UDP: the answer's client_port,
#                                           server_port (even/odd) and ssrc, RTP from the RTP
#                                           port and sender reports from the RTCP one to the
#                                           client's ports, a receiver report back (the server
#                                           logs its loss when the session ends); 400/461 for
#                                           unusable ports and mixed transports
#   rtsp_probe.py abuse PORT SECONDS HTTP   junk, a slowloris and the worker's 1000 connections
#                                           filled against the port while a WHEP viewer runs
#                                           elsewhere: prints a JSON line of what happened to
#                                           each
# Exit status 1 with "FAIL: ..." on the first wrong answer.
import base64
import json
import os
import resource
import socket
import sys
import time
import urllib.request


IDLE = 998  # with the junk connection and the slowloris: the worker's 1000 RTSP connections


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


class Conn:
    def __init__(self, port, src="127.0.0.1"):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=5,
                                          source_address=(src, 0))
        self.buf = b""
        self.cseq = 0

    def request(self, method, uri, headers=None):
        self.cseq += 1
        lines = ["%s %s RTSP/1.0" % (method, uri), "CSeq: %d" % self.cseq]
        lines += ["%s: %s" % kv for kv in (headers or {}).items()]
        self.s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        return self.response()

    def response(self):
        while True:
            # Media before the answer: whole frames go first, as their payload may hold
            # "\r\n\r\n" too.
            while self.buf.startswith(b"$") and len(self.buf) >= 4:
                n = 4 + int.from_bytes(self.buf[2:4], "big")
                if len(self.buf) < n:
                    break
                self.buf = self.buf[n:]
            if not self.buf.startswith(b"$") and b"\r\n\r\n" in self.buf:
                break
            data = self.s.recv(65536)
            if not data:
                fail("connection closed before an answer")
            self.buf += data
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        status = int(lines[0].split()[1])
        hdrs = {}
        for line in lines[1:]:
            k, v = line.split(":", 1)
            hdrs[k.strip().lower()] = v.strip()
        n = int(hdrs.get("content-length", 0))
        while len(self.buf) < n:
            self.buf += self.s.recv(65536)
        body, self.buf = self.buf[:n], self.buf[n:]
        if hdrs.get("cseq") != str(self.cseq):
            fail("answer's CSeq %r, sent %d" % (hdrs.get("cseq"), self.cseq))
        return status, hdrs, body

    def interleaved(self, seconds):
        """Counts interleaved frames per channel for seconds."""
        counts = {}
        end = time.time() + seconds
        while time.time() < end:
            while len(self.buf) >= 4 and self.buf[0:1] == b"$":
                n = 4 + int.from_bytes(self.buf[2:4], "big")
                if len(self.buf) < n:
                    break
                counts[self.buf[1]] = counts.get(self.buf[1], 0) + 1
                self.buf = self.buf[n:]
            if self.buf and self.buf[0:1] != b"$":
                fail("bytes between interleaved frames: %r" % self.buf[:16])
            data = self.s.recv(65536)
            if not data:
                break
            self.buf += data
        return counts


def expect(what, got, want):
    if got != want:
        fail("%s: got %s, expected %s" % (what, got, want))


def answers(port, path, token):
    base = "rtsp://127.0.0.1:%d/%s" % (port, path)
    c = Conn(port)
    st, h, _ = c.request("OPTIONS", base)
    expect("OPTIONS", st, 200)
    if "DESCRIBE" not in h.get("public", ""):
        fail("OPTIONS without DESCRIBE in Public: %r" % h)
    st, h, _ = c.request("DESCRIBE", base)
    expect("DESCRIBE without the token", st, 401)
    if not h.get("www-authenticate", "").startswith("Basic "):
        fail("401 without a Basic challenge: %r" % h)
    wrong = base64.b64encode(b"any:wrong").decode()
    st, _, _ = c.request("DESCRIBE", base, {"Authorization": "Basic " + wrong})
    expect("DESCRIBE with a wrong password", st, 401)
    st, _, _ = c.request("DESCRIBE", "rtsp://127.0.0.1:%d/nosuchpath" % port)
    expect("DESCRIBE of an unknown path", st, 404)
    st, _, _ = c.request("ANNOUNCE", base)
    expect("ANNOUNCE", st, 405)
    st, _, _ = c.request("FROBNICATE", base)
    expect("an unknown method", st, 501)
    st, _, _ = c.request("PLAY", base, {"Session": "feedface"})
    expect("PLAY of another session", st, 454)
    good = base64.b64encode(b"whoever:" + token.encode()).decode()
    auth = {"Authorization": "Basic " + good}
    st, h, sdp = c.request("DESCRIBE", base, auth)
    expect("DESCRIBE with the token", st, 200)
    if b"a=control:trackID=0" not in sdp or b"sprop-parameter-sets=" not in sdp:
        fail("SDP without control or parameter sets: %r" % sdp)
    ctl = h["content-base"] + "trackID=0"
    st, _, _ = c.request("SETUP", ctl, {"Transport": "RTP/AVP;multicast"})
    expect("SETUP multicast", st, 461)
    st, h, _ = c.request("SETUP", ctl, {"Transport": "RTP/AVP/TCP;unicast;interleaved=6-7"})
    expect("SETUP over TCP", st, 200)
    if "interleaved=6-7" not in h.get("transport", "") or ";timeout=60" not in h["session"]:
        fail("SETUP's answer: %r" % h)
    sess = h["session"].split(";")[0]
    st, _, _ = c.request("SETUP", ctl, {"Transport": "RTP/AVP;unicast;client_port=5000-5001",
                                        "Session": sess})
    expect("SETUP over UDP in a TCP session", st, 461)
    st, _, _ = c.request("PLAY", h["content-base"] if "content-base" in h else base + "/",
                         {"Session": sess})
    expect("PLAY", st, 200)
    counts = c.interleaved(3)
    if counts.get(6, 0) < 60 or set(counts) - {6, 7}:
        fail("interleaved frames per channel in 3 s: %r" % counts)
    st, _, _ = c.request("GET_PARAMETER", base + "/", {"Session": sess})
    expect("GET_PARAMETER while playing", st, 200)
    # ?token= on a new connection.
    c2 = Conn(port)
    st, _, _ = c2.request("DESCRIBE", base + "?token=" + token)
    expect("DESCRIBE with ?token=", st, 200)
    print("ok: answers 200/401/404/405/501/454/461 as specified; %d RTP and %d RTCP frames "
          "in 3 s on channels 6/7" % (counts.get(6, 0), counts.get(7, 0)))


def udp(port, path):
    base = "rtsp://127.0.0.1:%d/%s" % (port, path)
    c = Conn(port)
    st, h, sdp = c.request("DESCRIBE", base)
    expect("DESCRIBE", st, 200)
    ctl = h["content-base"] + "trackID=0"
    for bad in ("client_port=0-1", "client_port=65535", "client_port=70000-70001", ""):
        st, _, _ = c.request("SETUP", ctl, {"Transport": "RTP/AVP;unicast;" + bad})
        expect("SETUP with %r" % bad, st, 400)
    rtp, rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM), None
    for p in range(40000, 40100, 2):  # an even/odd pair of our own
        try:
            rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            rtp.bind(("127.0.0.1", p))
            rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            rtcp.bind(("127.0.0.1", p + 1))
            break
        except OSError:
            rtp.close()
    cp = rtp.getsockname()[1]
    st, h, _ = c.request("SETUP", ctl,
                         {"Transport": "RTP/AVP;unicast;client_port=%d-%d" % (cp, cp + 1)})
    expect("SETUP over UDP", st, 200)
    tr = dict(f.split("=", 1) for f in h["transport"].split(";") if "=" in f)
    if not h["transport"].startswith("RTP/AVP;unicast;") or \
            tr.get("client_port") != "%d-%d" % (cp, cp + 1):
        fail("SETUP's Transport: %r" % h["transport"])
    sp = [int(x) for x in tr["server_port"].split("-")]
    if sp[0] % 2 or sp[1] != sp[0] + 1:
        fail("server_port not an even/odd pair: %r" % h["transport"])
    ssrc = int(tr["ssrc"], 16)
    sess = h["session"].split(";")[0]
    st, _, _ = c.request("SETUP", ctl, {"Transport": "RTP/AVP/TCP;unicast", "Session": sess})
    expect("SETUP over TCP in a UDP session", st, 461)
    st, _, _ = c.request("PLAY", base + "/", {"Session": sess})
    expect("PLAY", st, 200)
    n_rtp = n_sr = 0
    rtp.settimeout(0.2)
    rtcp.setblocking(False)
    end = time.time() + 3
    while time.time() < end:
        try:
            pkt, src = rtp.recvfrom(2048)
            if src[1] != sp[0] or int.from_bytes(pkt[8:12], "big") != ssrc:
                fail("RTP from %r, SSRC %08x (answered %08x)" % (src, int.from_bytes(pkt[8:12],
                                                                               "big"), ssrc))
            n_rtp += 1
        except socket.timeout:
            pass
        try:
            pkt, src = rtcp.recvfrom(2048)
            if src[1] != sp[1] or pkt[1] != 200:
                fail("RTCP from %r, type %d" % (src, pkt[1]))
            n_sr += 1
        except BlockingIOError:
            pass
    if n_rtp < 60 or n_sr < 2:
        fail("in 3 s over UDP: %d RTP packets, %d sender reports" % (n_rtp, n_sr))
    # A receiver report (RFC 3550 6.4.2) about our SSRC with 7 packets lost: the session's end
    # is logged with it. From another port it belongs to no session and is dropped.
    rr = bytes([0x81, 201, 0, 7]) + (0x1234).to_bytes(4, "big") + ssrc.to_bytes(4, "big") + \
        bytes([0, 0, 0, 7]) + bytes(16)
    rtcp.sendto(rr, ("127.0.0.1", sp[1]))
    other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    other.sendto(rr[:12] + bytes([0, 0, 0, 99]) + bytes(16), ("127.0.0.1", sp[1]))
    time.sleep(0.3)
    c.s.close()
    print("ok: UDP: client_port %d-%d, server_port %d-%d, %d RTP packets and %d sender reports "
          "in 3 s from the server's ports; 400 for unusable ports, 461 for mixed transports"
          % (cp, cp + 1, sp[0], sp[1], n_rtp, n_sr))


def status(http):
    with urllib.request.urlopen("http://127.0.0.1:%d/v1/status" % http, timeout=5) as r:
        return json.load(r)["workers"][0]


def closed(s, seconds):
    s.settimeout(seconds)
    try:
        while True:
            if not s.recv(65536):
                return True
    except socket.timeout:
        return False
    except ConnectionResetError:
        return True


def abuse(port, seconds, http):
    refused0 = status(http)["rtsp_refused"]
    out = {}
    # Junk: binary garbage, then 3 malformed request heads (400 each, closed after the third).
    j = Conn(port)
    j.s.sendall(os.urandom(2000) + b"\r\n\r\n")
    j2 = Conn(port)
    j2.s.sendall(b"GARBAGE\r\n\r\n" * 3)
    got = b""
    j2.s.settimeout(5)
    try:
        while True:
            d = j2.s.recv(65536)
            if not d:
                break
            got += d
    except (socket.timeout, ConnectionResetError):
        pass
    out["junk_400s"] = got.count(b"RTSP/1.0 400 ")
    # A head beyond 8 KiB.
    big = Conn(port)
    big.s.sendall(b"OPTIONS * RTSP/1.0\r\nX: " + b"a" * 9000)
    out["big_closed"] = closed(big.s, 5)
    # The worker's table filled to its 1000 connections: the junk one still open, a slowloris
    # sending a byte a second and 998 idle ones, from 20 addresses (50 each, under the 64 per
    # address); one more is refused at once.
    # Beside them idle HTTP clients: with the worker's own dozen descriptors, more than a soft
    # limit of 1024 open files holds.
    http_idle = [socket.create_connection(("127.0.0.1", http), timeout=5) for _ in range(50)]
    idle = [Conn(port, "127.0.0.%d" % (2 + i % 20)) for i in range(IDLE)]
    slow = Conn(port)
    over = Conn(port, "127.0.0.22")
    out["over_cap_closed"] = closed(over.s, 2)
    t0 = time.time()
    req = b"OPTIONS rtsp://127.0.0.1/demo RTSP/1.0\r\nCSeq: 1\r\nX-Slow: " + b"z" * 100
    slow.s.settimeout(1)
    slow_closed = None
    for b in req:
        try:
            slow.s.sendall(bytes([b]))
            if slow.s.recv(1) == b"":
                slow_closed = time.time() - t0
                break
        except socket.timeout:
            pass
        except (BrokenPipeError, ConnectionResetError):
            slow_closed = time.time() - t0
            break
        if time.time() - t0 > seconds:
            break
    out["slowloris_closed_s"] = round(slow_closed, 1) if slow_closed else None
    out["idle_closed"] = sum(closed(c.s, 0.01) for c in idle)
    out["junk_closed"] = closed(j.s, 0.01)  # one 400, then the PLAY deadline
    out["http_idle_open"] = sum(not closed(h, 0.01) for h in http_idle)
    out["refused"] = status(http)["rtsp_refused"] - refused0
    print(json.dumps(out))


if __name__ == "__main__":
    # A socket per connection: a thousand of them exceed a soft limit of 1024 with ours.
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if sys.argv[1] == "answers":
        answers(int(sys.argv[2]), sys.argv[3], sys.argv[4])
    elif sys.argv[1] == "udp":
        udp(int(sys.argv[2]), sys.argv[3])
    else:
        abuse(int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]))
