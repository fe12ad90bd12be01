// relay.js: headless Chromium opens the player page (the URL should carry ?transport=relay)
// and judges one session from getStats alone, not from the page's own account: the selected
// candidate pair's local candidate must be of type "relay" (media went through the TURN
// server) and at least --min-frames-pct of the clip's 30 fps must be decoded over a --seconds
// window that starts one second after the first frame. Prints one JSON line (the pair, the
// page's transport and reconnects, frames); exit 0 when it passes. --wait-ms bounds the wait
// for a first frame (a session that cannot reach the relay never shows one).
//   node relay.js URL [--seconds 10 --min-frames-pct 90 --wait-ms 20000]
"use strict";
const { arg, withChromium, withPage, firstFrame, steadyWindow } = require("./browser");

// In the page: the video's decoded frames and the selected pair's candidates, from getStats.
async function pageStats() {
  const report = await window.ringcast.pc.getStats();
  const out = { framesDecoded: 0, local: null, remote: null };
  report.forEach((s) => {
    if (s.type === "inbound-rtp" && s.kind === "video") out.framesDecoded = s.framesDecoded || 0;
    if (s.type === "transport" && s.selectedCandidatePairId) {
      const p = report.get(s.selectedCandidatePairId);
      const l = p && report.get(p.localCandidateId), r = p && report.get(p.remoteCandidateId);
      if (l) out.local = { type: l.candidateType, address: l.address, port: l.port,
                           protocol: l.protocol, relayProtocol: l.relayProtocol, url: l.url };
      if (r) out.remote = { type: r.candidateType, address: r.address, port: r.port };
    }
  });
  out.transport = window.ringcast.transport;
  out.reconnects = window.ringcast.reconnects;
  out.status = window.ringcast.status;
  return out;
}

async function main() {
  const url = process.argv[2];
  const seconds = Number(arg("seconds", 10));
  const minPct = Number(arg("min-frames-pct", 90));
  const waitMs = Number(arg("wait-ms", 20000));
  const result = { ok: false };
  await withChromium((ctx) => withPage(ctx, url, result, async (page) => {
    result.error = await firstFrame(page, waitMs);
    if (result.error) return;
    const [first, last] = await steadyWindow(page, seconds, pageStats);
    Object.assign(result, {
      ttffMs: await page.evaluate(() => window.ringcast.ttffMs),
      frames: last.framesDecoded - first.framesDecoded, expected: 30 * seconds,
      local: last.local, remote: last.remote, transport: last.transport,
      reconnects: last.reconnects,
    });
    result.ok = !!last.local && last.local.type === "relay" &&
                result.frames * 100 >= result.expected * minPct;
  }, pageStats));
  console.log(JSON.stringify(result));
  process.exit(result.ok ? 0 : 1);
}

main();
