// accounts.test.js — school accounts end to end in headless Chromium, against a server with
// auth on: a teacher (local account made with `tafel admin add-teacher`) logs in, sets a new
// PIN and opens the personal room; a pupil opens the room link, joins with name + PIN, waits in
// the lobby, is let in from the teacher's queue, and is muted by the teacher — the pupil's tone
// then disappears from the teacher's audio. A wrong PIN is refused and repeated guesses are
// locked out. The helpdesk's support view shows the live room without names; the self-test
// gives a result code. Screenshots for docs/lehrkraefte.md go to the e2e work dir (run.sh copies
// the ones the guides use to WORK/guide/, docs/update-screenshots.sh to docs/img/).
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const { launch, waitFor, toneLevels } = require('./browser');
const { startAuthServer, Client } = require('./accounts-server');

const DIR = process.env.TAFEL_MEDIA_DIR;
const SHOTS = DIR;

// The whole page, or (sel) one element: the account pages' card, without the empty page around it.
const shot = (page, name, sel) => (sel ? page.locator(sel).first().screenshot({ path: path.join(SHOTS, name) })
  : page.screenshot({ path: path.join(SHOTS, name) }));

test('teacher logs in, admits a pupil from the lobby and mutes them; wrong PINs are locked out',
  { timeout: 240000 }, async () => {
    const teacher = { email: 'frau.lehmann@schule.example', name: 'Frau Lehmann', password: 'tafel-kreide-42' };
    const helpdesk = { email: 'it-support@schule.example', name: 'IT Support', password: 'hilfe-2024-x' };
    const srv = await startAuthServer({ dir: path.join(DIR, 'accounts'), httpPort: 18463,
      mediaPort: 18464, teachers: [teacher, helpdesk], extraArgs: ['--support-emails', helpdesk.email] });
    const browsers = [];
    try {
      const tb = await launch({ video: path.join(DIR, 'red.y4m'), audio: path.join(DIR, 'red.wav') });
      const pb = await launch({ video: path.join(DIR, 'lime.y4m'), audio: path.join(DIR, 'lime.wav') });
      browsers.push(tb, pb);
      const tp = await tb.newPage({ viewport: { width: 1024, height: 700 }, locale: 'de-DE' });
      const pp = await pb.newPage({ viewport: { width: 1024, height: 700 }, locale: 'de-DE' });
      for (const [n, p] of [['teacher', tp], ['pupil', pp]]) p.on('pageerror', (e) => console.log(n, 'page error:', e.message));

      // The teacher logs in (a wrong password first) and lands on the home page.
      await tp.goto(srv.url + '/login.html');
      await tp.fill('#email', teacher.email);
      await tp.fill('#password', 'falsch');
      await tp.click('button[type=submit]');
      await tp.waitForFunction(() => document.getElementById('status').textContent.length > 0);
      assert.match(await tp.textContent('#status'), /falsch|wrong/);
      await tp.fill('#password', teacher.password);
      await shot(tp, 'login.png', 'main.card');
      await tp.click('button[type=submit]');
      await tp.waitForURL(/\/home\.html$/);
      await tp.waitForSelector('#home:not([hidden])');
      assert.strictEqual(await tp.textContent('#link'), srv.url + '/r/' + teacher.slug);
      await tp.click('#pin-reset');
      await tp.waitForFunction(() => /\d{6}/.test(document.getElementById('pin').textContent));
      const pin = await tp.getAttribute('#pin', 'data-pin');
      assert.match(pin, /^\d{6}$/);
      assert.notStrictEqual(pin, teacher.pin, 'a new PIN');
      assert.strictEqual(await tp.textContent('#pin'), `Neue PIN: ${pin} – geben Sie sie mit dem Link weiter.`);
      assert.strictEqual(await tp.textContent('#settings [data-i18n=pupils-unmute]'),
        'Schüler dürfen ihr Mikrofon selbst einschalten');
      await shot(tp, 'home.png', 'main.card');

      // The teacher opens the room (a teacher join token comes from the session).
      await tp.click('#open');
      await tp.waitForURL(/\/room\.html\?room=/);
      await tp.evaluate(([r, n]) => window.tafelRoom.join(r, n), [teacher.slug, teacher.name]);

      // The pupil follows the room link, enters name and PIN, and waits in the lobby.
      await pp.goto(srv.url + '/r/' + teacher.slug);
      await pp.waitForURL(/\/join\.html\?room=/);
      await pp.fill('#name', 'Ben');
      await pp.fill('#pin', pin);
      await shot(pp, 'pupil-join.png', 'main.card');
      await pp.click('#join');
      await pp.waitForFunction(() => window.tafelJoin.state() === 'waiting');
      await shot(pp, 'lobby.png', 'main.card');

      // The teacher sees Ben in the queue and lets him in.
      await waitFor(async () => {
        const w = await tp.evaluate(() => window.tafelLobby.waiting());
        return { ok: w.length === 1 && w[0].name === 'Ben', w };
      }, 10000, 'Ben in the teacher\'s lobby queue');
      await tp.waitForSelector('#lobby-panel button[data-action=admit]');
      await shot(tp, 'teacher-queue.png');
      await tp.click('#lobby-panel button[data-action=admit]');
      await pp.waitForURL(/\/room\.html\?room=/, { timeout: 10000 });
      await pp.evaluate(([r]) => window.tafelRoom.join(r, 'Ben'), [teacher.slug]);

      for (const [who, page] of [['teacher', tp], ['Ben', pp]]) {
        await waitFor(async () => {
          const st = await page.evaluate(async () => ({
            s: await window.tafelRoom.stats(), l: window.tafelRoom.layout() }));
          return { ok: st.s && st.s.video && st.s.video.framesDecoded > 30 && st.l && st.l.tiles.length === 2, st };
        }, 40000, who + ' decoding a 2-tile mix');
      }
      const people = await tp.evaluate(() => window.tafelLobby.participants());
      const ben = people.find((p) => p.name === 'Ben' && p.role === 'pupil');
      assert.ok(ben, 'the teacher\'s participant list has Ben: ' + JSON.stringify(people));
      assert.ok(people.find((p) => p.name === teacher.name && p.role === 'teacher'));

      // Ben's tone (660 Hz) reaches the teacher; after the mute it is gone.
      const before = await tp.evaluate(toneLevels, [660, 440]);
      console.log(`  teacher hears Ben's 660 Hz at ${before[0].toFixed(1)} dB (own 440 Hz ${before[1].toFixed(1)} dB)`);
      assert.ok(before[0] > -70, 'the teacher hears Ben before the mute');
      assert.strictEqual(await tp.evaluate((s) => window.tafelLobby.moderate('mute', s), ben.session), 200);
      // Ben is told, in his own view (the guide's picture of what pupils see).
      await pp.waitForSelector('#notice:not([hidden])', { timeout: 5000 });
      assert.match(await pp.textContent('#notice'), /stummgeschaltet|muted your microphone/);
      await shot(pp, 'pupil-room.png');
      await new Promise((r) => setTimeout(r, 1500));
      const after = await tp.evaluate(toneLevels, [660, 440]);
      console.log(`  after the mute: 660 Hz at ${after[0].toFixed(1)} dB`);
      assert.ok(before[0] - after[0] > 20, `Ben's tone is gone: ${before[0]} -> ${after[0]} dB`);
      // A pupil cannot do the same to the teacher: the REST call refuses him.
      const byPupil = await pp.evaluate(async (room) => (await fetch('/api/rooms/' + room + '/moderate',
        { method: 'POST', body: new URLSearchParams({ action: 'mute_all' }) })).status, teacher.slug);
      assert.strictEqual(byPupil, 401);
      // The teacher's panel lists Ben as muted: his button now offers the microphone back.
      await tp.evaluate(() => window.tafelRoom.openPanel());
      await tp.waitForFunction(() => [...document.querySelectorAll('#participants button')]
        .some((b) => /Mikrofon erlauben|Allow microphone/.test(b.textContent)), null, { timeout: 10000 });
      await shot(tp, 'teacher-room.png');
      assert.strictEqual(await tp.textContent('#teacher-panel [data-i18n=pupils-unmute]'),
        'Schüler dürfen sich selbst freischalten');

      // The helpdesk sees the room's technical state — and no names. The teacher may not.
      const support = new Client(srv.url);
      assert.strictEqual((await support.req('GET', '/api/support/rooms/' + teacher.slug)).status, 401);
      assert.strictEqual((await support.login(helpdesk.email, helpdesk.password)).status, 200);
      const sv = await support.req('GET', '/api/support/rooms/' + teacher.slug);
      assert.strictEqual(sv.status, 200, sv.text);
      console.log('  support view: ' + sv.text.trim());
      assert.strictEqual(sv.json.participants.length, 2);
      for (const p of sv.json.participants) {
        assert.strictEqual(p.connected, true);
        assert.ok(typeof p.tier === 'string' && Number.isInteger(p.rtt_ms) && p.bytes_in > 0 && p.loss_percent >= 0, JSON.stringify(p));
      }
      assert.deepStrictEqual(sv.json.participants.map((p) => p.role).sort(), ['pupil', 'teacher']);
      assert.ok(!/Ben|Lehmann|session/.test(sv.text), 'no names, no session ids');
      const asTeacher = await tp.evaluate(async (r) => (await fetch('/api/support/rooms/' + r)).status, teacher.slug);
      assert.strictEqual(asTeacher, 403);
      const sp = await pb.newPage({ viewport: { width: 1024, height: 500 }, locale: 'de-DE' });
      await sp.goto(srv.url + '/login.html');
      await sp.fill('#email', helpdesk.email);
      await sp.fill('#password', helpdesk.password);
      await sp.click('button[type=submit]');
      await sp.waitForURL(/\/home\.html$/);
      await sp.goto(srv.url + '/support.html');
      await sp.fill('#room', teacher.slug);
      await sp.click('button[type=submit]');
      await sp.waitForFunction(() => document.querySelectorAll('#rows tr').length === 2 &&
        /\d/.test(document.querySelector('#rows tr td:nth-child(5)').textContent), null, { timeout: 10000 });
      await shot(sp, 'support.png', 'main.card');
      await sp.close();

      // The self-test a pupil (or teacher) runs before the lesson: its result code is what the
      // helpdesk asks for (taken once picture and sound came back).
      const st = await pb.newPage({ viewport: { width: 1024, height: 760 }, locale: 'de-DE' });
      await st.goto(srv.url + '/selftest.html');
      await st.click('#start');
      await st.waitForFunction(async () => {
        const s = await window.tafelSelftest.stats();
        return s && s.video && s.video.framesDecoded > 30 && s.audio && s.audio.packetsReceived > 0 &&
          document.getElementById('s-code').textContent.length > 1;
      }, null, { timeout: 20000, polling: 250 });
      await st.waitForFunction(() => document.getElementById('s-code').textContent.length > 1, null,
        { timeout: 5000, polling: 100 });
      await shot(st, 'selftest.png', 'main.card');
      console.log('  self-test result code: ' + await st.textContent('#s-code'));
      await st.evaluate(() => window.tafelSelftest.stop());
      await st.close();

      // A wrong PIN is refused; repeated guesses lock this address out (even the right PIN).
      const wp = await pb.newPage({ locale: 'de-DE' });
      await wp.goto(srv.url + '/join.html?room=' + teacher.slug);
      const said = [];
      for (let i = 0; i < 6; i++) {
        await wp.fill('#name', 'Rater');
        await wp.fill('#pin', i === 5 ? pin : String(100000 + i));
        await wp.evaluate(() => { document.getElementById('status').textContent = ''; });
        await wp.click('#join');
        await wp.waitForFunction(() => document.getElementById('status').textContent.length > 0);
        said.push(await wp.textContent('#status'));
      }
      console.log('  join page said: ' + said.map((s) => JSON.stringify(s)).join(', '));
      for (let i = 0; i < 5; i++) assert.match(said[i], /PIN stimmt nicht|PIN is not right/);
      assert.match(said[5], /Zu viele Versuche|Too many attempts/);
      await shot(wp, 'pin-locked.png', 'main.card');

      // The account pages in English (the browser prefers it), from the same tables (i18n.js).
      const en = await pb.newPage({ locale: 'en-US' });
      await en.goto(srv.url + '/join.html?room=' + teacher.slug);
      assert.strictEqual(await en.getAttribute('html', 'lang'), 'en');
      assert.strictEqual(await en.textContent('h1'), 'Join the lesson');
      await en.fill('#name', 'Rater');
      await en.fill('#pin', '100000');
      await en.click('#join');
      await en.waitForFunction(() => document.getElementById('status').textContent.length > 0);
      assert.match(await en.textContent('#status'), /^Too many attempts\. Please try again in \d+ minutes\.$/);
      await en.goto(srv.url + '/support.html');
      assert.strictEqual(await en.textContent('h1'), 'Technical state of a room');
      assert.strictEqual(await en.textContent('#code-table [data-i18n=rtt]'), 'Round-trip time');
      await en.goto(srv.url + '/login.html');
      assert.strictEqual(await en.textContent('h1'), 'Teacher login');
      await en.fill('#email', teacher.email);
      await en.fill('#password', teacher.password);
      await en.click('button[type=submit]');
      await en.waitForURL(/\/home\.html$/);
      await en.waitForSelector('#home:not([hidden])');
      assert.strictEqual(await en.textContent('[data-i18n=home-title]'), 'My room');
      assert.strictEqual(await en.textContent('#settings [data-i18n=pupils-unmute]'), 'Pupils may unmute themselves');
      await en.close();
      for (const page of [pp, tp]) await page.evaluate(() => window.tafelRoom.leave());
    } finally {
      for (const b of browsers) await b.close();
      assert.strictEqual(await srv.stop(), 0, 'the auth server exits cleanly');
    }
  });
