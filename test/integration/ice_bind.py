#!/usr/bin/python3
"""ice_bind.py: checks how a worker binds a WHEP session to a peer address, with UDP sockets of
its own playing the viewer, a third party and an attacker that knows a session's ICE
credentials. STUN is written here (RFC 5389/8445), DTLS is pyOpenSSL's (with aiortc's
certificate helper) and SRTCP is libsrtp2's (pylibsrtp): nothing of the server's code.

Each scenario prints one line and the script exits 1 at the first failure:
  conflict   a check for session B from the address session A has checked gets no answer
  dtls-only  DTLS from an address no check came from gets no answer
  pinned     DTLS completes on pair 1 while pair 2 also checks (nominated): media goes to
             pair 1 only, SRTCP from pair 2 is not processed, pair 1's is
  move       the viewer nominates pair 2 after media started: pair 2 gets our consent request;
             unanswered, no media goes there; answered, media moves there (and leaves pair 1)
  setups     offers from one address beyond max_setups_per_address (the worker runs with 3)
             end that address's oldest set-up, not another address's; loopback is exempt
Usage: ice_bind.py --base http://127.0.0.1:PORT --port MEDIA_PORT --other-ip IP
"""
import argparse
import binascii
import hashlib
import hmac
import http.client
import json
import os
import select
import socket
import struct
import sys
import time
import urllib.request
import zlib

from OpenSSL import SSL
from aiortc.rtcdtlstransport import RTCCertificate, get_srtp_key_salt
from pylibsrtp import Policy, Session

COOKIE = 0x2112A442
OFFER = """v=0
o=- 1 1 IN IP4 0.0.0.0
s=-
t=0 0
a=group:BUNDLE 0
m=video 9 UDP/TLS/RTP/SAVPF 99
c=IN IP4 0.0.0.0
a=recvonly
a=mid:0
a=rtcp-mux
a=rtpmap:99 H264/90000
a=rtcp-fb:99 nack
a=rtcp-fb:99 nack pli
a=fmtp:99 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f
a=ice-ufrag:{ufrag}
a=ice-pwd:{pwd}
a=fingerprint:{fp}
a=setup:active
"""


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


class Args:
    base = ""
    port = 0
    other_ip = ""


def status():
    with urllib.request.urlopen(Args.base + "/v1/status", timeout=5) as r:
        return json.load(r)["workers"][0]


def stun_attr(t, v):
    return struct.pack("!HH", t, len(v)) + v + b"\0" * (-len(v) % 4)


def stun_seal(mtype, tid, attrs, key):
    """Header + attrs, then MESSAGE-INTEGRITY under key and FINGERPRINT (RFC 5389 15.4/15.5)."""
    hdr = lambda extra: struct.pack("!HHI", mtype, len(attrs) + extra, COOKIE) + tid
    mi = hmac.new(key.encode(), hdr(24) + attrs, hashlib.sha1).digest()
    body = attrs + stun_attr(0x0008, mi)
    crc = (zlib.crc32(hdr(32) + body) ^ 0x5354554E) & 0xFFFFFFFF
    body += stun_attr(0x8028, struct.pack("!I", crc))
    return struct.pack("!HHI", mtype, len(body), COOKIE) + tid + body


def stun_check(user, pwd, nominate):
    tid = os.urandom(12)
    attrs = stun_attr(0x0006, user.encode()) + stun_attr(0x0024, struct.pack("!I", 1853817087))
    attrs += stun_attr(0x802A, os.urandom(8))  # ICE-CONTROLLING
    if nominate:
        attrs += stun_attr(0x0025, b"")
    return tid, stun_seal(0x0001, tid, attrs, pwd)


def stun_parse(data):
    """(type, tid, {attr: value}) or None."""
    if len(data) < 20 or data[0] > 3:
        return None
    mtype, mlen, cookie = struct.unpack("!HHI", data[:8])
    if cookie != COOKIE or mlen + 20 != len(data):
        return None
    attrs, o = {}, 20
    while o + 4 <= len(data):
        t, ln = struct.unpack("!HH", data[o:o + 4])
        attrs.setdefault(t, data[o + 4:o + 4 + ln])
        o += 4 + ln + (-ln % 4)
    return mtype, data[8:20], attrs


