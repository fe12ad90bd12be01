// browser.js: what the browser tests share: Debian's headless Chromium in a fresh profile
// (playwright-core drives it; the flags keep it off the network this machine does not have),
// and their --name value arguments.
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

module.exports = { arg, withChromium };
