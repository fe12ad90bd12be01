"""webrtc_http.py: what the aiortc clients of the integration tests share (whep_viewer.py,
whip_publisher.py): their common options, the offer POSTed and the answer taken (WHIP, RFC
9725 4.2; WHEP alike), the wait for the connection, the session's DELETE, the result printed.
Each fills the caller's result dict with what the tests judge (post_status, location,
connected, error ...).
"""
import argparse
import asyncio
import json
import time
import urllib.error
import urllib.parse
import urllib.request

from aiortc import RTCSessionDescription


def options(kind, audio_help):
    """The options both clients take (the caller adds its own): --url of a kind ("whep",
    "whip") endpoint, --seconds of media, --fps, --token, --audio, --keep."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True, help="http://host:port/<path>/" + kind)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--fps", type=float, default=30)
    ap.add_argument("--token", default="")
    ap.add_argument("--audio", action="store_true", help=audio_help)
    ap.add_argument("--keep", action="store_true", help="do not DELETE the session")
    return ap


def print_run(run, args):
    """Runs run(args) and prints the result dict it returns as one JSON line."""
    print(json.dumps(asyncio.run(run(args))), flush=True)


def http(method, url, body=None, headers=None):
    """One request; (status, headers, body) for any answer, errors included. Header names are
    case-insensitive (HAProxy sends them in lower case)."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


async def post_offer(pc, url, token, result):
    """Creates pc's offer and POSTs it to url (with the bearer token, if any): the answer's
    SDP, or None when refused (result["error"] says why, pc is closed). Sets post_status,
    post_ms and location."""
    await pc.setLocalDescription(await pc.createOffer())
    headers = {"Content-Type": "application/sdp"}
    if token:
        headers["Authorization"] = "Bearer " + token
    loop = asyncio.get_running_loop()
    t_post = time.monotonic()
    status, hdrs, body = await loop.run_in_executor(
        None, http, "POST", url, pc.localDescription.sdp.encode(), headers)
    result["post_status"] = status
    result["post_ms"] = round((time.monotonic() - t_post) * 1000)
    if status != 201:
        result["error"] = body.decode(errors="replace").strip()
        await pc.close()
        return None
    result["location"] = hdrs.get("Location", "")
    return body.decode()


async def connect(pc, answer, timeout, result):
    """Applies the answer and waits up to timeout seconds for pc to connect: result's
    connected, else its error."""
    connected = asyncio.Event()

    @pc.on("connectionstatechange")
    def on_state():
        if pc.connectionState == "connected":
            connected.set()

    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    try:
        await asyncio.wait_for(connected.wait(), timeout)
        result["connected"] = True
    except asyncio.TimeoutError:
        result["error"] = "not connected after %ss (state %s)" % (timeout, pc.connectionState)


async def delete(url, location, token=""):
    """DELETEs the session at location, resolved against url as a browser would (a path on
    url's host, or an absolute URL naming the node behind a load balancer), with the bearer
    token if any; the answer's status."""
    headers = {"Authorization": "Bearer " + token} if token else {}
    loop = asyncio.get_running_loop()
    status, _, _ = await loop.run_in_executor(
        None, http, "DELETE", urllib.parse.urljoin(url, location), None, headers)
    return status