class Peer:
    """One UDP socket: a candidate of the viewer, or someone else's address."""

    def __init__(self):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind(("127.0.0.1", 0))
        self.addr = ("127.0.0.1", Args.port)
        self.media = 0  # RTP/RTCP datagrams received
        self.requests = []  # STUN requests received (tid, attrs)
        self.other = []

    def send(self, data):
        self.s.sendto(data, self.addr)

    def pump(self, seconds, want=None):
        """Reads for up to seconds (until want(datagram) is true); returns that datagram."""
        end = time.time() + seconds
        while time.time() < end:
            r, _, _ = select.select([self.s], [], [], max(0, end - time.time()))
            if not r:
                break
            data = self.s.recv(4096)
            if want and want(data):
                return data
            if 128 <= data[0] <= 191:
                self.media += 1
            else:
                m = stun_parse(data)
                if m and m[0] == 0x0001:
                    self.requests.append(m)
                else:
                    self.other.append(data)
        return None

    def check(self, session, nominate=False, expect=True):
        tid, req = stun_check(session.user, session.server_pwd, nominate)
        for _ in range(3):
            self.send(req)
            got = self.pump(0.5, lambda d: d[0] <= 3 and d[8:20] == tid)
            if got:
                return got
            if not expect:
                return None
        fail("no answer to an authenticated check from %s" % (self.s.getsockname(),))


class Whep:
    """A WHEP session with the viewer's credentials and DTLS-SRTP client."""

    def __init__(self, source_ip="127.0.0.1"):
        self.cert = RTCCertificate.generateCertificate()
        fp = self.cert.getFingerprints()[0]
        self.ufrag, self.pwd = "v" + binascii.hexlify(os.urandom(3)).decode(), binascii.hexlify(
            os.urandom(12)).decode()
        offer = OFFER.format(ufrag=self.ufrag, pwd=self.pwd, fp=fp.algorithm + " " + fp.value)
        host, port = Args.base.split("//")[1].split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=5, source_address=(source_ip, 0))
        conn.request("POST", "/demo/whep", body=offer.replace("\n", "\r\n").encode(),
                     headers={"Content-Type": "application/sdp"})
        r = conn.getresponse()
        answer = r.read().decode()
        if r.status != 201:
            fail("POST answered %d: %s" % (r.status, answer.strip()))
        self.location = r.getheader("Location")
        conn.close()
        get = lambda k: next(l.split(":", 1)[1].strip() for l in answer.splitlines() if l.startswith(k))
        self.server_ufrag, self.server_pwd = get("a=ice-ufrag"), get("a=ice-pwd")
        self.server_ssrc = int(get("a=ssrc").split()[0])
        self.user = self.server_ufrag + ":" + self.ufrag
        self.ssl = SSL.Connection(self.cert._create_ssl_context())
        self.ssl.set_connect_state()
        self.srtp = None

    def dtls_out(self, peer):
        try:
            while True:
                peer.send(self.ssl.bio_read(1500))
        except SSL.WantReadError:
            pass

    def handshake(self, peer, seconds=5):
        try:
            self.ssl.do_handshake()
        except SSL.WantReadError:
            pass
        self.dtls_out(peer)
        end = time.time() + seconds
        while time.time() < end:
            data = peer.pump(0.3, lambda d: 20 <= d[0] <= 63)
            if data:
                self.ssl.bio_write(data)
            try:
                self.ssl.do_handshake()
                self.dtls_out(peer)
                view = self.ssl.export_keying_material(b"EXTRACTOR-dtls_srtp", 60)
                self.srtp = Session(Policy(key=get_srtp_key_salt(view, 0),
                                           ssrc_type=Policy.SSRC_ANY_OUTBOUND))
                return
            except SSL.WantReadError:
                self.dtls_out(peer)
        fail("DTLS handshake did not complete")

    def pli(self):
        """An SRTCP PLI (RFC 4585 6.3.1) about the server's video SSRC."""
        rtcp = struct.pack("!BBHII", 0x81, 206, 2, 0x12345678, self.server_ssrc)
        return self.srtp.protect_rtcp(rtcp)


def scenario_conflict():
    a, b = Whep(), Whep()
    p = Peer()
    p.check(a)
    before = status()["addr_conflicts"]
    if p.check(b, nominate=True, expect=False):
        fail("conflict: a check for another session from a bound address was answered")
    if status()["addr_conflicts"] != before + 1:
        fail("conflict: addr_conflicts did not count the refused check")
    print("conflict: refused, counted")


