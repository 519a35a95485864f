// oidc.test.js — teacher login through an OpenID Connect provider (implicit flow, form_post),
// with a stand-in provider on another site (127.0.0.2) that signs ID tokens with a key this test
// generates. In Chromium: login page -> provider -> cross-site POST to the callback -> home page,
// which shows that the SameSite=Strict session cookie works with form_post. Without a browser:
// forged, expired, wrong-audience and wrong-nonce tokens and replayed states are refused.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { launch } = require('./browser');
const { startAuthServer, Client } = require('./accounts-server');

const DIR = process.env.TAFEL_MEDIA_DIR;
const IDP = 'http://127.0.0.2:18475';
const CLIENT = 'tafel-schule';
const b64u = (b) => Buffer.from(b).toString('base64url');

function mint(key, claims, kid = 'k1') {
  const head = b64u(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid }));
  const body = b64u(JSON.stringify(claims));
  const sig = crypto.sign('sha256', Buffer.from(head + '.' + body), key);
  return head + '.' + body + '.' + b64u(sig);
}

test('OpenID Connect login: browser round trip and refused tokens', { timeout: 90000 }, async () => {
  const work = path.join(DIR, 'oidc');
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const forger = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const now = () => Math.floor(Date.now() / 1000);
  const claims = (nonce, extra = {}) => ({ iss: IDP, aud: CLIENT, sub: 'u-4711', nonce,
    email: 'herr.schmidt@schule.example', email_verified: true, name: 'Herr Schmidt',
    iat: now(), exp: now() + 300, ...extra });

  // The stand-in provider: "logs in" at once and posts the ID token back (form_post).
  const idp = http.createServer((req, res) => {
    const u = new URL(req.url, IDP), q = u.searchParams;
    const esc = (s) => String(s).replace(/[&"<>]/g, (c) => `&#${c.charCodeAt(0)};`);
    const token = mint(privateKey, claims(q.get('nonce')));
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end(`<!doctype html><form method="post" action="${esc(q.get('redirect_uri'))}">` +
      `<input type="hidden" name="id_token" value="${esc(token)}">` +
      `<input type="hidden" name="state" value="${esc(q.get('state'))}"></form>` +
      '<script>document.forms[0].submit()</script>');
  });
  await new Promise((r) => idp.listen(18475, '127.0.0.2', r));

  fs.mkdirSync(work, { recursive: true });
  const jwks = path.join(DIR, 'oidc-jwks.json');
  fs.writeFileSync(jwks, JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'RS256', use: 'sig' }] }));
  const srv = await startAuthServer({ dir: work, httpPort: 18473, mediaPort: 18474, teachers: [],
    extraArgs: ['--oidc-issuer', IDP, '--oidc-client-id', CLIENT, '--oidc-jwks-file', jwks,
      '--oidc-authorize-url', IDP + '/authorize'] });
  let browser;
  try {
    browser = await launch();
    const page = await browser.newPage({ locale: 'de-DE' });
    await page.goto(srv.url + '/login.html');
    await page.waitForSelector('#oidc-row:not([hidden])');
    await page.click('#oidc');
    await page.waitForURL(/\/home\.html$/, { timeout: 15000 });
    await page.waitForSelector('#home:not([hidden])', { timeout: 5000 });
    assert.strictEqual(await page.textContent('#who'), 'Herr Schmidt');
    const link = await page.textContent('#link');
    assert.match(link, /\/r\/[a-z0-9]{8}$/, 'a first login creates the teacher\'s room');
    console.log('  browser logged in through the provider; room ' + link);

    // Without a browser: start gives a state; only a valid token with its nonce is accepted.
    const c = new Client(srv.url);
    const begin = async () => {
      const r = await c.req('GET', '/auth/oidc/start');
      assert.strictEqual(r.status, 302);
      const loc = new URL(r.headers.get('location'));
      assert.strictEqual(loc.origin + loc.pathname, IDP + '/authorize');
      assert.strictEqual(loc.searchParams.get('response_mode'), 'form_post');
      assert.strictEqual(loc.searchParams.get('client_id'), CLIENT);
      return { state: loc.searchParams.get('state'), nonce: loc.searchParams.get('nonce') };
    };
    const post = (state, token) => c.req('POST', '/auth/oidc/callback',
      { fields: { state, id_token: token }, origin: IDP });
    const cases = [
      ['forged signature', (n) => mint(forger, claims(n)), 401],
      ['expired', (n) => mint(privateKey, claims(n, { iat: now() - 3600, exp: now() - 1800 })), 401],
      ['wrong audience', (n) => mint(privateKey, claims(n, { aud: 'other-app' })), 401],
      ['wrong issuer', (n) => mint(privateKey, claims(n, { iss: 'https://evil.example' })), 401],
      ['wrong nonce', () => mint(privateKey, claims('0'.repeat(32))), 401],
      ['not a JWT', () => 'abc.def', 401],
    ];
    for (const [what, make, want] of cases) {
      const s = await begin();
      const r = await post(s.state, make(s.nonce));
      assert.strictEqual(r.status, want, what + ': ' + r.text);
      assert.strictEqual(r.headers.get('set-cookie'), null, what + ' sets no cookie');
    }
    const s = await begin();
    const good = mint(privateKey, claims(s.nonce));
    assert.strictEqual((await post('f'.repeat(64), good)).status, 400, 'an unknown state');
    const r = await post(s.state, good);
    assert.strictEqual(r.status, 200, r.text);
    assert.match(r.headers.get('set-cookie'), /^tafel_session=[0-9a-f]{64}; Path=\/; HttpOnly; SameSite=Strict/);
    assert.strictEqual((await c.req('GET', '/api/me')).json.email, 'herr.schmidt@schule.example');
    assert.strictEqual((await post(s.state, good)).status, 400, 'a state is single use');
    console.log('  refused: ' + cases.map((x) => x[0]).join(', ') + ', unknown and replayed state');
  } finally {
    if (browser) await browser.close();
    idp.close();
    assert.strictEqual(await srv.stop(), 0);
  }
});
