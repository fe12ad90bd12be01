// lossy.js: headless Chromium watches the player page several times in a row (one session
// each, a new PeerConnection per page) on a network that loses datagrams, and judges every
// session on its own: frames decoded in the window against the clip's 30 fps, the longest
// gap between presented frames (requestVideoFrameCallback), and getStats' NACKs and losses,
// with the selected candidate pair. Prints one JSON line per session and a summary line;
// exit 0 when every session passes.
//   node lossy.js URL [--sessions 10 --seconds 12 --min-frames-pct 95 --max-gap-ms 500]
"use strict";
const { arg, withChromium, withPage, firstFrame, steadyWindow } = require("./browser");

// In the page: the largest interval between two presented frames since arm(), and the
// selected pair's candidates from getStats.
function pageProbe() {
  const video = document.getElementById("video");
  const probe = (window.lossProbe = { last: 0, maxGap: 0, frames: 0 });
  const tick = (now) => {
    if (probe.last) probe.maxGap = Math.max(probe.maxGap, now - probe.last);
    probe.last = now;
    probe.frames++;
    video.requestVideoFrameCallback(tick);
  };
  video.requestVideoFrameCallback(tick);
}

async function pageStats() {
  const report = await window.ringcast.pc.getStats();
  const out = { pair: null };
  const byId = new Map();
  report.forEach((s) => byId.set(s.id, s));
  report.forEach((s) => {
    if (s.type === "inbound-rtp" && s.kind === "video") out.video = s;
    if (s.type === "transport" && s.selectedCandidatePairId) {
      const p = byId.get(s.selectedCandidatePairId);
      const l = p && byId.get(p.localCandidateId), r = p && byId.get(p.remoteCandidateId);
      if (l && r) out.pair = `${l.address}:${l.port}/${l.protocol} -> ${r.address}:${r.port}`;
    }
  });
  const v = out.video || {};
  return { framesDecoded: v.framesDecoded || 0, nackCount: v.nackCount || 0,
           packetsLost: v.packetsLost || 0, freezeCount: v.freezeCount || 0,
           pair: out.pair, probeFrames: window.lossProbe.frames,
           maxGapMs: Math.round(window.lossProbe.maxGap) };
}

async function session(ctx, url, seconds) {
  const r = {};
  await withPage(ctx, url, r, async (page) => {
    r.error = await firstFrame(page, 20000);
    if (r.error) return;
    const [first, last] = await steadyWindow(page, seconds, pageStats, pageProbe);
    Object.assign(r, {
      ttffMs: await page.evaluate(() => window.ringcast.ttffMs),
      frames: last.framesDecoded - first.framesDecoded, expected: 30 * seconds,
      maxGapMs: last.maxGapMs, nacks: last.nackCount - first.nackCount,
      lost: last.packetsLost, freezes: last.freezeCount - first.freezeCount, pair: last.pair,
    });
  });
  if (r.error) return { ok: false, error: r.error };
  delete r.error;
  return r;
}

async function main() {
  const url = process.argv[2];
  const sessions = Number(arg("sessions", 10));
  const seconds = Number(arg("seconds", 12));
  const minPct = Number(arg("min-frames-pct", 95));
  const maxGap = Number(arg("max-gap-ms", 500));
  let passed = 0;
  await withChromium(async (ctx) => {
    for (let i = 0; i < sessions; i++) {
      const r = await session(ctx, url, seconds);
      if (r.ok !== false)
        r.ok = r.frames * 100 >= r.expected * minPct && r.maxGapMs <= maxGap;
      r.session = i + 1;
      passed += r.ok ? 1 : 0;
      console.log(JSON.stringify(r));
    }
  });
  console.log(JSON.stringify({ summary: true, sessions, passed }));
  process.exit(passed === sessions ? 0 : 1);
}

main();
