// weaklink.test.js — a receiver whose downstream is limited ends up on a lower tier and keeps
// decoding; lifting the limit brings it back up. The limit is Tafel's userspace impairment relay
// (bench/relay_main.c) between that browser and the server, because the kernel here has no netem
// and tc on the shared loopback would limit every participant: the browser's answer is rewritten
// to reach the media port through the relay, whose down rate the test changes at run time.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const dgram = require('node:dgram');
const { spawn } = require('node:child_process');
const { launch, waitFor } = require('./browser');

const URL = process.env.TAFEL_URL;
const RELAY = process.env.TAFEL_RELAY;
const MEDIA = Number(process.env.TAFEL_MEDIA_PORT);
const RELAY_PORT = MEDIA + 10, CONTROL_PORT = MEDIA + 11;

function control(cmd) {
  const s = dgram.createSocket('udp4');
  return new Promise((r) => s.send(Buffer.from(cmd), CONTROL_PORT, '127.0.0.1', () => { s.close(); r(); }));
}

const TIERS = ['audio', 'low', 'medium', 'high'];

test('a limited receiver moves down a tier, keeps decoding, and comes back up',
  { timeout: 180000, skip: !RELAY && 'no relay binary' }, async () => {
    const relay = spawn(RELAY, ['--listen', `127.0.0.1:${RELAY_PORT}`, '--to', `127.0.0.1:${MEDIA}`,
      '--control', `127.0.0.1:${CONTROL_PORT}`, '--duration', '170'], { stdio: 'ignore' });
    const a = await launch(), b = await launch();
    try {
      const room = 'engpass';
      const pa = await a.newPage(), pb = await b.newPage();
      await pa.goto(`${URL}/room.html?room=${room}&name=Anna`);
      await pa.evaluate((r) => window.tafelRoom.join(r, 'Anna'), room);
      await pb.goto(`${URL}/room.html?room=${room}&name=Ben`);
      await pb.evaluate(([r, port]) => window.tafelRoom.join(r, 'Ben', { mediaPort: port }),
        [room, RELAY_PORT]);
      const state = () => pb.evaluate(async () => ({
        s: await window.tafelRoom.stats(), t: window.tafelRoom.tier(), l: window.tafelRoom.layout() }));
      const start = await waitFor(async () => {
        const st = await state();
        return { ok: st.s && st.s.video && st.s.video.framesDecoded > 30 && st.l, st };
      }, 30000, 'Ben decoding through the relay');
      const before = start.st.l.tier;
      console.log(`  unlimited: tier ${before}, ${start.st.s.video.width}x${start.st.s.video.height}`);

      await control('down-kbps 250');
      const down = await waitFor(async () => {
        const st = await state();
        return { ok: st.t && TIERS.indexOf(st.t.tier) < TIERS.indexOf(before), st };
      }, 40000, 'a lower tier at 250 kbit/s');
      console.log(`  limited to 250 kbit/s: tier ${down.st.t.tier} (estimate ${down.st.t.estimate_kbps} kbit/s, ${down.st.t.reason})`);
      const f0 = down.st.s.video ? down.st.s.video.framesDecoded : 0;
      if (down.st.t.tier !== 'audio') {
        const still = await waitFor(async () => {
          const st = await state();
          return { ok: st.s.video.framesDecoded > f0 + 20, st };
        }, 20000, 'decoding on the lower tier');
        console.log(`  still decoding: ${f0} -> ${still.st.s.video.framesDecoded} frames`);
      }

      await control('down-kbps 0');
      const up = await waitFor(async () => {
        const st = await state();
        return { ok: st.t && TIERS.indexOf(st.t.tier) >= TIERS.indexOf(before), st };
      }, 60000, 'back to the unlimited tier');
      console.log(`  limit lifted: tier ${up.st.t.tier} (estimate ${up.st.t.estimate_kbps} kbit/s)`);
      assert.ok(TIERS.indexOf(up.st.t.tier) >= TIERS.indexOf(before));
    } finally {
      await a.close();
      await b.close();
      relay.kill('SIGINT');
    }
  });
