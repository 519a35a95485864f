// browser.js — launches Debian's Chromium headless with fake media devices for the e2e tests, and
// the measurements the tests make in the page (tile colours, tone levels) and around it (waitFor).
'use strict';
const path = require('node:path');
const { chromium } = require('playwright-core');

// files: {video, audio} fake capture files; default: the shared test pattern and tone.
// files.screen: getDisplayMedia is answered with a fake screen, without asking.
async function launch(files = {}) {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
      ...(files.screen ? ['--auto-select-desktop-capture-source=Entire screen'] : []),
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

// In the page (page.evaluate(tileColours)): the mean colour of the middle quarter of every
// visible tile of the received picture, by the layout metadata: [{name, rgb}].
function tileColours() {
  const v = window.tafelRoom.video(), lay = window.tafelRoom.layout();
  const c = document.createElement('canvas');
  c.width = v.videoWidth;
  c.height = v.videoHeight;
  const g = c.getContext('2d');
  g.drawImage(v, 0, 0);
  const sx = c.width / lay.width, sy = c.height / lay.height;
  return lay.tiles.filter((t) => t.w).map((t) => {
    const x = Math.round((t.x + t.w / 4) * sx), y = Math.round((t.y + t.h / 4) * sy);
    const w = Math.max(1, Math.round(t.w / 2 * sx)), h = Math.max(1, Math.round(t.h / 2 * sy));
    const d = g.getImageData(x, y, w, h).data;
    const sum = [0, 0, 0];
    for (let i = 0; i < d.length; i += 4) { sum[0] += d[i]; sum[1] += d[i + 1]; sum[2] += d[i + 2]; }
    const n = d.length / 4;
    return { name: t.name, rgb: sum.map((s) => Math.round(s / n)) };
  });
}

// In the page (page.evaluate(toneLevels, freqs)): the level (dB) of each frequency in the
// received sound, the loudest over ~1.5 s (WebAudio FFT).
async function toneLevels(freqs) {
  const v = window.tafelRoom.video();
  await v.play().catch(() => {}); // remote audio reaches WebAudio only while it plays
  const ctx = new AudioContext();
  await ctx.resume();
  const src = ctx.createMediaStreamSource(v.srcObject);
  const an = ctx.createAnalyser();
  an.fftSize = 16384;
  an.smoothingTimeConstant = 0.8;
  src.connect(an);
  const bins = new Float32Array(an.frequencyBinCount);
  const acc = freqs.map(() => -200);
  for (let k = 0; k < 15; k++) {
    await new Promise((r) => setTimeout(r, 100));
    an.getFloatFrequencyData(bins);
    freqs.forEach((f, i) => {
      const b = Math.round(f / (ctx.sampleRate / an.fftSize));
      acc[i] = Math.max(acc[i], bins[b - 1], bins[b], bins[b + 1]);
    });
  }
  await ctx.close();
  return acc;
}

// The distance of two RGB colours.
const dist = (a, b) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The three participants of the room tests: a colour their camera shows and a tone their
// microphone plays (TAFEL_MEDIA_DIR/<colour>.y4m and .wav, written by run.sh).
const PEOPLE = [
  { name: 'Anna', colour: 'red', rgb: [255, 0, 0], hz: 440 },
  { name: 'Ben', colour: 'lime', rgb: [0, 255, 0], hz: 660 },
  { name: 'Clara', colour: 'blue', rgb: [0, 0, 255], hz: 880 },
];

// A browser for one of PEOPLE (pushed onto browsers, for the caller's finally) that opens the
// room page on TAFEL_URL and joins `room` under the person's name; page options go to newPage.
async function joinAs(browsers, p, room, { screen = false, page: pageOptions } = {}) {
  const dir = process.env.TAFEL_MEDIA_DIR;
  const b = await launch({ video: path.join(dir, p.colour + '.y4m'),
    audio: path.join(dir, p.colour + '.wav'), screen });
  browsers.push(b);
  const page = await b.newPage(pageOptions);
  page.on('pageerror', (e) => console.log(p.name, 'page error:', e.message));
  await page.goto(`${process.env.TAFEL_URL}/room.html?room=${room}&name=${p.name}`);
  await page.evaluate(([r, n]) => window.tafelRoom.join(r, n), [room, p.name]);
  return page;
}

module.exports = { launch, waitFor, tileColours, toneLevels, dist, sleep, PEOPLE, joinAs };
