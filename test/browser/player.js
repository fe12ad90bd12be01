// player.js: headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core) opens
// the player page of a running worker and checks that it plays: framesDecoded grows and the
// decoded frame size is the clip's. Prints one JSON line of figures; exit 0 on success.
// Also checks the latency targets of issue 4: first frame decoded within --max-ttff-ms of
// the answer, and jitterBufferDelay / jitterBufferEmittedCount under --max-jitter-ms.
//   node player.js URL [--width 1280 --height 720 --seconds 10 --max-ttff-ms 300
//                       --max-jitter-ms 150]
"use strict";
const { chromium } = require("playwright-core");
const fs = require("fs");
const os = require("os");
const path = require("path");

function arg(name, dflt) {
  const i = process.argv.indexOf("--" + name);
  return i > 0 ? process.argv[i + 1] : dflt;
}

async function main() {
  const url = process.argv[2];
  const width = Number(arg("width", 1280));
  const height = Number(arg("height", 720));
  const seconds = Number(arg("seconds", 10));
  const maxTtff = Number(arg("max-ttff-ms", 300));
  const maxJitter = Number(arg("max-jitter-ms", 150));
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "rct-chromium-"));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  const result = { ok: false };
  try {
    const page = ctx.pages()[0] || (await ctx.newPage());
    page.on("console", (m) => console.error("page:", m.text()));
    await page.goto(url);
    // Bounded waits on the page's own state, no fixed sleeps as synchronization.
    await page.waitForFunction(() => window.ringcast && (window.ringcast.error ||
                                     (window.ringcast.stats.framesDecoded || 0) > 0),
                               null, { timeout: 20000 });
    const first = await page.evaluate(() => ({ ...window.ringcast.stats,
                                               error: window.ringcast.error }));
    if (first.error) throw new Error("player: " + first.error);
    const target = first.framesDecoded + 30;
    await page.waitForFunction((n) => window.ringcast.stats.framesDecoded >= n, target,
                               { timeout: 10000 });
    await page.waitForTimeout(seconds * 1000); // the run length being measured, not a sync
    const s = await page.evaluate(() => ({ ...window.ringcast.stats, ttffMs: window.ringcast.ttffMs }));
    Object.assign(result, {
      framesDecodedFirst: first.framesDecoded, framesDecoded: s.framesDecoded,
      width: s.frameWidth, height: s.frameHeight, fps: s.framesPerSecond,
      packetsLost: s.packetsLost, nackCount: s.nackCount, ttffMs: s.ttffMs,
      jitterBufferMs: s.jitterBufferEmittedCount
        ? Math.round((1000 * s.jitterBufferDelay) / s.jitterBufferEmittedCount) : null,
    });
    const texts = await page.evaluate(() => [document.getElementById("s-res").textContent,
                                             document.getElementById("s-decoded").textContent]);
    result.shown = texts;
    result.ok = s.framesDecoded > first.framesDecoded && s.frameWidth === width &&
                s.frameHeight === height && texts[0] === width + "×" + height &&
                result.ttffMs !== null && result.ttffMs <= maxTtff &&
                result.jitterBufferMs !== null && result.jitterBufferMs <= maxJitter;
    // Leaving the page DELETEs the session (pagehide).
    await page.close({ runBeforeUnload: true });
  } catch (e) {
    result.error = String(e);
  } finally {
    await ctx.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  console.log(JSON.stringify(result));
  process.exit(result.ok ? 0 : 1);
}

main();
