#!/usr/bin/python3
"""ice_tcp.py: ICE-TCP (RFC 6544, framing RFC 4571) against a worker, with sockets of its own
and ice_bind.py's STUN, DTLS (pyOpenSSL) and SRTP (pylibsrtp) helpers: nothing of the
server's code. Each scenario prints one line; the script exits 1 at the first failure:
  junk      random bytes, a length of 65535, a length of 0, a first frame that is no ICE
            check, and a slowloris (one byte, then silence) each close their own connection
            (the last after the 5 s handshake deadline) and are counted in tcp_refused; a
            checked connection next to them keeps answering
  limit     one address holds at most 64 connections: the 65th is closed at once
  stalled   a TCP viewer that stops reading (small receive window) leaves a UDP viewer of
            the same worker at its full packet rate, is counted in tcp_skips, grows the
            worker's memory by less than 8 MiB, and gets media again once it reads
Usage: ice_tcp.py --base http://127.0.0.1:PORT --port MEDIA_PORT --pid WORKER_PID
"""
import argparse
import os
import select
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ice_bind  # noqa: E402
from ice_bind import Args, Peer, Whep, fail, status, stun_check  # noqa: E402


class TcpPeer:
    """A viewer's ICE-TCP connection (active candidate), with Peer's send/pump interface."""

    def __init__(self, rcvbuf=0):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.s.connect(("127.0.0.1", Args.port))
        self.buf = b""
        self.media = 0
        self.closed = False

    def send(self, data):
        self.s.sendall(struct.pack("!H", len(data)) + data)

    def frames(self):
        while len(self.buf) >= 2:
            n = struct.unpack("!H", self.buf[:2])[0]
            if len(self.buf) < 2 + n:
                return
            f, self.buf = self.buf[2:2 + n], self.buf[2 + n:]
            yield f

    def pump(self, seconds, want=None):
        end = time.time() + seconds
        while time.time() < end and not self.closed:
            r, _, _ = select.select([self.s], [], [], max(0, end - time.time()))
            if not r:
                break
            try:
                data = self.s.recv(65536)
            except ConnectionResetError:
                data = b""
            if not data:
                self.closed = True
                break
            self.buf += data
            for f in self.frames():
                if want and want(f):
                    return f
                if 128 <= f[0] <= 191:
                    self.media += 1
        return None

    def check(self, session):
        tid, req = stun_check(session.user, session.server_pwd, True)
        self.send(req)
        if not self.pump(2, lambda d: d[0] <= 3 and d[8:20] == tid):
            fail("no answer to an authenticated check over TCP")

    def closed_within(self, seconds):
        self.pump(seconds)
        return self.closed


def scenario_junk():
    s = Whep()
    good = TcpPeer()
    good.check(s)
    refused = status()["tcp_refused"]
    junk = {
        "random bytes": os.urandom(4000),
        "length 65535": b"\xff\xff" + os.urandom(100),
        "length 0": b"\x00\x00" + os.urandom(100),
        "no ICE check": struct.pack("!H", 100) + b"\x16\xfe\xfd" + os.urandom(97),
    }
    for name, data in junk.items():
        p = TcpPeer()
        p.s.sendall(data)
        if not p.closed_within(2):
            fail("junk: %s did not close its connection" % name)
    slow = TcpPeer()
    slow.s.sendall(b"\x00")
    start = time.time()
    if not slow.closed_within(8):
        fail("junk: a slowloris connection stayed open 8 s")
    took = time.time() - start
    if took < 4:
        fail("junk: the slowloris was closed after %.1f s, before the deadline" % took)
    good.check(s)  # still there, still answered
    if status()["tcp_refused"] != refused + 5:
        fail("junk: tcp_refused counted %d of 5" % (status()["tcp_refused"] - refused))
    print("junk: 4 bad streams closed at once, a slowloris after %.1f s; the checked connection "
          "next to them kept answering; tcp_refused +5" % took)
    good.s.close()


def scenario_limit():
    conns, closed_at = [], None
    for i in range(70):
        p = TcpPeer()
        conns.append(p)
        if p.closed_within(0.05):
            closed_at = i + 1
            break
    for p in conns:
        p.s.close()
    if closed_at != 65:
        fail("limit: connection %s of one address closed, not the 65th" % closed_at)
    print("limit: 64 connections from one address kept, the 65th closed")


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))


def scenario_stalled(pid):
    udp_s, tcp_s = Whep(), Whep()
    u = Peer()
    u.check(udp_s)
    udp_s.handshake(u)
    t = TcpPeer(rcvbuf=4096)
    t.check(tcp_s)
    tcp_s.handshake(t)
    t.pump(2)
    u.pump(0.1)
    if t.media < 50:
        fail("stalled: the TCP viewer got %d packets in 2 s" % t.media)
    u.media = 0
    u.pump(3)
    before = u.media / 3
    skips, rss0 = status()["tcp_skips"], rss_kb(pid)
    # The TCP viewer stops reading (and answering); the UDP one keeps counting.
    u.media = 0
    u.pump(12)
    during = u.media / 12
    rss1 = rss_kb(pid)
    skipped = status()["tcp_skips"] - skips
    if during < 0.9 * before:
        fail("stalled: the UDP viewer fell from %.0f to %.0f packets/s" % (before, during))
    if skipped < 1:
        fail("stalled: no tcp_skips while the TCP viewer did not read")
    if rss1 - rss0 > 8192:
        fail("stalled: the worker grew by %d KiB" % (rss1 - rss0))
    t.media = 0
    t.pump(4)
    if t.media < 50:
        fail("stalled: the TCP viewer got %d packets after it read again" % t.media)
    print("stalled: UDP viewer %.0f -> %.0f packets/s while a TCP viewer did not read for 12 s "
          "(tcp_skips +%d, worker RSS %+d KiB); %d packets to it in 4 s once it read again"
          % (before, during, skipped, rss1 - rss0, t.media))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pid", type=int, required=True)
    a = ap.parse_args()
    Args.base, Args.port = a.base, a.port
    ice_bind.Args.base, ice_bind.Args.port = a.base, a.port
    scenario_junk()
    scenario_limit()
    scenario_stalled(a.pid)
    print("PASS")


if __name__ == "__main__":
    main()
