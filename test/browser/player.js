// player.js: headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core) opens
// the player page of a running worker and checks that it plays: framesDecoded grows and the
// decoded frame size is the clip's. Prints one JSON line of figures; exit 0 on success.
// Also checks the latency targets of issue 4: the page is loaded --loads times in the same
// browser (a new PeerConnection each, the previous page closed first) and the median time
// from applying the answer to the first decoded frame must be within --max-ttff-ms; on the
// last load, after --seconds, jitterBufferDelay / jitterBufferEmittedCount must be under
// --max-jitter-ms. A median over loads, not one sample, because a single load on a shared
// machine is sometimes delayed by Chromium's own start-up work.
//   node player.js URL [--width 1280 --height 720 --seconds 10 --loads 3
//                       --max-ttff-ms 300 --max-jitter-ms 150]
"use strict";
const { arg, withChromium, newPage, firstFrame } = require("./browser");

// Opens the player in a new page and waits (bounded, on the page's own state) until it has
// shown its first frame; throws the page's error if it failed instead.
async function loadPlayer(ctx, url) {
  const page = await newPage(ctx);
  await page.goto(url);
  const error = await firstFrame(page, 20000);
  if (error) throw new Error("player: " + error);
  return page;
}

async function main() {
  const url = process.argv[2];
  const width = Number(arg("width", 1280));
  const height = Number(arg("height", 720));
  const seconds = Number(arg("seconds", 10));
  const maxTtff = Number(arg("max-ttff-ms", 300));
  const maxJitter = Number(arg("max-jitter-ms", 150));
  const loads = Number(arg("loads", 3));
  const result = { ok: false, ttffMs: [] };
  await withChromium(async (ctx) => {
    try {
      let page = null;
      for (let i = 0; i < loads; i++) {
        if (page) await page.close({ runBeforeUnload: true }); // pagehide DELETEs the session
        page = await loadPlayer(ctx, url);
        result.ttffMs.push(await page.evaluate(() => window.ringcast.ttffMs));
      }
      const decodedFirst = await page.evaluate(() => window.ringcast.stats.framesDecoded || 0);
      const target = decodedFirst + 30;
      await page.waitForFunction((n) => window.ringcast.stats.framesDecoded >= n, target,
                                 { timeout: 10000 });
      await page.waitForTimeout(seconds * 1000); // the run length being measured, not a sync
      const s = await page.evaluate(() => window.ringcast.stats);
      const sorted = [...result.ttffMs].sort((a, b) => a - b);
      Object.assign(result, {
        framesDecodedFirst: decodedFirst, framesDecoded: s.framesDecoded,
        width: s.frameWidth, height: s.frameHeight, fps: s.framesPerSecond,
        packetsLost: s.packetsLost, nackCount: s.nackCount,
        ttffMedianMs: sorted[Math.floor(sorted.length / 2)],
        jitterBufferMs: s.jitterBufferEmittedCount
          ? Math.round((1000 * s.jitterBufferDelay) / s.jitterBufferEmittedCount) : null,
      });
      const texts = await page.evaluate(() => [document.getElementById("s-res").textContent,
                                               document.getElementById("s-decoded").textContent]);
      result.shown = texts;
      result.ok = s.framesDecoded > decodedFirst && s.frameWidth === width &&
                  s.frameHeight === height && texts[0] === width + "×" + height &&
                  result.ttffMedianMs <= maxTtff &&
                  result.jitterBufferMs !== null && result.jitterBufferMs <= maxJitter;
      await page.close({ runBeforeUnload: true });
    } catch (e) {
      result.error = String(e);
    }
  });
  console.log(JSON.stringify(result));
  process.exit(result.ok ? 0 : 1);
}

main();
