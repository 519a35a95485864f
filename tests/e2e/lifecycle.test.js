// lifecycle.test.js — participants joining and leaving repeatedly leave no encoders, rooms,
// sessions, threads, descriptors or growing memory behind (the server's /api/stats counters);
// a participant that vanishes without DELETE is removed when ICE consent lapses.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { launch, waitFor } = require('./browser');

const URL = process.env.TAFEL_URL;
const stats = async () => (await fetch(URL + '/api/stats')).json();

async function joinAndDecode(browser, room, name) {
  const page = await browser.newPage();
  await page.goto(`${URL}/room.html?room=${room}&name=${name}`);
  await page.evaluate(([r, n]) => window.tafelRoom.join(r, n), [room, name]);
  await waitFor(async () => {
    const s = await page.evaluate(() => window.tafelRoom.stats());
    return { ok: s && s.video && s.video.framesDecoded > 5, s };
  }, 30000, name + ' decoding');
  return page;
}

async function idle() {
  return waitFor(async () => {
    const s = await stats();
    return { ok: s.sessions === 0 && s.rooms === 0 && s.members === 0 &&
      s.video_encoders === 0 && s.audio_encoders === 0 && s.decoders === 0, s };
  }, 45000, 'an idle server');
}

test('join/leave cycles leave nothing behind', { timeout: 240000 }, async () => {
  const base = (await idle()).s;
  const a = await launch(), b = await launch();
  try {
    let afterFirst = null;
    for (let cycle = 1; cycle <= 4; cycle++) {
      const room = 'zyklus-' + cycle;
      const pa = await joinAndDecode(a, room, 'A'), pb = await joinAndDecode(b, room, 'B');
      const busy = await stats();
      assert.strictEqual(busy.rooms, 1);
      assert.strictEqual(busy.video_encoders, 1, 'two receivers share one encoder');
      assert.strictEqual(busy.decoders, 4, 'one audio and one video decoder per sender');
      await pa.evaluate(() => window.tafelRoom.leave());
      await pb.evaluate(() => window.tafelRoom.leave());
      await pa.close();
      await pb.close();
      const s = (await idle()).s;
      if (cycle === 1) afterFirst = s;
      console.log(`  cycle ${cycle}: threads ${s.threads}, fds ${s.fds}, rss ${s.rss_kib} KiB, ` +
        `heap in use ${s.heap_in_use_kib} KiB`);
      assert.strictEqual(s.threads, base.threads, 'no thread left behind');
    }
    const final = (await idle()).s;
    // Heap in use (malloc's own count over every arena) must come back; RSS may keep pages the
    // allocator holds for reuse, so it is reported, not asserted.
    const growth = final.heap_in_use_kib - afterFirst.heap_in_use_kib;
    console.log(`  heap in use from cycle 1 to 4: ${growth} KiB; rss ${afterFirst.rss_kib} -> ${final.rss_kib} KiB`);
    assert.ok(growth < 2 * 1024, `memory keeps growing: ${growth} KiB`);
  } finally {
    await a.close();
    await b.close();
  }
  // With the browsers gone their keep-alive HTTP connections close too.
  const end = await waitFor(async () => {
    const s = await stats();
    return { ok: s.fds <= base.fds + 1, s };
  }, 30000, 'descriptors back to ' + base.fds);
  console.log(`  descriptors: ${base.fds} before, ${end.s.fds} after`);
});

test('a participant that vanishes without DELETE is removed when consent lapses',
  { timeout: 90000 }, async () => {
    const a = await launch();
    await joinAndDecode(a, 'verschwunden', 'A');
    assert.strictEqual((await stats()).sessions, 1);
    const t0 = Date.now();
    await a.close(); // no DELETE: the browser is simply gone
    const s = (await idle()).s;
    console.log(`  removed after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    assert.strictEqual(s.sessions, 0);
  });
