// publish.js: headless Chromium publishes its fake camera through WHIP (RFC 9725):
// getUserMedia (--use-fake-device-for-media-stream), a sendonly RTCPeerConnection, the
// offer POSTed to the WHIP URL once ICE gathering is complete (the ingest is ICE-lite and
// takes no trickle), the answer applied; after --seconds the session is DELETEd. The page is
// the worker's own /v1/status on a loopback address: a secure context, so getUserMedia is
// allowed, and the same origin as the WHIP URL. Prints one JSON line: the POST's status,
// the outbound video's codec, frames and packets sent, NACKs and retransmissions seen by
// the sender, its encoder's limitation and target rate; with --timeline MS, also those every
// MS ms ("timeline": where a stall starts: encoder, rate control or feedback); exit 0 when it
// published to the end.
//   node publish.js WHIP_URL [--seconds 12 --fps 30 --width 640 --height 480 --timeline 500]
"use strict";
const { arg, withChromium } = require("./browser");

// In the page: publishes and keeps the peer connection in window.whip.
async function pagePublish(o) {
  const stream = await navigator.mediaDevices.getUserMedia({
    video: { width: o.width, height: o.height, frameRate: o.fps }, audio: false });
  const pc = new RTCPeerConnection();
  window.whip = { pc };
  stream.getTracks().forEach((t) => pc.addTransceiver(t, { direction: "sendonly" }));
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((done) => {
    if (pc.iceGatheringState === "complete") return done();
    pc.addEventListener("icegatheringstatechange", () => {
      if (pc.iceGatheringState === "complete") done();
    });
  });
  const r = await fetch(o.url, { method: "POST", headers: { "Content-Type": "application/sdp" },
                                 body: pc.localDescription.sdp });
  const body = await r.text();
  if (r.status !== 201) return { status: r.status, error: body.trim() };
  window.whip.location = new URL(r.headers.get("Location"), o.url).href;
  await pc.setRemoteDescription({ type: "answer", sdp: body });
  await new Promise((done, fail) => {
    const check = () => {
      if (pc.connectionState === "connected") done();
      if (pc.connectionState === "failed") fail(new Error("connection failed"));
    };
    pc.addEventListener("connectionstatechange", check);
    check();
  });
  return { status: r.status };
}

async function pageStats() {
  const report = await window.whip.pc.getStats();
  const out = {};
  report.forEach((s) => {
    if (s.type === "outbound-rtp" && s.kind === "video") {
      const c = report.get(s.codecId);
      Object.assign(out, { codec: c ? c.mimeType : null, framesSent: s.framesSent,
                           framesEncoded: s.framesEncoded, packetsSent: s.packetsSent,
                           nackCount: s.nackCount, pliCount: s.pliCount,
                           retransmittedPackets: s.retransmittedPacketsSent,
                           width: s.frameWidth, height: s.frameHeight,
                           keyFrames: s.keyFramesEncoded, limitation: s.qualityLimitationReason,
                           targetBitrate: s.targetBitrate,
                           encodeMs: Math.round(1000 * (s.totalEncodeTime || 0)) });
    }
    if (s.type === "media-source" && s.kind === "video")
      out.captured = s.frames;
    if (s.type === "candidate-pair" && s.nominated)
      out.availableOutgoingBitrate = s.availableOutgoingBitrate;
  });
  return out;
}

async function main() {
  const url = process.argv[2];
  const seconds = Number(arg("seconds", 12));
  const o = { url, fps: Number(arg("fps", 30)), width: Number(arg("width", 640)),
              height: Number(arg("height", 480)) };
  let result = { ok: false };
  await withChromium(async (ctx) => {
    const page = await ctx.newPage();
    page.on("console", (m) => console.error("page:", m.text()));
    try {
      await page.goto(new URL("/v1/status", url).href);
      const pub = await page.evaluate(pagePublish, o);
      result.post_status = pub.status;
      if (pub.error) {
        result.error = pub.error;
        return;
      }
      console.error(`publish.js: connected to ${url}`);
      const step = Number(arg("timeline", 0));
      if (step > 0) {
        result.timeline = [];
        for (let t = 0; t < seconds * 1000; t += step) {
          await page.waitForTimeout(step); // a sample's spacing, not a sync
          result.timeline.push(await page.evaluate(pageStats));
        }
      } else {
        await page.waitForTimeout(seconds * 1000); // the time it publishes, not a sync
      }
      Object.assign(result, await page.evaluate(pageStats));
      result.delete_status = await page.evaluate(async () =>
        (await fetch(window.whip.location, { method: "DELETE" })).status);
      result.ok = result.delete_status === 200;
    } catch (e) {
      result.error = String(e);
    } finally {
      await page.close();
    }
  }, [`--use-fake-device-for-media-stream=fps=${o.fps}`, "--use-fake-ui-for-media-stream"]);
  console.log(JSON.stringify(result));
  process.exit(result.ok ? 0 : 1);
}

main();
