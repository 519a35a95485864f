// selftest.test.js — the self-test's result code (server/web/resultcode.js): first the codec on
// its own under node (round trip of random measurements, every single-character typo and every
// swap of neighbours caught, typing slack), then end to end: Chromium runs the self-test, the
// code it shows is typed into the support view, and the decoded figures must be the ones the
// self-test page showed.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const { launch, waitFor } = require('./browser');
const R = require(path.join(__dirname, '../../server/web/resultcode.js'));

const URL = process.env.TAFEL_URL;

// A small deterministic generator (mulberry32): the same cases every run.
function rng(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('result code: round trip, typos caught, typing slack', () => {
  const rand = rng(20261128), now = Date.UTC(2026, 10, 28, 22, 0);
  const browsers = ['Chromium', 'Firefox', 'Safari', 'other'];
  for (let i = 0; i < 2000; i++) {
    const m = {
      browser: browsers[Math.floor(rand() * 4)], h264: rand() < 0.5, vp8: rand() < 0.5,
      video: rand() < 0.5, audio: rand() < 0.5,
      rttMs: rand() < 0.1 ? null : Math.floor(rand() * 1500),
      lossPercent: rand() < 0.1 ? null : rand() * 60,
      kbps: rand() < 0.1 ? null : rand() * 2500,
      timeMs: now - Math.floor(rand() * 40 * 86400e3), // up to 40 days old
    };
    const code = R.encode(m);
    assert.match(code, /^[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{4}[0-9A-HJKMNP-TV-Z*~$=U]$/);
    const d = R.decode(code, now);
    assert.ok(d.ok, code);
    const want = R.shown(m, now);
    assert.deepStrictEqual(d.figures, want, code);
    // The figures are the measurements, quantized as documented.
    assert.strictEqual(d.figures.browser, m.browser);
    assert.strictEqual(d.figures.video, m.video);
    if (m.rttMs !== null && m.rttMs < 1265) assert.ok(Math.abs(d.figures.rttMs - m.rttMs) <= 2.5);
    if (m.lossPercent !== null && m.lossPercent <= 50) {
      assert.ok(Math.abs(d.figures.lossPercent - m.lossPercent) <= 0.25);
    }
    if (m.kbps !== null && m.kbps < 2028) assert.ok(Math.abs(d.figures.kbps - m.kbps) <= 4);
    assert.strictEqual(d.figures.timeMs, Math.floor(m.timeMs / 60000) * 60000);
    if (i % 50 === 0) {
      const plain = code.replace('-', '');
      // Every single-character typo, at every position.
      for (let p = 0; p < plain.length; p++) {
        for (const c of R.ALPHABET) {
          if (c === plain[p]) continue;
          const typo = plain.slice(0, p) + c + plain.slice(p + 1);
          assert.strictEqual(R.decode(typo, now).ok, false, `${code}: ${typo} accepted`);
        }
      }
      // Every swap of two different neighbours.
      for (let p = 0; p + 1 < plain.length; p++) {
        if (plain[p] === plain[p + 1]) continue;
        const swap = plain.slice(0, p) + plain[p + 1] + plain[p] + plain.slice(p + 2);
        assert.strictEqual(R.decode(swap, now).ok, false, `${code}: ${swap} accepted`);
      }
      // Lower case, no hyphen, spaces, O for 0 and I/L for 1 are all the same code.
      const sloppy = ' ' + plain.toLowerCase().replace(/0/g, 'o').replace(/1/g, 'l') + ' ';
      assert.deepStrictEqual(R.decode(sloppy, now).figures, want);
    }
  }
  assert.deepStrictEqual(R.decode('ABCD', now), { ok: false, error: 'length' });
  assert.deepStrictEqual(R.decode('ABCDE-FGHI!', now), { ok: false, error: 'character' });
});

test('self-test result code decodes on the support view to what the self-test showed', async () => {
  const browser = await launch();
  try {
    const page = await browser.newPage();
    page.on('pageerror', (e) => console.log('page error:', e.message));
    await page.goto(URL + '/selftest.html');
    await page.evaluate(() => window.tafelSelftest.start({}));
    // Wait for a refresh with everything measured: video and sound back, an RTT, a bitrate.
    const shown = await waitFor(async () => {
      const r = await page.evaluate(() => window.tafelSelftest.result());
      return r && r.measured.video && r.measured.audio && r.measured.rttMs !== null &&
        r.measured.kbps > 0 ? Object.assign({ ok: true }, r) : r;
    }, 30000, 'a complete self-test result');
    // What the pupil sees, read from the page's cells, all from one refresh.
    const cells = await page.evaluate(() => ({
      code: document.getElementById('s-code').textContent,
      rtt: document.getElementById('s-rtt').textContent,
      loss: document.getElementById('s-loss').textContent,
      rate: document.getElementById('s-rate').textContent,
    }));
    const when = Date.now();
    await page.evaluate(() => window.tafelSelftest.stop());
    console.log(`  self-test: code ${cells.code}, rtt ${cells.rtt}, loss ${cells.loss}, ` +
      `rate ${cells.rate} (measured ${shown.measured.rttMs} ms, ` +
      `${shown.measured.kbps.toFixed(1)} kbit/s)`);
    assert.strictEqual(cells.code, shown.code);
    assert.match(cells.code, /^[0-9A-Z]{5}-[0-9A-Z]{4}[0-9A-Z*~$=]$/);

    // The helpdesk types the code, as read out over the phone (lower case, no hyphen).
    const support = await browser.newPage();
    support.on('pageerror', (e) => console.log('page error:', e.message));
    await support.goto(URL + '/support.html');
    await support.fill('#code', cells.code.replace('-', '').toLowerCase());
    await support.click('#code-form button');
    await support.waitForSelector('#code-table:not([hidden])');
    const decoded = await support.evaluate(() => {
      const g = (id) => document.getElementById(id).textContent;
      return { rtt: g('d-rtt'), loss: g('d-loss'), rate: g('d-rate'), browser: g('d-browser'),
        codecs: g('d-codecs'), back: g('d-back'), time: g('d-time'), status: g('code-status'),
        figures: window.TafelResultCode.decode(document.getElementById('code').value).figures };
    });
    console.log('  support view: ' + JSON.stringify(decoded));
    assert.strictEqual(decoded.status, cells.code);
    assert.strictEqual(decoded.rtt, cells.rtt);
    assert.strictEqual(decoded.loss, cells.loss);
    assert.strictEqual(decoded.rate, cells.rate);
    assert.strictEqual(decoded.browser, 'Chromium');
    // Chromium receives both codecs; video and sound came back.
    assert.match(decoded.codecs, /^H\.264 (ja|yes), VP8 (ja|yes)$/);
    assert.match(decoded.back, /^(Bild|video) (ja|yes), (Ton|sound) (ja|yes)$/);
    assert.ok(decoded.figures.video && decoded.figures.audio && decoded.figures.h264);
    assert.ok(Math.abs(decoded.figures.timeMs - when) < 3 * 60000, 'the test time');

    // A misheard character is caught, and nothing is shown for it.
    const bad = cells.code.replace('-', '');
    const typo = bad.slice(0, 3) + (bad[3] === 'A' ? 'B' : 'A') + bad.slice(4);
    await support.fill('#code', typo);
    await support.click('#code-form button');
    await support.waitForFunction(() => document.getElementById('code-table').hidden);
    const msg = await support.textContent('#code-status');
    assert.match(msg, /Prüfziffer|check character/);
  } finally {
    await browser.close();
  }
});
