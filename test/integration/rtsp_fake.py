#!/usr/bin/python3
"""rtsp_fake.py: a scripted RTSP peer doing what well-behaved servers never do, chosen by
the URL path of the client's first request:

  /ok        a plain session: answers OPTIONS/DESCRIBE/SETUP/PLAY, streams synthetic
             H.264 (SPS, PPS, IDR every 25 frames, P frames) interleaved at 25 fps
  /basic     like /ok behind Basic auth (user "user", password "secret")
  /digest    like /ok behind Digest MD5 auth, qop=auth (same credentials)
  /redirect  DESCRIBE answers 302 to /ok
  /away      DESCRIBE answers 302 to /basic on another host (--away-host): credentials
             for this host must not follow
  /missing   DESCRIBE answers 404
  /badsdp    DESCRIBE answers with a body that is not SDP
  /nocodec   DESCRIBE answers an SDP with only codecs ringcast does not take (AAC, JPEG)
  /garbled   answers OPTIONS with bytes that are not RTSP
  /badlen    after PLAY and a few good frames, an interleaved frame of length 2
  /stall     accepts and reads, never answers
  /nortp     PLAY succeeds, then no RTP at all
  /ka        like /ok with a 2 s session timeout and GET_PARAMETER in Public
  /kaopt     like /ok with a 2 s session timeout and no GET_PARAMETER
  /udp       like /ok over UDP (from --udp-ports), packets swapped in pairs, every 7th
             sent twice, packet 1000 + LOST_PKT never sent, a sender report every second
  /notcp     answers 461 to an interleaved SETUP; over UDP like /ok
  /udpgone   the first connection like /notcp, hanging up after 50 frames; later ones take
             both transports, but over UDP never send a packet (a firewall): TCP plays
Every SETUP is recorded as a "setup" event (transport asked, status, connection number).
The client's interleaved RTCP is recorded as "rtcp" events (packet type, reportee SSRC).

  rtsp_fake.py --port P --events FILE [--host H] [--away-host H2]
      prints "READY P"; one JSON line per event in FILE
"""
import argparse
import base64
import hashlib
import json
import socket
import socketserver
import struct
import sys
import threading
import time

USER, PASSWORD, REALM = "user", "secret", "ringcast-test"
NONCE = "6f1c2e0d9a8b7c6d"
LOST_PKT = 40  # /udp: the packet never sent (a P frame's), after which video waits for a key
SPS = base64.b64decode("Z0LADdoFB+wEQAAAAwBAAAAMg8UKqA==")
PPS = base64.b64decode("aM4PyA==")
SDP = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=fake\r\nt=0 0\r\na=control:*\r\n"
       "m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
       "a=fmtp:96 packetization-mode=1\r\na=control:track0\r\n")

lock = threading.Lock()
events_file = None


def event(**kw):
    kw["t"] = time.monotonic()
    with lock:
        events_file.write(json.dumps(kw) + "\n")
        events_file.flush()


def md5(s):
    return hashlib.md5(s.encode()).hexdigest()


def auth_params(value):
    out = {}
    for part in value.split(" ", 1)[1].split(","):
        if "=" in part:
            k, v = part.strip().split("=", 1)
            out[k] = v.strip('"')
    return out


