// room.test.js — three participants with distinct colours and tones join one mixing room
// through the web client. Each must decode one mixed picture in which the *other*
// participants' colours sit inside their tile rectangles from the layout metadata, and hear the
// other participants' tones but not its own (WebAudio FFT of the received sound).
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const { waitFor, tileColours, toneLevels, dist, PEOPLE, joinAs } = require('./browser');

const DIR = process.env.TAFEL_MEDIA_DIR;

test('three participants see the others in their tiles and hear everyone but themselves',
  { timeout: 300000 }, async () => {
    const room = 'klasse-' + Date.now().toString(36);
    const browsers = [], pages = [];
    try {
      for (const p of PEOPLE)
        pages.push(await joinAs(browsers, p, room));
      for (const [i, page] of pages.entries()) {
        await waitFor(async () => {
          const st = await page.evaluate(async () => ({
            s: await window.tafelRoom.stats(), l: window.tafelRoom.layout(), t: window.tafelRoom.tier() }));
          return { ok: st.s && st.s.video && st.s.video.framesDecoded > 40 && st.l &&
            st.l.tiles.length === 3, st };
        }, 90000, PEOPLE[i].name + ' decoding a 3-tile mix'); // generous: machine load
      }
      // Under load a receiver's picture and sound can lag the layout by seconds: poll each
      // measurement (generous deadline) until it holds, then assert on the last one.
      for (const [i, page] of pages.entries()) {
        const seen = await waitFor(async () => {
          const tiles = await page.evaluate(tileColours);
          return { ok: PEOPLE.every((p) => { const t = tiles.find((x) => x.name === p.name); return t && dist(t.rgb, p.rgb) < 90; }), tiles };
        }, 30000, `${PEOPLE[i].name} seeing every colour in its tile`).catch((e) => ({ tiles: null, e }));
        const tiles = seen.tiles || await page.evaluate(tileColours);
        console.log(`  ${PEOPLE[i].name} sees ` + tiles.map((t) => `${t.name}=${t.rgb}`).join(' '));
        for (const p of PEOPLE) {
          const tile = tiles.find((t) => t.name === p.name);
          assert.ok(tile, `${PEOPLE[i].name}'s layout has a tile for ${p.name}`);
          assert.ok(dist(tile.rgb, p.rgb) < 90,
            `${PEOPLE[i].name} sees ${p.name}'s colour ${p.rgb} in its tile, got ${tile.rgb}`);
        }
        let db = null;
        const heard = (d) => d.every((x, k) => k === i || x > -70) &&
          Math.min(...d.filter((_, k) => k !== i)) - d[i] > 20;
        await waitFor(async () => {
          db = await page.evaluate(toneLevels, PEOPLE.map((p) => p.hz));
          return { ok: heard(db), db };
        }, 30000, `${PEOPLE[i].name} hearing the others`).catch(() => {});
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
      const off = await waitFor(async () => {
        const ben = (await pages[0].evaluate(tileColours)).find((x) => x.name === 'Ben');
        return { ok: ben && dist(ben.rgb, PEOPLE[1].rgb) > 90, ben };
      }, 20000, 'Ben\'s placeholder in Anna\'s picture').catch(() => null);
      const after = off ? off.ben : (await pages[0].evaluate(tileColours)).find((x) => x.name === 'Ben');
      console.log(`  after Ben's camera went off Anna sees Ben=${after.rgb}`);
      assert.ok(dist(after.rgb, PEOPLE[1].rgb) > 90, 'Ben\'s tile no longer shows his camera');
      // A picture of the real client for the docs and for a human look.
      await pages[0].setViewportSize({ width: 1024, height: 640 });
      await new Promise((r) => setTimeout(r, 500)); // the resize reaches the labels
      await pages[0].screenshot({ path: path.join(DIR, 'room.png'), timeout: 60000 }); // fonts, under load
      console.log('  quality line: ' + await pages[0].evaluate(() => document.getElementById('quality').textContent));
      for (const page of pages) await page.evaluate(() => window.tafelRoom.leave());
    } finally {
      for (const b of browsers) await b.close();
    }
  });
