#!/usr/bin/env python3
"""rtsp_publish_probe.py: a hand-written RTSP publisher for test_rtsp_publish's protocol
cases, which ffmpeg cannot be made to produce: DESCRIBE of a publish path with no stream yet
(503), SETUP over UDP (461), garbage (bad framing, RTP of an undeclared payload type, an SDP
without a usable track): each must be answered 4xx and the connection closed.
Usage: rtsp_publish_probe.py CASE PORT PATH; prints "ok: ..." or exits 1 with the reason."""
import socket
import struct
import sys

SDP = ("v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=probe\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
       "m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
       "a=fmtp:96 packetization-mode=1\r\na=control:streamid=0\r\n")


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.cseq = 0
        self.buf = b""

    def request(self, method, uri, headers="", body=b""):
        self.cseq += 1
        head = "%s %s RTSP/1.0\r\nCSeq: %d\r\n%s" % (method, uri, self.cseq, headers)
        if body:
            head += "Content-Type: application/sdp\r\nContent-Length: %d\r\n" % len(body)
        self.s.sendall(head.encode() + b"\r\n" + body)
        return self.response()

    def response(self):
        while b"\r\n\r\n" not in self.buf:
            d = self.s.recv(4096)
            if not d:
                raise SystemExit("FAIL: closed before a response")
            self.buf += d
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        hdrs = {k.strip().lower(): v.strip() for k, v in
                (l.split(":", 1) for l in lines[1:] if ":" in l)}
        return int(lines[0].split()[1]), hdrs

    def closed(self):
        """True if the server closes the connection within the timeout."""
        try:
            while True:
                d = self.s.recv(4096)
                if not d:
                    return True
        except (socket.timeout, ConnectionResetError):
            return False


def check(cond, what):
    if not cond:
        raise SystemExit("FAIL: " + what)


def recording(port, uri):
    c = Conn(port)
    st, _ = c.request("ANNOUNCE", uri, body=SDP.encode())
    check(st == 200, "ANNOUNCE answered %d" % st)
    st, h = c.request("SETUP", uri + "/streamid=0",
                      "Transport: RTP/AVP/TCP;unicast;interleaved=0-1;mode=record\r\n")
    check(st == 200, "SETUP answered %d" % st)
    sess = h["session"].split(";")[0]
    st, _ = c.request("RECORD", uri, "Session: %s\r\nRange: npt=0.000-\r\n" % sess)
    check(st == 200, "RECORD answered %d" % st)
    return c


def rtp(pt, seq):
    return struct.pack("!BBHII", 0x80, pt, seq, seq * 3000, 0x1234) + b"\x41" + b"\0" * 40


def main():
    case, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    uri = "rtsp://127.0.0.1:%d/%s" % (port, path)
    if case == "nostream":
        st, _ = Conn(port).request("DESCRIBE", uri)
        check(st == 503, "DESCRIBE without a publisher answered %d, not 503" % st)
        print("ok: DESCRIBE of %s without a publisher: 503" % path)
    elif case == "udp":
        c = Conn(port)
        st, _ = c.request("ANNOUNCE", uri, body=SDP.encode())
        check(st == 200, "ANNOUNCE answered %d" % st)
        st, _ = c.request("SETUP", uri + "/streamid=0",
                          "Transport: RTP/AVP;unicast;client_port=5000-5001;mode=record\r\n")
        check(st == 461, "SETUP over UDP answered %d, not 461" % st)
        print("ok: SETUP mode=record over UDP: 461")
    elif case == "badpt":
        c = recording(port, uri)
        frames = b"".join(b"$\x00" + struct.pack("!H", len(p)) + p
                          for p in (rtp(96, 1), rtp(96, 2), rtp(111, 3)))
        c.s.sendall(frames)
        st, _ = c.response()
        check(st == 400 and c.closed(), "RTP of payload type 111: %d, not 400 and closed" % st)
        print("ok: RTP of an undeclared payload type: 400, closed")
    elif case == "framing":
        c = recording(port, uri)
        c.s.sendall(b"$\x00\x00\x20" + rtp(96, 1)[:32] + b"\x17garbage that is no RTSP\r\n\r\n")
        st, _ = c.response()
        check(st == 400 and c.closed(), "bad framing: %d, not 400 and closed" % st)
        print("ok: bytes that are neither a request nor a frame: 400, closed")
    elif case == "sdp":
        c = Conn(port)
        st, _ = c.request("ANNOUNCE", uri, body=b"v=0\r\nm=video 0 RTP/AVP 34\r\n")
        check(st in (400, 415) and c.closed(), "absurd SDP: %d, not 4xx and closed" % st)
        c = Conn(port)
        bad = SDP.replace("packetization-mode=1", "sprop-parameter-sets=!!!,###").encode()
        st, _ = c.request("ANNOUNCE", uri, body=bad)
        check(st in (400, 415) and c.closed(), "bad sprop: %d, not 4xx and closed" % st)
        print("ok: ANNOUNCE without a usable track or with bad sprop: 4xx, closed")
    else:
        raise SystemExit("unknown case " + case)


if __name__ == "__main__":
    main()
