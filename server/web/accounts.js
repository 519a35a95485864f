// accounts.js — shared by the account pages (login, home, join, support): api(), a fetch of the
// REST API (docs/api.md) with the CSRF token, and me(). Not their texts (i18n.js, loaded first).
'use strict';
(function () {
  let csrf = '';
  // POST bodies are form-encoded; every POST carries the session's CSRF token.
  async function api(method, path, fields) {
    const opts = { method, headers: {}, credentials: 'same-origin' };
    if (method !== 'GET') {
      opts.headers['X-CSRF-Token'] = csrf;
      opts.body = new URLSearchParams(fields || {});
    }
    const res = await fetch(path, opts);
    let body = {};
    try { body = await res.json(); } catch (e) { /* empty */ }
    return { status: res.status, body, retryAfter: Number(res.headers.get('Retry-After') || 0) };
  }
  async function me() {
    const r = await api('GET', '/api/me');
    if (r.status === 200 && r.body.csrf) csrf = r.body.csrf;
    return r;
  }
  window.tafelAccounts = { api, me, setCsrf: (c) => { csrf = c; } };
})();
