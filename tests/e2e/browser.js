// browser.js — launches Debian's Chromium headless with fake media devices for the e2e tests.
'use strict';
const { chromium } = require('playwright-core');

// files: {video, audio} fake capture files; default: the shared test pattern and tone.
async function launch(files = {}) {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
      '--allow-loopback-in-peer-connection', '--autoplay-policy=no-user-gesture-required',
      '--use-file-for-fake-video-capture=' + (files.video || process.env.TAFEL_FAKE_VIDEO),
      '--use-file-for-fake-audio-capture=' + (files.audio || process.env.TAFEL_FAKE_AUDIO),
    ],
  });
}

// Polls fn() until it returns a truthy value or the time runs out; returns the last value.
async function waitFor(fn, ms, what) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last && last.ok) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('timed out waiting for ' + what + ': ' + JSON.stringify(last));
}

module.exports = { launch, waitFor };
