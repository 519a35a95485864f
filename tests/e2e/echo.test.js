// echo.test.js — a browser joins an echo room through the self-test page and must receive and
// decode its own video and audio over DTLS-SRTP: once offering H.264, once offering only VP8.
// While it runs, junk UDP and garbage HTTP must not disturb it.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const dgram = require('node:dgram');
const crypto = require('node:crypto');
const { launch, waitFor } = require('./browser');

const URL = process.env.TAFEL_URL;

async function selftest(browser, codec) {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.log('page error:', e.message));
  await page.goto(URL + '/selftest.html');
  const room = await page.evaluate((c) => window.tafelSelftest.start({ codec: c }), codec);
  return { page, room };
}

function mediaOk(st, minFrames) {
  return {
    ok: !!st && st.dtlsState === 'connected' && !!st.srtpCipher && !!st.video &&
      st.video.framesDecoded >= minFrames && !!st.audio && st.audio.packetsReceived >= 50 &&
      st.audio.totalSamplesReceived > 0,
    st,
  };
}

for (const codec of ['h264', 'vp8']) {
  test(`echo room returns own video and audio (${codec})`, async () => {
    const browser = await launch();
    try {
      const { page, room } = await selftest(browser, codec);
      const { st } = await waitFor(async () => mediaOk(await page.evaluate(
        () => window.tafelSelftest.stats()), 30), 30000, 'decoded echo media');
      console.log(`  ${codec}: ${st.srtpCipher}, video ${st.video.codec} ` +
        `${st.video.width}x${st.video.height} ${st.video.framesDecoded} frames, audio ` +
        `${st.audio.codec} ${st.audio.packetsReceived} packets, rtt ${st.rttMs} ms`);
      assert.strictEqual(st.video.codec.toLowerCase(), 'video/' + codec);
      assert.strictEqual(st.audio.codec.toLowerCase(), 'audio/opus');
      // The server's own figures for the session (RTT from our SR and the browser's RR).
      const code = await page.evaluate(() => document.querySelector('#s-code').textContent);
      const res = await page.evaluate((c) => window.TafelResultCode.decode(c), code);
      assert.ok(res.ok && res.figures.video && res.figures.audio,
        'the result code says video and audio came back: ' + code);
      await page.evaluate(() => window.tafelSelftest.stop());
      assert.ok(room.startsWith('echo-'));
    } finally {
      await browser.close();
    }
  });
}

test('junk UDP and garbage HTTP leave a running session unaffected', async () => {
  const browser = await launch();
  const sock = dgram.createSocket('udp4');
  try {
    const { page } = await selftest(browser, '');
    const before = (await waitFor(async () => mediaOk(await page.evaluate(
      () => window.tafelSelftest.stats()), 20), 30000, 'media before the flood')).st;
    // 3000 datagrams of every kind the demux knows: random, STUN-, DTLS- and RTP-looking.
    const port = Number(process.env.TAFEL_MEDIA_PORT);
    for (let i = 0; i < 3000; i++) {
      const b = crypto.randomBytes(20 + (i % 1200));
      b[0] = [0x00, 0x01, 0x16, 0x17, 0x80, 0x90, 0xff][i % 7];
      if (b[0] <= 1) b.writeUInt32BE(0x2112a442, 4);
      await new Promise((r) => sock.send(b, port, '127.0.0.1', r));
    }
    // Garbage HTTP: broken SDP, wrong types, an oversized body, unknown sessions.
    const bad = [
      ['POST', '/whip/echo-x', 'application/sdp', 'v=0\r\nm=audio garbage'],
      ['POST', '/whip/echo-x', 'application/sdp', crypto.randomBytes(3000).toString('latin1')],
      ['POST', '/whip/echo-x', 'text/plain', 'hello'],
      ['POST', '/whip/echo-x', 'application/sdp', 'v=0\r\n' + 'a=x\r\n'.repeat(30000)],
      ['DELETE', '/whip/echo-x/nope', 'text/plain', ''],
      ['POST', '/whip/..%2f..%2fetc', 'application/sdp', 'v=0'],
    ];
    for (const [method, path, type, body] of bad) {
      const res = await fetch(URL + path, { method, headers: { 'Content-Type': type },
        body: method === 'POST' ? body : undefined });
      assert.ok(res.status >= 400 && res.status < 500, `${method} ${path}: ${res.status}`);
      const j = await res.json();
      assert.ok(j.error && j.detail !== undefined);
    }
    const after = (await waitFor(async () => mediaOk(await page.evaluate(
      () => window.tafelSelftest.stats()), before.video.framesDecoded + 30), 20000,
    'media after the flood')).st;
    console.log(`  kept decoding: ${before.video.framesDecoded} -> ${after.video.framesDecoded} frames`);
    await page.evaluate(() => window.tafelSelftest.stop());
  } finally {
    sock.close();
    await browser.close();
  }
});
