// reconnect.js: headless Chromium plays the player page while the test takes the worker away
// and brings it back; the page must make a new offer by itself, without being reloaded.
// Prints JSON lines as things happen: {"event":"playing","t":ms} once the first session shows
// frames, {"event":"resumed","t":ms,...} when a later session (window.ringcast.reconnects
// grew) decodes frames, then a summary {"ok":...}: after resuming, --seconds more of play
// must decode at least --min-frames-pct of the clip's 30 fps, and the page is the same
// document (a marker set at the start survives). t is the wall clock, to compare with the
// test's own timestamps. Exit 0 when it passes.
//   node reconnect.js URL [--seconds 3 --min-frames-pct 80 --timeout-ms 40000]
"use strict";
const { arg, withChromium, withPage } = require("./browser");

function emit(obj) {
  console.log(JSON.stringify(obj));
}

async function main() {
  const url = process.argv[2];
  const seconds = Number(arg("seconds", 3));
  const minPct = Number(arg("min-frames-pct", 80));
  const timeoutMs = Number(arg("timeout-ms", 40000));
  const result = { ok: false };
  await withChromium((ctx) => withPage(ctx, url, result, async (page) => {
    await page.waitForFunction(() => window.ringcast && window.ringcast.stats.framesDecoded > 0,
                               null, { timeout: 20000 });
    await page.evaluate(() => { window.sameDocument = true; });
    const r0 = await page.evaluate(() => window.ringcast.reconnects);
    emit({ event: "playing", t: Date.now(), transport: await page.evaluate(() => window.ringcast.transport) });
    await page.waitForFunction((r) => window.ringcast.reconnects > r &&
                                      window.ringcast.stats.framesDecoded > 0,
                               r0, { timeout: timeoutMs, polling: 50 });
    const resumed = await page.evaluate(() => ({ reconnects: window.ringcast.reconnects,
                                                 status: window.ringcast.status,
                                                 transport: window.ringcast.transport,
                                                 frames: window.ringcast.stats.framesDecoded }));
    emit(Object.assign({ event: "resumed", t: Date.now() }, resumed));
    await page.waitForTimeout(seconds * 1000); // the window being judged, not a sync
    const s = await page.evaluate(() => ({ frames: window.ringcast.stats.framesDecoded,
                                           total: window.ringcast.framesDecodedTotal,
                                           same: window.sameDocument === true,
                                           shown: document.getElementById("s-reconnects").textContent,
                                           error: window.ringcast.error }));
    Object.assign(result, s, { expected: 30 * seconds, reconnects: resumed.reconnects });
    result.ok = s.same && !s.error && (s.frames - resumed.frames) * 100 >= 30 * seconds * minPct &&
                s.shown === String(resumed.reconnects);
  }, () => window.ringcast && { status: window.ringcast.status,
                                reconnects: window.ringcast.reconnects }));
  emit(result);
  process.exit(result.ok ? 0 : 1);
}

main();