class Session(socketserver.BaseRequestHandler):
    def setup(self):
        self.scenario = None
        self.nth = 0  # this connection's number among its scenario's
        self.udp_mode = self.udp_silent = False
        self.buf = b""
        self.streaming = None

    def strip_interleaved(self):
        """Takes the client's interleaved frames (its RTCP) off the front of the buffer."""
        while self.buf.startswith(b"$") and len(self.buf) >= 4:
            n = struct.unpack(">H", self.buf[2:4])[0]
            if len(self.buf) < 4 + n:
                return
            pkt = self.buf[4:4 + n]
            ssrc = struct.unpack(">I", pkt[8:12])[0] if len(pkt) >= 12 else None
            event(ev="rtcp", scenario=self.scenario, channel=self.buf[1], pt=pkt[1],
                  count=pkt[0] & 0x1F, reportee=ssrc)
            self.buf = self.buf[4 + n:]

    def read_request(self):
        while True:
            self.strip_interleaved()
            if b"\r\n\r\n" in self.buf and not self.buf.startswith(b"$"):
                break
            data = self.request.recv(4096)
            if not data:
                return None
            self.buf += data
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode(errors="replace").split("\r\n")
        method, uri, _ = lines[0].split(" ", 2)
        hdrs = {}
        for ln in lines[1:]:
            k, _, v = ln.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        return method, uri, hdrs

    def reply(self, cseq, status="200 OK", headers=(), body=b""):
        msg = "RTSP/1.0 %s\r\nCSeq: %s\r\n" % (status, cseq)
        for h in headers:
            msg += h + "\r\n"
        if body:
            msg += "Content-Length: %d\r\n" % len(body)
        self.request.sendall(msg.encode() + b"\r\n" + body)

    def authorized(self, method, hdrs):
        value = hdrs.get("authorization", "")
        if self.scenario == "basic":
            want = "Basic " + base64.b64encode(("%s:%s" % (USER, PASSWORD)).encode()).decode()
            return value == want
        if not value.startswith("Digest "):
            return False
        p = auth_params(value)
        ha1 = md5("%s:%s:%s" % (p.get("username"), REALM, PASSWORD))
        ha2 = md5("%s:%s" % (method, p.get("uri")))
        want = md5("%s:%s:%s:%s:%s:%s" % (ha1, NONCE, p.get("nc"), p.get("cnonce"), "auth",
                                          ha2))
        return p.get("username") == USER and p.get("nonce") == NONCE and \
            p.get("response") == want

    def challenge(self, cseq):
        if self.scenario == "basic":
            h = 'WWW-Authenticate: Basic realm="%s"' % REALM
        else:
            h = 'WWW-Authenticate: Digest realm="%s", nonce="%s", qop="auth", ' \
                'algorithm=MD5' % (REALM, NONCE)
        self.reply(cseq, "401 Unauthorized", [h])

    def handle(self):
        event(ev="connect", host=self.server.server_address[0])
        try:
            while True:
                req = self.read_request()
                if req is None:
                    break
                method, uri, hdrs = req
                cseq = hdrs.get("cseq", "0")
                if self.scenario is None:
                    self.scenario = uri.split("://", 1)[-1].split("/", 1)[-1].split("/")[0]
                    with lock:
                        counts = self.server.connections
                        counts[self.scenario] = self.nth = counts.get(self.scenario, 0) + 1
                event(ev="request", method=method, scenario=self.scenario,
                      host=self.server.server_address[0],
                      auth=hdrs.get("authorization", "").split(" ")[0])
                if not self.answer(method, uri, hdrs, cseq):
                    break
        except (ConnectionError, OSError):
            pass
        finally:
            if self.streaming:
                self.streaming.set()
            for sock in (getattr(self, "rtp", None), getattr(self, "rtcp", None)):
                if sock:
                    # close() alone leaves the port bound while rtcp_reader sits in recv;
                    # shutdown wakes it (Linux does so even for unconnected UDP).
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    sock.close()
            event(ev="close", scenario=self.scenario)

    def answer(self, method, uri, hdrs, cseq):
        sc = self.scenario
        if sc == "stall":
            return True
        if sc == "garbled":
            self.request.sendall(b"\x17\x03\x03 this is not rtsp at all\r\n\r\n")
            return True
        if sc in ("basic", "digest") and not self.authorized(method, hdrs):
            self.challenge(cseq)
            return True
        if method == "OPTIONS":
            public = "OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN"
            if sc == "ka":
                public += ", GET_PARAMETER"
            self.reply(cseq, headers=["Public: " + public])
        elif method == "DESCRIBE":
            if sc in ("redirect", "away"):
                host, port = self.server.server_address
                target = "%s:%d/ok" % (host, port) if sc == "redirect" else \
                    "%s:%d/basic" % (self.server.away_host, port)
                self.reply(cseq, "302 Moved Temporarily", ["Location: rtsp://" + target])
            elif sc == "missing":
                self.reply(cseq, "404 Not Found")
            elif sc == "badsdp":
                self.reply(cseq, headers=["Content-Type: application/sdp"],
                           body=b"<html>camera setup page</html>\r\n")
            elif sc == "nocodec":
                self.reply(cseq, headers=["Content-Type: application/sdp"], body=(
                    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=x\r\nt=0 0\r\n"
                    "m=audio 0 RTP/AVP 97\r\na=rtpmap:97 MPEG4-GENERIC/44100/2\r\n"
                    "m=video 0 RTP/AVP 26\r\n").encode())
            else:
                base = uri if uri.endswith("/") else uri + "/"
                self.reply(cseq, headers=["Content-Type: application/sdp",
                                          "Content-Base: " + base], body=SDP.encode())
        elif method == "SETUP":
            timeout = 2 if sc in ("ka", "kaopt") else 60
            asked = hdrs.get("transport", "")
            lower = "tcp" if asked.startswith("RTP/AVP/TCP") else "udp"
            refuse = lower == "tcp" and (sc == "notcp" or (sc == "udpgone" and self.nth == 1))
            event(ev="setup", scenario=sc, lower=lower, conn=self.nth,
                  status=461 if refuse else 200)
            if refuse:
                self.reply(cseq, "461 Unsupported Transport")
                return True
            transport = "RTP/AVP/TCP;unicast;interleaved=0-1"
            if sc in ("udp", "notcp", "udpgone") and lower == "udp":
                transport = self.setup_udp(asked)
                self.udp_silent = sc == "udpgone" and self.nth > 1
            self.reply(cseq, headers=["Transport: " + transport,
                                      "Session: 12345678;timeout=%d" % timeout])
        elif method == "PLAY":
            self.reply(cseq, headers=["Session: 12345678"])
            if sc != "nortp":
                self.streaming = threading.Event()
                threading.Thread(target=self.stream, args=(self.streaming,),
                                 daemon=True).start()
        elif method == "TEARDOWN":
            self.reply(cseq)
            return False
        else:
            self.reply(cseq)
        return True

    def setup_udp(self, transport):
        cport = [p for p in transport.split(";") if p.startswith("client_port=")]
        a, b = (int(x) for x in cport[0].split("=")[1].split("-"))
        lo = self.server.udp_ports
        self.rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rtp.bind((self.server.server_address[0], lo))
        self.rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rtcp.bind((self.server.server_address[0], lo + 1))
        self.client_rtp = (self.client_address[0], a)
        self.client_rtcp = (self.client_address[0], b)
        threading.Thread(target=self.rtcp_reader, daemon=True).start()
        self.udp_mode = True
        event(ev="udp_setup", client_port=a)
        return "RTP/AVP;unicast;client_port=%d-%d;server_port=%d-%d;ssrc=00001234" % (
            a, b, lo, lo + 1)

    def rtcp_reader(self):
        while True:
            try:
                pkt = self.rtcp.recv(2048)
            except OSError:
                return
            if not pkt:
                return  # shut down
            if len(pkt) >= 32:
                reportee, lsr = struct.unpack(">I", pkt[8:12])[0], \
                    struct.unpack(">I", pkt[24:28])[0]
                event(ev="rtcp_udp", pt=pkt[1], count=pkt[0] & 0x1F, reportee=reportee,
                      lsr=lsr)

    def send_udp(self, pkts, seq0, now_ts, n):
        """Swaps packets in pairs, duplicates every 7th, never sends seq0 + LOST_PKT."""
        for k in range(0, len(pkts) - 1, 2):
            pkts[k], pkts[k + 1] = pkts[k + 1], pkts[k]
        for pkt in pkts:
            seq = struct.unpack(">H", pkt[2:4])[0]
            if seq == seq0 + LOST_PKT:
                continue
            self.rtp.sendto(pkt, self.client_rtp)
            if seq % 7 == 0:
                self.rtp.sendto(pkt, self.client_rtp)
        if time.monotonic() >= getattr(self, "next_sr", 0):
            self.next_sr = time.monotonic() + 1
            ntp = int(time.time()) + 2208988800
            sr = struct.pack(">BBHIIIIII", 0x80, 200, 6, 0x1234, ntp, 0x80000000, now_ts, n, 0)
            self.rtcp.sendto(sr, self.client_rtcp)

    def stream(self, stop):
        seq, ts, n = 1000, 90000, 0
        held = []
        try:
            while not stop.is_set():
                if self.scenario == "badlen" and n == 10:
                    self.request.sendall(b"$\x00\x00\x02xx")
                    event(ev="sent_badlen")
                    return
                if self.scenario == "udpgone" and self.nth == 1 and n == 50:
                    event(ev="hangup", scenario=self.scenario)
                    self.request.shutdown(socket.SHUT_RDWR)
                    return
                nal_list = [SPS, PPS, b"\x65\x88" + bytes(range(200))] if n % 25 == 0 else \
                    [b"\x41\x9a" + bytes([n & 0xFF]) * 100]
                for i, nal in enumerate(nal_list):
                    marker = 0x80 if i == len(nal_list) - 1 else 0
                    pkt = struct.pack(">BBHII", 0x80, marker | 96, seq & 0xFFFF, ts,
                                      0x1234) + nal
                    if self.scenario == "udp":
                        held.append(pkt)
                    elif self.udp_mode:
                        if not self.udp_silent:
                            self.rtp.sendto(pkt, self.client_rtp)
                    else:
                        self.request.sendall(b"$\x00" + struct.pack(">H", len(pkt)) + pkt)
                    seq += 1
                if held and len(held) % 2 == 0:
                    self.send_udp(held, 1000, ts, n)
                    held = []
                ts += 3600
                n += 1
                stop.wait(0.04)
        except OSError:
            pass


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--events", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--away-host", default="127.0.0.2")
    ap.add_argument("--udp-ports", type=int, default=18696, help="RTP port; RTCP is +1")
    args = ap.parse_args()
    global events_file
    events_file = open(args.events, "w")
    srv = Server((args.host, args.port), Session)
    srv.away_host = args.away_host
    srv.udp_ports = args.udp_ports
    srv.connections = {}
    print("READY %d" % args.port, flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    import signal
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    main()
