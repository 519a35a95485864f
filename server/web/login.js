// login.js — the teacher login page: e-mail + password to /api/login, then the home page.
'use strict';
(function () {
  const A = window.tafelAccounts, t = window.t, $ = (id) => document.getElementById(id);
  A.me().then((r) => {
    if (r.status === 200 && r.body.auth === 1) location.replace('/home.html');
    if (r.body.oidc === 1) $('oidc-row').hidden = false; // the school's identity provider
  });
  $('login-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    $('status').textContent = '';
    const r = await A.api('POST', '/api/login', { email: $('email').value, password: $('password').value });
    if (r.status === 200) { location.assign('/home.html'); return; }
    $('password').value = '';
    $('status').textContent = r.status === 401 ? t('wrong-credentials')
      : r.status === 429 ? t('too-many', { s: Math.ceil(r.retryAfter / 60) }) : t('unavailable');
  });
})();
