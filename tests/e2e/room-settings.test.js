// room-settings.test.js — the teacher's stored room settings reach the live room (auth on):
// default_layout "speaker" makes the lesson start in the speaker layout (automatic would show
// two people as a grid), and pupils_video off stops a pupil's camera as "stop video" does — the
// pupil's own attempt to start it is refused by the server — until the teacher allows it again.
// With the lobby on, the server's lobby push refreshes the teacher's queue at once. And (dev mode)
// a room WebSocket message over 4 KB is reassembled by the server, and a teacher who rejoins a
// room without a teacher moderates it again.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const { launch, waitFor } = require('./browser');
const { startAuthServer } = require('./accounts-server');

const DIR = process.env.TAFEL_MEDIA_DIR;

// In the teacher's page: a state-changing REST call with the session's CSRF token.
async function post(page, p, fields) {
  return page.evaluate(async ([url, f]) => {
    const me = await (await fetch('/api/me')).json();
    const res = await fetch(url, { method: 'POST', headers: { 'X-CSRF-Token': me.csrf || '' },
      body: new URLSearchParams(f) });
    return { status: res.status, body: await res.text() };
  }, [p, fields]);
}

const benTile = (page) => page.evaluate(() => {
  const l = window.tafelRoom.layout();
  return l && l.tiles.find((x) => x.name === 'Ben');
});

test('stored settings: the lesson starts in the default layout; pupils_video off stops cameras',
  { timeout: 180000 }, async () => {
    const teacher = { email: 'herr.weber@schule.example', name: 'Herr Weber', password: 'kreide-und-tafel-7' };
    const srv = await startAuthServer({ dir: path.join(DIR, 'room-settings'), httpPort: 18483,
      mediaPort: 18484, teachers: [teacher] });
    const browsers = [];
    try {
      const tb = await launch({ video: path.join(DIR, 'red.y4m'), audio: path.join(DIR, 'red.wav') });
      const pb = await launch({ video: path.join(DIR, 'lime.y4m'), audio: path.join(DIR, 'lime.wav') });
      browsers.push(tb, pb);
      const tp = await tb.newPage(), pp = await pb.newPage();
      for (const [n, p] of [['teacher', tp], ['pupil', pp]]) p.on('pageerror', (e) => console.log(n, 'page error:', e.message));

      await tp.goto(srv.url + '/login.html');
      await tp.fill('#email', teacher.email);
      await tp.fill('#password', teacher.password);
      await tp.click('button[type=submit]');
      await tp.waitForURL(/\/home\.html$/);
      const set = await post(tp, '/api/rooms/' + teacher.slug + '/settings',
        { lobby: '0', pupils_video: '0', default_layout: 'speaker' });
      assert.strictEqual(set.status, 200, set.body);

      await tp.goto(`${srv.url}/room.html?room=${teacher.slug}`);
      await tp.evaluate(([r, n]) => window.tafelRoom.join(r, n), [teacher.slug, teacher.name]);
      await pp.goto(srv.url + '/r/' + teacher.slug);
      await pp.waitForURL(/\/join\.html\?room=/);
      await pp.fill('#name', 'Ben');
      await pp.fill('#pin', teacher.pin);
      await pp.click('#join');
      await pp.waitForURL(/\/room\.html\?room=/, { timeout: 15000 });
      await pp.evaluate(([r]) => window.tafelRoom.join(r, 'Ben'), [teacher.slug]);

      // The stored layout, not the automatic grid, for two people.
      const lay = await waitFor(async () => {
        const l = await tp.evaluate(() => window.tafelRoom.layout());
        const rx = await tp.evaluate(() => window.tafelRoom.layoutReceived());
        return { ok: l && l.tiles.length === 2 && l.layout === 'speaker', l, rx };
      }, 90000, 'the teacher\'s stored speaker layout with two people'); // generous: machine load
      console.log('  the lesson starts in ' + lay.l.layout + ' (' + lay.l.tiles.map((t) => t.name).join(', ') + ')');
      await waitFor(async () => {
        const st = await pp.evaluate(() => window.tafelRoom.roomState());
        return { ok: st.layout === 'speaker' && st.pupils_video === false, st };
      }, 15000, 'Ben\'s room state: the stored layout, and pupils may not start video');

      // Ben's camera is stopped by the rule, and his own attempt to start it is refused.
      await waitFor(async () => {
        const t = await benTile(tp);
        return { ok: t && t.camera_off && t.camera_stopped_by_teacher, t };
      }, 15000, 'Ben\'s camera stopped by the room\'s rule');
      const mod = await pp.evaluate(() => window.tafelRoom.events().filter((e) => e.type === 'moderated').pop());
      assert.ok(mod && mod.video_off && mod.may_start_video === false, 'Ben is told: ' + JSON.stringify(mod));
      const errs = await pp.evaluate(() => window.tafelRoom.events().filter((e) => e.type === 'error').length);
      await pp.evaluate(() => window.tafelRoom.send({ type: 'mute', audio: false, video: false }));
      await waitFor(async () => {
        const e = await pp.evaluate(() => window.tafelRoom.events().filter((x) => x.type === 'error'));
        return { ok: e.length > errs && e[e.length - 1].code === 'forbidden', e };
      }, 15000, 'Ben\'s camera start refused');
      await new Promise((r) => setTimeout(r, 1000));
      assert.ok((await benTile(tp)).camera_off, 'Ben\'s camera stays stopped');

      // The teacher allows video again (a live lesson keeps its layout); Ben may start it now.
      const allow = await post(tp, '/api/rooms/' + teacher.slug + '/settings', { pupils_video: '1', default_layout: 'grid' });
      assert.strictEqual(allow.status, 200, allow.body);
      await waitFor(async () => {
        const s = await pp.evaluate(() => window.tafelRoom.roomState());
        return { ok: s.pupils_video === true, s };
      }, 15000, 'the new rule to reach Ben');
      await pp.evaluate(() => window.tafelRoom.send({ type: 'mute', audio: false, video: false }));
      const back = await waitFor(async () => {
        const t = await benTile(tp);
        const ev = await pp.evaluate(() => window.tafelRoom.events().filter((e) => e.type !== 'layout' &&
          e.type !== 'active-speaker' && e.type !== 'tier' && e.type !== 'uplink').slice(-4));
        const rx = await tp.evaluate(() => {
          const l = window.tafelRoom.layoutReceived();
          return { n: window.tafelRoom.events().filter((e) => e.type === 'layout').length,
            ben: l && l.tiles.find((x) => x.name === 'Ben'), rtp: l && l.rtp_ts, shown: window.tafelRoom.presentedRtpTs() };
        });
        return { ok: t && !t.camera_off, t, ev, rx };
      }, 15000, 'Ben\'s camera back on');
      console.log('  Ben\'s tile after the teacher allowed video: ' + JSON.stringify(back.t));
      assert.strictEqual((await tp.evaluate(() => window.tafelRoom.layout())).layout, 'speaker',
        'the live lesson keeps its layout when the stored default changes');


      // With the lobby on, the teacher's queue refreshes when the server pushes {"type": "lobby"}
      // (room.js), not only at the panel's next 2 s poll.
      assert.strictEqual((await post(tp, '/api/rooms/' + teacher.slug + '/settings', { lobby: '1' })).status, 200);
      await tp.evaluate(() => {
        const orig = window.tafelLobby.refresh;
        window.pushedRefreshes = 0;
        window.tafelLobby.refresh = () => {
          if (/room\.js/.test(new Error().stack)) window.pushedRefreshes++;
          return orig();
        };
      });
      const ep = await pb.newPage();
      await ep.goto(srv.url + '/r/' + teacher.slug);
      await ep.waitForURL(/\/join\.html\?room=/);
      await ep.fill('#name', 'Emil');
      await ep.fill('#pin', teacher.pin);
      await ep.click('#join');
      await ep.waitForFunction(() => window.tafelJoin.state() === 'waiting');
      const q = await waitFor(async () => {
        const r = await tp.evaluate(() => ({ pushed: window.pushedRefreshes,
          waiting: window.tafelLobby.waiting().map((w) => w.name) }));
        return { ok: r.pushed > 0 && r.waiting.includes('Emil'), r };
      }, 10000, 'the lobby push to refresh the teacher\'s queue');
      console.log('  lobby queue after the push: ' + JSON.stringify(q.r));
      for (const page of [pp, tp]) await page.evaluate(() => window.tafelRoom.leave());
    } finally {
      for (const b of browsers) await b.close();
      await srv.stop();
    }
  });

