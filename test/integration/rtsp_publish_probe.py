#!/usr/bin/env python3
"""rtsp_publish_probe.py: a hand-written RTSP publisher for test_rtsp_publish's protocol
cases, which ffmpeg cannot be made to produce: DESCRIBE of a publish path with no stream yet
(503); receiver reports (RFC 3550 RR) coming back to a publisher over TCP (interleaved, on the
RTCP channel) and over UDP (to its RTCP port), where datagrams from another host are dropped;
garbage (bad framing, RTP of an undeclared payload type, an SDP without a usable track): each
must be answered 4xx and the connection closed.
Usage: rtsp_publish_probe.py CASE PORT PATH; prints "ok: ..." or exits 1 with the reason."""
import socket
import struct
import sys
import time

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


def recording(port, uri, transport="RTP/AVP/TCP;unicast;interleaved=0-1;mode=record"):
    """A recording session; returns it and the SETUP's Transport answer."""
    c = Conn(port)
    st, _ = c.request("ANNOUNCE", uri, body=SDP.encode())
    check(st == 200, "ANNOUNCE answered %d" % st)
    st, h = c.request("SETUP", uri + "/streamid=0", "Transport: %s\r\n" % transport)
    check(st == 200, "SETUP answered %d" % st)
    sess = h["session"].split(";")[0]
    st, _ = c.request("RECORD", uri, "Session: %s\r\nRange: npt=0.000-\r\n" % sess)
    check(st == 200, "RECORD answered %d" % st)
    return c, h["transport"]


SSRC = 0x1234


def rtp(pt, seq):
    return struct.pack("!BBHII", 0x80, pt, seq, seq * 3000, SSRC) + b"\x41" + b"\0" * 40


def receiver_report(pkt):
    """The report block's (SSRC, extended highest sequence) of an RR (PT 201) that opens a
    compound RTCP packet, or None."""
    if len(pkt) < 32 or pkt[0] >> 6 != 2 or pkt[1] != 201 or pkt[0] & 0x1F < 1:
        return None
    ssrc, _, hi = struct.unpack("!I4sI", pkt[8:20])
    return ssrc, hi


def report_of(reports, what):
    check(reports, "no receiver report for %s within 3 s" % what)
    ssrc, hi = reports[-1]
    check(ssrc == SSRC and hi >= 3, "%s: report about SSRC %x up to %d" % (what, ssrc, hi))
    return len(reports)


def main():
    case, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    uri = "rtsp://127.0.0.1:%d/%s" % (port, path)
    if case == "nostream":
        st, _ = Conn(port).request("DESCRIBE", uri)
        check(st == 503, "DESCRIBE without a publisher answered %d, not 503" % st)
        print("ok: DESCRIBE of %s without a publisher: 503" % path)
    elif case == "rr-tcp":
        c, _ = recording(port, uri)
        reports, deadline = [], time.monotonic() + 3
        c.s.settimeout(0.1)
        seq = 0
        while time.monotonic() < deadline and len(reports) < 2:
            seq += 1
            c.s.sendall(b"$\x00" + struct.pack("!H", 53) + rtp(96, seq))
            try:
                c.buf += c.s.recv(4096)
            except socket.timeout:
                pass
            while len(c.buf) >= 4 and c.buf[0:1] == b"$":
                n = struct.unpack("!H", c.buf[2:4])[0]
                if len(c.buf) < 4 + n:
                    break
                if c.buf[1] == 1 and receiver_report(c.buf[4:4 + n]):
                    reports.append(receiver_report(c.buf[4:4 + n]))
                c.buf = c.buf[4 + n:]
            time.sleep(0.05)
        n = report_of(reports, "TCP")
        print("ok: a publisher over TCP got %d receiver reports on its RTCP channel" % n)
    elif case == "rr-udp":
        rtp_s, rtcp_s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM), None
        for base in range(40000, 40100, 2):  # a pair of our own, in the test's namespace
            try:
                rtp_s.bind(("127.0.0.1", base))
                rtcp_s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                rtcp_s.bind(("127.0.0.1", base + 1))
                break
            except OSError:
                rtp_s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        c, tr = recording(port, uri, "RTP/AVP;unicast;client_port=%d-%d;mode=record" % (
            base, base + 1))
        server = [int(x) for x in tr.split("server_port=")[1].split(";")[0].split("-")]
        check(server[1] == server[0] + 1 and server[0] % 2 == 0, "server_port %s" % server)
        # Another host (the test's second address) sends the same stream: dropped.
        foreign = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        foreign.bind(("192.0.2.10", 0))
        rtcp_s.settimeout(0.1)
        reports, deadline, seq = [], time.monotonic() + 3, 0
        while time.monotonic() < deadline and len(reports) < 2:
            seq += 1
            rtp_s.sendto(rtp(96, seq), ("127.0.0.1", server[0]))
            foreign.sendto(rtp(96, seq + 5000), ("127.0.0.1", server[0]))
            try:
                rr = receiver_report(rtcp_s.recv(2048))
                if rr:
                    reports.append(rr)
            except socket.timeout:
                pass
        n = report_of(reports, "UDP")
        # Every foreign datagram was dropped: the reports saw only our sequence numbers.
        check(reports[-1][1] < 5000, "the report counts foreign packets: %d" % reports[-1][1])
        c.request("TEARDOWN", uri)
        print("ok: a publisher over UDP (server_port %d-%d) got %d receiver reports on its RTCP "
              "port; %d datagrams from another host did not count" % (server[0], server[1], n, seq))
    elif case == "badpt":
        c, _ = recording(port, uri)
        frames = b"".join(b"$\x00" + struct.pack("!H", len(p)) + p
                          for p in (rtp(96, 1), rtp(96, 2), rtp(111, 3)))
        c.s.sendall(frames)
        st, _ = c.response()
        check(st == 400 and c.closed(), "RTP of payload type 111: %d, not 400 and closed" % st)
        print("ok: RTP of an undeclared payload type: 400, closed")
    elif case == "framing":
        c, _ = recording(port, uri)
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
