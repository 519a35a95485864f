// authz.test.js — the authorization matrix of the teacher's REST controls (no browser): every
// moderator endpoint called by nobody, a pupil (Bearer join token), another teacher, the owner
// without CSRF token, the owner from a foreign Origin, and the owner — every cell asserted.
// Then the cookie itself (flags, logout, forged ids), the WHIP join-token gate, and the PIN
// rate limit (5 wrong tries per 5 minutes per address, then 429 with Retry-After).
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const { startAuthServer, Client } = require('./accounts-server');

const WORK = path.join(process.env.TAFEL_MEDIA_DIR || '/tmp', 'authz');

test('only the room\'s teacher may use the moderator endpoints', { timeout: 60000 }, async () => {
  const srv = await startAuthServer({ dir: WORK, httpPort: 18453, mediaPort: 18454, teachers: [
    { email: 'anna.lehrer@schule.example', name: 'Anna Lehrer', password: 'korrekt-pferd-1' },
    { email: 'bob.lehrer@schule.example', name: 'Bob Lehrer', password: 'batterie-heftklammer-2' }] });
  try {
    const [anna, bob] = srv.teachers;
    const owner = new Client(srv.url), other = new Client(srv.url), nobody = new Client(srv.url);
    const pupil = new Client(srv.url);
    assert.strictEqual((await owner.login(anna.email, 'falsch')).status, 401, 'wrong password');
    assert.strictEqual((await nobody.login('niemand@schule.example', 'x')).status, 401, 'unknown');
    const ok = await owner.login(anna.email, anna.password);
    assert.strictEqual(ok.status, 200);
    assert.strictEqual(ok.json.slug, anna.slug);
    assert.strictEqual((await other.login(bob.email, bob.password)).status, 200);
    const setCookie = ok.headers.get('set-cookie');
    assert.match(setCookie, /^tafel_session=[0-9a-f]{64}; Path=\/; HttpOnly; SameSite=Strict/);
    assert.ok(!/Secure/.test(setCookie), 'no Secure flag over plain HTTP (tests)');

    // A pupil in the lobby (twice: tickets to admit and to deny), one admitted for a token.
    const slug = anna.slug, base = '/api/rooms/' + slug + '/';
    const join = async (name) => (await pupil.req('POST', base + 'join', { fields: { name, pin: anna.pin } })).json;
    const t1 = await join('Kim'), t2 = await join('Lea'), t3 = await join('Max'), t4 = await join('Ole');
    for (const t of [t1, t2, t3, t4]) assert.strictEqual(t.state, 'waiting');
    assert.strictEqual((await owner.req('POST', base + 'admit', { fields: { ticket: t1.ticket } })).status, 200);
    const polled = await pupil.req('GET', base + 'lobby/' + t1.ticket);
    assert.strictEqual(polled.json.state, 'admitted');
    const pupilToken = polled.json.token;
    assert.match(pupilToken, /^[0-9a-f]{64}$/);

    // Every moderator endpoint: [method, path, fields, owner's expected status, check].
    const endpoints = [
      ['GET', 'lobby', null, 200, (r) => r.json.waiting.map((w) => w.name).sort().join() === 'Lea,Max,Ole'],
      ['GET', 'participants', null, 200, (r) => Array.isArray(r.json.participants)],
      ['GET', 'settings', null, 200, (r) => r.json.lobby === 1 && r.json.slug === slug],
      ['POST', 'admit', { ticket: t2.ticket }, 200, null],
      ['POST', 'deny', { ticket: t3.ticket }, 200, null],
      ['POST', 'token', null, 200, (r) => /^[0-9a-f]{64}$/.test(r.json.token)],
      // An empty room: the call gets past authorization and finds nobody to mute.
      ['POST', 'moderate', { action: 'mute', target: 'nobody' }, 404, (r) => r.json.error === 'no-such-participant'],
      ['POST', 'pin', null, 200, (r) => /^\d{6}$/.test(r.json.pin)],
      ['POST', 'settings', { max_participants: '30' }, 200, (r) => r.json.max_participants === 30],
    ];
    const cells = [];
    for (const [method, what, fields, want, check] of endpoints) {
      const p = base + what;
      const f = fields ? { ...fields } : undefined;
      const callers = [
        ['nobody', nobody, {}, 401],
        ['pupil (Bearer join token)', nobody, { bearer: pupilToken }, 403],
        ['pupil (Bearer lobby ticket)', nobody, { bearer: t4.ticket }, 403],
        ['other teacher', other, {}, 403],
      ];
      if (method === 'POST') {
        callers.push(['owner without CSRF token', owner, { csrf: '' }, 403]);
        callers.push(['owner with another session\'s CSRF token', owner, { csrf: other.csrf }, 403]);
        callers.push(['owner from a foreign Origin', owner, { origin: 'https://evil.example' }, 403]);
      }
      for (const [who, client, opts, status] of callers) {
        const r = await client.req(method, p, { fields: f, ...opts });
        cells.push(`${method} ${what} as ${who}: ${r.status}`);
        assert.strictEqual(r.status, status, `${method} ${what} as ${who}: ${r.text}`);
      }
      const r = await owner.req(method, p, { fields: f, origin: srv.url });
      cells.push(`${method} ${what} as owner: ${r.status}`);
      assert.strictEqual(r.status, want, `${method} ${what} as owner: ${r.text}`);
      if (check) assert.ok(check(r), `${method} ${what} as owner answered ${r.text}`);
    }
    console.log('  ' + cells.length + ' cells:\n    ' + cells.join('\n    '));
    // The owner's actions had their effect; the refused ones had none.
    assert.strictEqual((await pupil.req('GET', base + 'lobby/' + t2.ticket)).json.state, 'admitted');
    assert.strictEqual((await pupil.req('GET', base + 'lobby/' + t3.ticket)).json.state, 'denied');
    assert.strictEqual((await pupil.req('POST', base + 'join', { fields: { name: 'X', pin: anna.pin } })).status, 401,
      'the old PIN is gone after the reset');

    // Bob's own room is his: Anna cannot touch it either.
    const bobBase = '/api/rooms/' + bob.slug + '/';
    assert.strictEqual((await owner.req('POST', bobBase + 'pin')).status, 403);
    assert.strictEqual((await other.req('GET', bobBase + 'settings')).status, 200);

    // Forged and hostile cookies are nobody.
    for (const c of ['tafel_session=' + '0'.repeat(64), 'tafel_session=abc',
      owner.cookie + '; ' + other.cookie, 'tafel_session="' + 'a'.repeat(300) + '"',
      owner.cookie + ',x']) {
      const forged = new Client(srv.url);
      forged.cookie = c;
      assert.strictEqual((await forged.req('GET', base + 'settings')).status, 401, 'cookie ' + JSON.stringify(c));
    }

    // WHIP: no token, a used token, another room's token.
    const sdp = 'v=0\r\n';
    const whip = (room, bearer) => nobody.req('POST', '/whip/' + room, { body: sdp, type: 'application/sdp', bearer });
    assert.strictEqual((await whip(slug)).status, 401);
    assert.strictEqual((await whip('klasse-5b')).status, 401, 'no free room names with auth on');
    assert.strictEqual((await whip('echo-selftest')).status, 406, 'self-test rooms need no token');
    const bobToken = (await other.req('POST', bobBase + 'token')).json.token;
    assert.strictEqual((await whip(slug, bobToken)).status, 401, 'a token for another room');
    const t = (await owner.req('POST', base + 'token')).json.token;
    assert.strictEqual((await whip(slug, t)).status, 406, 'a valid token passes the gate (to the codec check)');
    assert.strictEqual((await whip(slug, t)).status, 401, 'and is used up');

    // Logout ends the session on the server, not only in the browser.
    const saved = owner.cookie;
    assert.strictEqual((await owner.req('POST', '/api/logout', { csrf: '' })).status, 403, 'logout needs CSRF');
    assert.strictEqual((await owner.req('POST', '/api/logout')).status, 200);
    const replay = new Client(srv.url);
    replay.cookie = saved;
    assert.strictEqual((await replay.req('GET', '/api/me')).status, 401);

    // Wrong PINs: five are answered 401, then this address is locked out of this room, even
    // with the right PIN (the old PIN tried in Anna's room above does not count here: the limit
    // is per address and room, so one pupil's typos do not lock a whole school's NAT address out).
    const pin = (await other.req('POST', bobBase + 'pin')).json.pin;
    const codes = [];
    let last;
    for (let i = 0; i < 7; i++) {
      last = await pupil.req('POST', bobBase + 'join', { fields: { name: 'Rate', pin: i === 6 ? pin : '00000' + i } });
      codes.push(last.status);
    }
    console.log('  PIN tries: ' + codes.join(' ') + ', Retry-After ' + last.headers.get('retry-after'));
    assert.deepStrictEqual(codes, [401, 401, 401, 401, 401, 429, 429]);
    // Anna's room is still open to this address.
    assert.strictEqual((await pupil.req('POST', base + 'join', { fields: { name: 'Kim', pin: 'x' } })).status, 401);
    const retry = Number(last.headers.get('retry-after'));
    assert.ok(retry > 200 && retry <= 300, 'Retry-After ' + retry);
  } finally {
    assert.strictEqual(await srv.stop(), 0, 'the auth server exits cleanly');
  }
  // Audit: the owners' six changes (two admits, a deny, two PIN resets, settings) and the two
  // add-teacher commands, none of the refused calls. prune-audit 0 deletes (and counts) every
  // event older than now.
  await new Promise((r) => setTimeout(r, 1100));
  const out = require('node:child_process').execFileSync(process.env.TAFEL_BIN,
    ['admin', '--data-dir', srv.data, 'prune-audit', '0']).toString();
  console.log('  ' + out.trim());
  assert.match(out, /^8 audit events deleted/);
});