// A message larger than the server's 4 KB receive buffer (a chat line with an unknown field,
// which the server ignores) arrives in pieces and is joined, not dropped (dev-mode server).
test('a room message over 4 KB is reassembled; a rejoining dev-mode teacher moderates again', { timeout: 60000 }, async () => {
  const b = await launch({ video: path.join(DIR, 'blue.y4m'), audio: path.join(DIR, 'blue.wav') });
  try {
    const page = await b.newPage();
    const room = 'gross-' + Date.now().toString(36);
    await page.goto(`${process.env.TAFEL_URL}/room.html?room=${room}&name=Clara`);
    await page.evaluate(([r]) => window.tafelRoom.join(r, 'Clara'), [room]);
    await waitFor(async () => ({ ok: await page.evaluate(() => window.tafelRoom.role() === 'teacher') }),
      20000, 'the room\'s WebSocket');
    const big = await page.evaluate(() => {
      const msg = { type: 'chat', text: 'Seite 42, Aufgabe 3', padding: 'x'.repeat(9000) };
      return window.tafelRoom.send(msg) && JSON.stringify(msg).length;
    });
    assert.ok(big > 4096, 'a message of ' + big + ' bytes was sent');
    await waitFor(async () => {
      const c = await page.evaluate(() => window.tafelRoom.chat());
      return { ok: c.some((m) => m.name === 'Clara' && m.text === 'Seite 42, Aufgabe 3'), c };
    }, 15000, 'the 9 KB chat message back from the server');

    // Development mode: the teacher (first joiner) leaves a room a pupil keeps going, rejoins,
    // and moderates it again (nobody else is its teacher).
    const pupil = await b.newPage();
    await pupil.goto(`${process.env.TAFEL_URL}/room.html?room=${room}&name=Dora`);
    await pupil.evaluate(([r]) => window.tafelRoom.join(r, 'Dora'), [room]);
    await waitFor(async () => ({ ok: await pupil.evaluate(() => window.tafelRoom.role() === 'pupil' &&
      window.tafelRoom.events().some((e) => e.type === 'welcome')) }), 20000, 'Dora joined as a pupil');
    await page.evaluate(() => window.tafelRoom.leave());
    await page.goto(`${process.env.TAFEL_URL}/room.html?room=${room}&name=Clara`);
    await page.evaluate(([r]) => window.tafelRoom.join(r, 'Clara'), [room]);
    const back = await waitFor(async () => {
      const w = await page.evaluate(() => window.tafelRoom.events().find((e) => e.type === 'welcome'));
      return { ok: !!w, role: w && w.role };
    }, 20000, 'Clara back in the room');
    assert.strictEqual(back.role, 'teacher', 'the rejoining teacher moderates again');
    assert.strictEqual(await pupil.evaluate(() => window.tafelRoom.role()), 'pupil');
    for (const p of [page, pupil]) await p.evaluate(() => window.tafelRoom.leave());
  } finally {
    await b.close();
  }
});
