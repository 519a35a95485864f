// room.test.js — three participants with distinct colours and tones join one mixing room
// through the web client. Each must decode one mixed picture in which the *other*
// participants' colours sit inside their tile rectangles from the layout metadata, and hear the
// other participants' tones but not its own (WebAudio FFT of the received sound).
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const { launch, waitFor } = require('./browser');

const URL = process.env.TAFEL_URL;
const DIR = process.env.TAFEL_MEDIA_DIR;
const PEOPLE = [
  { name: 'Anna', colour: 'red', rgb: [255, 0, 0], hz: 440 },
  { name: 'Ben', colour: 'lime', rgb: [0, 255, 0], hz: 660 },
  { name: 'Clara', colour: 'blue', rgb: [0, 0, 255], hz: 880 },
];

// In the page: the mean colour in the middle of every tile of the received picture.
function tileColours() {
  const v = window.tafelRoom.video(), lay = window.tafelRoom.layout();
  const c = document.createElement('canvas');
  c.width = v.videoWidth;
  c.height = v.videoHeight;
  const g = c.getContext('2d');
  g.drawImage(v, 0, 0);
  const sx = c.width / lay.width, sy = c.height / lay.height;
  return lay.tiles.map((t) => {
    const x = Math.round((t.x + t.w / 4) * sx), y = Math.round((t.y + t.h / 4) * sy);
    const w = Math.max(1, Math.round(t.w / 2 * sx)), h = Math.max(1, Math.round(t.h / 2 * sy));
    const d = g.getImageData(x, y, w, h).data;
    const sum = [0, 0, 0];
    for (let i = 0; i < d.length; i += 4) { sum[0] += d[i]; sum[1] += d[i + 1]; sum[2] += d[i + 2]; }
    const n = d.length / 4;
    return { name: t.name, rgb: sum.map((s) => Math.round(s / n)) };
  });
}

// In the page: the level (dB) of each frequency in the received sound, over ~1.5 s.
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
      const peak = Math.max(bins[b - 1], bins[b], bins[b + 1]);
      acc[i] = Math.max(acc[i], peak);
    });
  }
  await ctx.close();
  return acc;
}

const dist = (a, b) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);

test('three participants see the others in their tiles and hear everyone but themselves',
  { timeout: 120000 }, async () => {
    const room = 'klasse-' + Date.now().toString(36);
    const browsers = [], pages = [];
    try {
      for (const p of PEOPLE) {
        const b = await launch({ video: path.join(DIR, p.colour + '.y4m'),
          audio: path.join(DIR, p.colour + '.wav') });
        browsers.push(b);
        const page = await b.newPage();
        page.on('pageerror', (e) => console.log(p.name, 'page error:', e.message));
        await page.goto(`${URL}/room.html?room=${room}&name=${p.name}`);
        await page.evaluate(([r, n]) => window.tafelRoom.join(r, n), [room, p.name]);
        pages.push(page);
      }
      for (const [i, page] of pages.entries()) {
        await waitFor(async () => {
          const st = await page.evaluate(async () => ({
            s: await window.tafelRoom.stats(), l: window.tafelRoom.layout(), t: window.tafelRoom.tier() }));
          return { ok: st.s && st.s.video && st.s.video.framesDecoded > 40 && st.l &&
            st.l.tiles.length === 3, st };
        }, 40000, PEOPLE[i].name + ' decoding a 3-tile mix');
      }
      await new Promise((r) => setTimeout(r, 1500)); // the newest frames of every sender
      for (const [i, page] of pages.entries()) {
        const tiles = await page.evaluate(tileColours);
        console.log(`  ${PEOPLE[i].name} sees ` + tiles.map((t) => `${t.name}=${t.rgb}`).join(' '));
        for (const p of PEOPLE) {
          const tile = tiles.find((t) => t.name === p.name);
          assert.ok(tile, `${PEOPLE[i].name}'s layout has a tile for ${p.name}`);
          assert.ok(dist(tile.rgb, p.rgb) < 90,
            `${PEOPLE[i].name} sees ${p.name}'s colour ${p.rgb} in its tile, got ${tile.rgb}`);
        }
        const db = await page.evaluate(toneLevels, PEOPLE.map((p) => p.hz));
        const st = await page.evaluate(() => window.tafelRoom.stats());
        console.log(`  ${PEOPLE[i].name} hears ` + PEOPLE.map((p, k) => `${p.hz} Hz ${db[k].toFixed(1)} dB`).join(', ') +
          ` (${st.audio.packetsReceived} audio packets)`);
        const own = db[i], others = db.filter((_, k) => k !== i);
        for (const o of others) assert.ok(o > -70, `${PEOPLE[i].name} hears the others (${db})`);
        assert.ok(Math.min(...others) - own > 20,
          `${PEOPLE[i].name} does not hear itself: own ${own.toFixed(1)} dB vs others ${others}`);
      }
      // Ben switches his camera off: everyone's layout says so and his tile shows his
      // placeholder instead of his picture.
      await pages[1].evaluate(() => window.tafelRoom.toggleCamera());
      await waitFor(async () => {
        const l = await pages[0].evaluate(() => window.tafelRoom.layout());
        const ben = l && l.tiles.find((x) => x.name === 'Ben');
        return { ok: ben && ben.camera_off, ben };
      }, 10000, 'the layout to show Ben\'s camera off');
      await new Promise((r) => setTimeout(r, 1500));
      const after = (await pages[0].evaluate(tileColours)).find((x) => x.name === 'Ben');
      console.log(`  after Ben's camera went off Anna sees Ben=${after.rgb}`);
      assert.ok(dist(after.rgb, PEOPLE[1].rgb) > 90, 'Ben\'s tile no longer shows his camera');
      // A picture of the real client for the docs and for a human look.
      await pages[0].setViewportSize({ width: 1024, height: 640 });
      await new Promise((r) => setTimeout(r, 500));
      await pages[0].screenshot({ path: path.join(DIR, 'room.png') });
      console.log('  quality line: ' + await pages[0].evaluate(() => document.getElementById('quality').textContent));
      for (const page of pages) await page.evaluate(() => window.tafelRoom.leave());
    } finally {
      for (const b of browsers) await b.close();
    }
  });