def scenario_dtls_only():
    s = Whep()
    p = Peer()
    try:
        s.ssl.do_handshake()
    except SSL.WantReadError:
        pass
    s.dtls_out(p)  # a ClientHello from an address that never checked
    if p.pump(1.0, lambda d: 20 <= d[0] <= 63):
        fail("dtls-only: DTLS answered on an address with no check")
    print("dtls-only: no answer")


def scenario_pinned_and_move():
    s = Whep()
    p1, p2 = Peer(), Peer()
    p1.check(s)
    s.handshake(p1)
    p2.check(s, nominate=False)  # another checked pair of the viewer, not nominated
    p1.pump(1.5)
    p2.pump(0.1)
    if p1.media < 20 or p2.media:
        fail("pinned: media to pair 1 %d, to pair 2 %d" % (p1.media, p2.media))
    plis = status()["plis"]
    p2.send(s.pli())
    p2.pump(0.3)
    if status()["plis"] != plis:
        fail("pinned: SRTCP from a pair media is not bound to was processed")
    p1.send(s.pli())
    p1.pump(0.3)
    if status()["plis"] != plis + 1:
        fail("pinned: SRTCP from the bound pair was not processed")
    print("pinned: media %d to pair 1, 0 to pair 2; SRTCP only from pair 1" % p1.media)

    # The viewer nominates pair 2: the server asks pair 2 for consent before moving media.
    moves = status()["pair_moves"]
    p2.requests.clear()
    p2.check(s, nominate=True)
    p2.pump(0.5)
    if not p2.requests:
        fail("move: no consent request on the nominated pair")
    p1.media = p2.media = 0
    p1.pump(1.0)
    p2.pump(0.1)
    if p2.media or status()["pair_moves"] != moves:
        fail("move: media went to pair 2 before it answered the consent request")
    # Answer the server's next request (sent again on the next nominated check).
    p2.requests.clear()
    p2.check(s, nominate=True)
    p2.pump(0.5)
    if not p2.requests:
        fail("move: the consent request was not repeated")
    _, tid, attrs = p2.requests[-1]
    if attrs.get(0x0006, b"").decode() != s.ufrag + ":" + s.server_ufrag:
        fail("move: consent request USERNAME %r" % attrs.get(0x0006))
    ip, port = p2.s.getsockname()
    xaddr = struct.pack("!BBH", 0, 1, port ^ (COOKIE >> 16)) + struct.pack(
        "!I", struct.unpack("!I", socket.inet_aton(ip))[0] ^ COOKIE)
    p2.send(stun_seal(0x0101, tid, stun_attr(0x0020, xaddr), s.pwd))
    p1.pump(0.3)
    p1.media = p2.media = 0
    p2.pump(1.0)
    p1.pump(0.1)
    if p2.media < 20 or p1.media or status()["pair_moves"] != moves + 1:
        fail("move: after the answer media to pair 2 %d, pair 1 %d" % (p2.media, p1.media))
    print("move: media to pair 2 only after it answered (%d datagrams in 1 s)" % p2.media)


def session_alive(w):
    """Whether the worker still has session w (a DELETE answers 200, then it is gone)."""
    host, port = Args.base.split("//")[1].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    conn.request("DELETE", w.location)
    return conn.getresponse().status == 200


def scenario_setups():
    evictions = status()["setup_evictions"]
    mine = [Whep(Args.other_ip) for _ in range(3)]
    local = [Whep() for _ in range(5)]  # loopback: exempt, and not counted with the others
    if status()["setup_evictions"] != evictions:
        fail("setups: a set-up was dropped before the limit")
    newest = Whep(Args.other_ip)
    if status()["setup_evictions"] != evictions + 1:
        fail("setups: the fourth offer from one address did not end a set-up")
    alive = [session_alive(w) for w in mine + [newest] + local]
    if alive != [False, True, True, True] + [True] * 5:
        fail("setups: sessions alive after the limit: %s" % alive)
    print("setups: the oldest of 4 set-ups from %s ended; loopback's 5 kept" % Args.other_ip)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--other-ip", required=True)
    a = ap.parse_args()
    Args.base, Args.port, Args.other_ip = a.base, a.port, a.other_ip
    scenario_conflict()
    scenario_dtls_only()
    scenario_pinned_and_move()
    scenario_setups()
    print("PASS")


if __name__ == "__main__":
    main()
