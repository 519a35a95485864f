// moderation.test.js — the teacher's controls in the room (dev mode: the first joiner is the
// TEACHER, the others PUPILs). Anna (teacher, red, 440 Hz), Ben and Clara (pupils): a pupil's
// moderate message is refused; the teacher mutes Ben and his tone disappears from Clara's audio;
// stops Clara's video and her tile shows the placeholder; chat and raise hand reach the others;
// a shared screen switches everyone to the presentation layout and back; remove and end lesson
// close the pupils' sessions with a message; lock, spotlight, layout choice and the room's
// pupils_unmute rule (a muted pupil cannot unmute himself) go through the WebSocket too.
// Screenshots the teacher's view (German) for the guide.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const { waitFor, tileColours, toneLevels, dist, sleep, PEOPLE, joinAs } = require('./browser');

const DIR = process.env.TAFEL_MEDIA_DIR;

test('the teacher moderates, chats and shares a screen; pupils cannot moderate',
  { timeout: 360000 }, async () => {
    const room = 'mod-' + Date.now().toString(36);
    const browsers = [], pages = [];
    try {
      for (const p of PEOPLE) {
        // the teacher's view in German: its screenshots illustrate docs/lehrkraefte.md
        pages.push(await joinAs(browsers, p, room, { screen: true, page: {
          viewport: { width: 1280, height: 720 }, locale: p.name === 'Anna' ? 'de-DE' : 'en-US' } }));
      }
      const [anna, ben, clara] = pages;
      for (const [i, page] of pages.entries()) {
        await waitFor(async () => {
          const st = await page.evaluate(async () => ({ s: await window.tafelRoom.stats(),
            l: window.tafelRoom.layout(), r: window.tafelRoom.role() }));
          return { ok: st.s && st.s.video && st.s.video.framesDecoded > 30 && st.l &&
            st.l.tiles.length === 3 && st.r, st };
        }, 90000, PEOPLE[i].name + ' decoding a 3-tile mix'); // generous: machine load
      }
      const roles = await Promise.all(pages.map((p) => p.evaluate(() => window.tafelRoom.role())));
      assert.deepStrictEqual(roles, ['teacher', 'pupil', 'pupil'], 'the first joiner moderates');
      const list = await waitFor(async () => {
        const l = await anna.evaluate(() => window.tafelRoom.participants());
        return { ok: l.length === 3, l };
      }, 10000, 'the teacher\'s participant list');
      const sess = Object.fromEntries(list.l.map((p) => [p.name, p.session]));
      assert.strictEqual(await ben.evaluate(() => window.tafelRoom.participants().length), 0,
        'pupils get no participant list (session ids)');

      // A pupil's moderate message is refused, and changes nothing.
      await ben.evaluate((s) => window.tafelRoom.moderate('mute', s), sess.Anna);
      await ben.evaluate(() => window.tafelRoom.moderate('end'));
      const err = await waitFor(async () => {
        const e = await ben.evaluate(() => window.tafelRoom.lastError());
        return { ok: e && e.code === 'forbidden', e };
      }, 15000, 'the pupil\'s moderate message to be refused');
      console.log('  pupil moderate answered: ' + JSON.stringify(err.e));
      await sleep(1000);
      const before = await clara.evaluate(toneLevels, PEOPLE.map((p) => p.hz));
      console.log('  Clara hears before: ' + before.map((d) => d.toFixed(1)).join(' / ') + ' dB');
      assert.ok(before[0] > -70 && before[1] > -70, 'Clara hears Anna and Ben before');

      // The teacher mutes Ben: his tone leaves the others' audio; his client is told.
      await anna.evaluate((s) => window.tafelRoom.moderate('mute', s, 'on'), sess.Ben);
      await waitFor(async () => {
        const l = await clara.evaluate(() => window.tafelRoom.layout());
        const t = l && l.tiles.find((x) => x.name === 'Ben');
        return { ok: t && t.mic_off && t.muted_by_teacher, t };
      }, 15000, 'Ben shown muted by the teacher');
      // Sound already in the receivers' jitter buffers still plays: poll, allowing for latency.
      let after = null, annaHears = null;
      await waitFor(async () => {
        after = await clara.evaluate(toneLevels, PEOPLE.map((p) => p.hz));
        annaHears = await anna.evaluate(toneLevels, PEOPLE.map((p) => p.hz));
        return { ok: after[0] > -70 && after[0] - after[1] > 20 && annaHears[2] - annaHears[1] > 20,
          after, annaHears };
      }, 15000, 'Ben\'s tone to leave the others\' audio');
      console.log('  Clara hears after Ben was muted: ' + after.map((d) => d.toFixed(1)).join(' / ') +
        ' dB; Anna: ' + annaHears.map((d) => d.toFixed(1)).join(' / '));
      assert.ok(after[0] > -70, 'Clara still hears Anna');
      assert.ok(after[0] - after[1] > 20, `Ben's tone is gone from Clara's audio (${after})`);
      assert.ok(annaHears[2] - annaHears[1] > 20, `Ben's tone is gone from Anna's audio (${annaHears})`);
      const benState = await ben.evaluate(() => ({ ev: window.tafelRoom.events().filter((e) => e.type === 'moderated'),
        pressed: document.getElementById('mic').getAttribute('aria-pressed') }));
      assert.ok(benState.ev.some((e) => e.audio_off), 'Ben\'s client was told');
      assert.strictEqual(benState.pressed, 'true', 'Ben\'s microphone button shows muted');

      // With pupils_unmute off, Ben cannot lift the teacher's mute himself (refused by the server).
      await anna.evaluate(() => window.tafelRoom.send({ type: 'policy', pupils_unmute: false }));
      await waitFor(async () => {
        const st = await ben.evaluate(() => window.tafelRoom.roomState());
        return { ok: st.pupils_unmute === false, st };
      }, 15000, 'the policy to reach Ben');
      const errs = await ben.evaluate(() => window.tafelRoom.events().filter((e) => e.type === 'error').length);
      await ben.evaluate(() => window.tafelRoom.send({ type: 'mute', audio: false, video: false }));
      await waitFor(async () => {
        const e = await ben.evaluate(() => window.tafelRoom.events().filter((x) => x.type === 'error'));
        return { ok: e.length > errs && e[e.length - 1].code === 'forbidden', e };
      }, 15000, 'Ben\'s unmute refused');
      await sleep(1000);
      const still = await clara.evaluate(() => window.tafelRoom.layout().tiles.find((x) => x.name === 'Ben'));
      assert.ok(still.mic_off && still.muted_by_teacher, 'Ben stays muted');
      await anna.evaluate(() => window.tafelRoom.send({ type: 'policy', pupils_unmute: true }));

      // Stop Clara's video: her tile shows the placeholder.
      await anna.evaluate((s) => window.tafelRoom.moderate('stop_video', s), sess.Clara);
      await waitFor(async () => {
        const l = await ben.evaluate(() => window.tafelRoom.layout());
        const t = l && l.tiles.find((x) => x.name === 'Clara');
        return { ok: t && t.camera_off, t };
      }, 15000, 'Clara\'s camera shown stopped');
      let tiles = null;
      await waitFor(async () => {
        tiles = await ben.evaluate(tileColours);
        const c = tiles.find((x) => x.name === 'Clara');
        return { ok: c && dist(c.rgb, PEOPLE[2].rgb) > 90, tiles };
      }, 10000, 'Clara\'s placeholder in Ben\'s picture');
      const cl = tiles.find((x) => x.name === 'Clara'), an = tiles.find((x) => x.name === 'Anna');
      console.log('  Ben sees after Clara\'s video was stopped: ' + tiles.map((x) => `${x.name}=${x.rgb}`).join(' '));
      assert.ok(dist(cl.rgb, PEOPLE[2].rgb) > 90, 'Clara\'s tile no longer shows her camera');
      assert.ok(dist(an.rgb, PEOPLE[0].rgb) < 90, 'Anna\'s tile still shows her camera');

      // Chat: control characters stripped, text never HTML, reaches everybody.
      await ben.evaluate(() => window.tafelRoom.send({ type: 'chat', text: 'Hallo <b>alle</b>\u0007!' }));
      for (const page of [anna, clara]) {
        await waitFor(async () => {
          const c = await page.evaluate(() => ({ log: window.tafelRoom.chat(),
            html: document.getElementById('chat-log').innerHTML }));
          return { ok: c.log.some((m) => m.text === 'Hallo <b>alle</b>!' && m.name === 'Ben') &&
            !c.html.includes('<b>'), c };
        }, 15000, 'Ben\'s chat message');
      }

      // Raise hand: Clara's hand reaches the teacher, who lowers it.
      await clara.evaluate(() => document.getElementById('hand').click());
      await waitFor(async () => {
        const l = await anna.evaluate(() => window.tafelRoom.participants());
        return { ok: l.some((p) => p.name === 'Clara' && p.hand), l };
      }, 15000, 'Clara\'s raised hand at the teacher');
      await anna.evaluate(() => window.tafelRoom.openPanel());
      await sleep(800);
      await anna.screenshot({ path: path.join(DIR, 'moderation-teacher.png'), timeout: 60000 }); // fonts, under load
      await anna.evaluate((s) => window.tafelRoom.send({ type: 'hand', raised: false, target: s }), sess.Clara);
      await waitFor(async () => {
        const p = await clara.evaluate(() => document.getElementById('hand').getAttribute('aria-pressed'));
        return { ok: p === 'false', p };
      }, 15000, 'Clara\'s hand lowered by the teacher');

      // Lock, spotlight and the layout choice reach everybody.
      await anna.evaluate(() => window.tafelRoom.moderate('lock'));
      await waitFor(async () => {
        const st = await ben.evaluate(() => window.tafelRoom.roomState());
        return { ok: st.locked === true, st };
      }, 15000, 'the room shown locked');
      await anna.evaluate(() => window.tafelRoom.moderate('unlock'));
      await anna.evaluate((s) => window.tafelRoom.moderate('spotlight', s), sess.Ben);
      await waitFor(async () => {
        const l = await clara.evaluate(() => window.tafelRoom.layout());
        return { ok: l && l.layout === 'speaker' && l.tiles[0].name === 'Ben' && l.tiles[0].spotlight, l };
      }, 15000, 'Ben in the spotlight');
      await anna.evaluate(() => window.tafelRoom.moderate('spotlight'));
      await anna.evaluate(() => window.tafelRoom.moderate('layout', '', 'speaker'));
      await waitFor(async () => {
        const l = await clara.evaluate(() => window.tafelRoom.layout());
        return { ok: l && l.layout === 'speaker' && !l.tiles.some((x) => x.spotlight), l };
      }, 15000, 'the speaker layout chosen by the teacher');
      await anna.evaluate(() => window.tafelRoom.moderate('layout', '', 'auto'));
      await waitFor(async () => {
        const l = await clara.evaluate(() => window.tafelRoom.layout());
        return { ok: l && l.layout === 'grid', l };
      }, 15000, 'the automatic grid again');

      // Screen sharing: presentation layout with the screen large, for everybody; and back.
      const screenId = await anna.evaluate(() => window.tafelRoom.startScreen());
      assert.ok(screenId, 'a screen session');
      const pres = await waitFor(async () => {
        const l = await ben.evaluate(() => window.tafelRoom.layout());
        return { ok: l && l.layout === 'presentation' && l.tiles[0].screen, l };
      }, 15000, 'the presentation layout with the screen');
      const big = pres.l.tiles[0], small = pres.l.tiles.find((x) => x.name === 'Ben');
      console.log(`  screen tile ${big.w}x${big.h}, Ben's tile ${small.w}x${small.h}`);
      assert.ok(big.w > 2 * small.w, 'the screen is the large tile');
      // The screen session sends its picture and receives nothing (no second copy of the sound).
      assert.deepStrictEqual(await anna.evaluate(() => window.tafelRoom.screenMedia()), ['video:sendonly']);
      // The teacher's picture, not only its labels, shows the presentation: the labels follow the
      // frame the layout is tagged with (rtp_ts), and the large tile holds the shared screen.
      const shown = await waitFor(async () => {
        const r = await anna.evaluate(async () => {
          const l = window.tafelRoom.layout();
          if (!l || l.layout !== 'presentation' || !l.tiles[0].screen) return { l: l && l.layout };
          const v = document.createElement('video');
          v.muted = true;
          v.srcObject = window.tafelRoom.screenStream();
          await v.play();
          const c = document.createElement('canvas');
          c.width = v.videoWidth;
          c.height = v.videoHeight;
          c.getContext('2d').drawImage(v, 0, 0);
          v.srcObject = null;
          const d = c.getContext('2d').getImageData(c.width / 4, c.height / 4, c.width / 2, c.height / 2).data;
          const sum = [0, 0, 0];
          for (let i = 0; i < d.length; i += 4) { sum[0] += d[i]; sum[1] += d[i + 1]; sum[2] += d[i + 2]; }
          return { l: l.layout, sent: sum.map((x) => Math.round(x / (d.length / 4))) };
        });
        if (!r.sent) return r;
        const tile = (await anna.evaluate(tileColours))[0];
        return { ok: dist(tile.rgb, r.sent) < 60, sent: r.sent, seen: tile.rgb, name: tile.name };
      }, 15000, 'the shared screen in the large tile of the teacher\'s picture');
      console.log(`  screen sent ${shown.sent}, seen in the large tile ${shown.seen}`);
      await anna.screenshot({ path: path.join(DIR, 'moderation-screen.png'), timeout: 60000 });
      await anna.evaluate(() => window.tafelRoom.stopScreen());
      await waitFor(async () => {
        const l = await ben.evaluate(() => window.tafelRoom.layout());
        return { ok: l && l.layout === 'grid' && l.tiles.length === 3, l };
      }, 10000, 'the grid again after sharing stopped');

      // The teacher's Remove button asks first, in her German with the name filled in; dismissed,
      // it does nothing.
      let asked = '';
      anna.once('dialog', (d) => { asked = d.message(); d.dismiss(); });
      await anna.evaluate(() => window.tafelRoom.openPanel());
      await anna.click('#participants button[aria-label="Entfernen: Clara"]', { timeout: 10000 });
      assert.strictEqual(asked, 'Clara aus dem Unterricht entfernen?');

      // Remove Clara, then end the lesson: the pupils are told.
      await anna.evaluate((s) => window.tafelRoom.moderate('remove', s), sess.Clara);
      await waitFor(async () => {
        const t = await clara.evaluate(() => !document.getElementById('ended').hidden &&
          document.getElementById('ended-text').textContent);
        return { ok: !!t, t };
      }, 15000, 'Clara told she was removed');
      await anna.evaluate(() => window.tafelRoom.moderate('end'));
      for (const page of [ben, anna]) {
        const r = await waitFor(async () => {
          const t = await page.evaluate(() => !document.getElementById('ended').hidden &&
            document.getElementById('ended-text').textContent);
          return { ok: !!t, t };
        }, 15000, 'the lesson ended');
        console.log('  shown: ' + r.t);
      }
    } finally {
      for (const b of browsers) await b.close();
    }
  });
