// browser.js: what the browser tests share: Debian's headless Chromium in a fresh profile
// (playwright-core drives it; the flags keep it off the network this machine does not have),
// their --name value arguments, and the player page's life in a test: opened, its first
// frame awaited, a steady window measured, closed so that it DELETEs its session.
"use strict";
const { chromium } = require("playwright-core");
const fs = require("fs");
const os = require("os");
const path = require("path");

function arg(name, dflt) {
  const i = process.argv.indexOf("--" + name);
  return i > 0 ? process.argv[i + 1] : dflt;
}

// Runs body(ctx) in a new browser context, with Chromium's extra command-line flags args
// (a publisher's fake camera), and removes the profile afterwards.
async function withChromium(body, args = []) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "rct-chromium-"));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", ...args],
  });
  try {
    return await body(ctx);
  } finally {
    await ctx.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

// A new page of ctx whose console goes to stderr (the player logs its sessions there).
async function newPage(ctx) {
  const page = await ctx.newPage();
  page.on("console", (m) => console.error("page:", m.text()));
  return page;
}

// Runs body(page) on url in a new page of ctx. A throw becomes result.error (and result.page,
// state() evaluated in the page, when state is given); the page then closes with its pagehide
// handler run: the player DELETEs its session.
async function withPage(ctx, url, result, body, state) {
  const page = await newPage(ctx);
  try {
    await page.goto(url);
    await body(page);
  } catch (e) {
    result.error = String(e);
    if (state) result.page = await page.evaluate(state).catch(() => null);
  } finally {
    await page.close({ runBeforeUnload: true });
  }
}

// Waits (bounded, on the page's own state) until the player shows its first frame or fails:
// its error, or null.
async function firstFrame(page, timeoutMs) {
  await page.waitForFunction(() => window.ringcast &&
                                   (window.ringcast.error || window.ringcast.ttffMs !== null),
                             null, { timeout: timeoutMs });
  return page.evaluate(() => window.ringcast.error);
}

// stats() evaluated in the page at the start and at the end of a window of seconds opening one
// second after the first frame: the start (ICE, DTLS, the keyframe) is ttff's to measure, the
// window judges the steady state. arm(), when given, runs in the page as the window opens.
async function steadyWindow(page, seconds, stats, arm) {
  await page.waitForTimeout(1000);
  if (arm) await page.evaluate(arm);
  const first = await page.evaluate(stats);
  await page.waitForTimeout(seconds * 1000); // the window being judged, not a sync
  return [first, await page.evaluate(stats)];
}

module.exports = { arg, withChromium, newPage, withPage, firstFrame, steadyWindow };
