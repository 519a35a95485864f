// home.js — the teacher's home page: the personal room's link, a new PIN, the room settings,
// logout. Without a session it goes to the login page.
'use strict';
(function () {
  const A = window.tafelAccounts, t = window.t, $ = (id) => document.getElementById(id);
  let slug = '';
  const flags = ['lobby', 'pupils_unmute', 'pupils_video', 'pupils_chat'];

  async function load() {
    const r = await A.me();
    if (r.status !== 200 || r.body.auth !== 1) { location.replace(r.body.auth === 0 ? '/' : '/login.html'); return; }
    slug = r.body.slug;
    $('who').textContent = r.body.name;
    $('link').textContent = location.origin + '/r/' + slug;
    $('open').href = '/room.html?room=' + encodeURIComponent(slug) + '&name=' + encodeURIComponent(r.body.name);
    const s = await A.api('GET', '/api/rooms/' + slug + '/settings');
    const f = $('settings');
    for (const k of flags) f.elements[k].checked = !!s.body[k];
    f.elements.max_participants.value = s.body.max_participants;
    f.elements.default_layout.value = s.body.default_layout;
    $('home').hidden = false;
  }

  $('pin-reset').addEventListener('click', async () => {
    const r = await A.api('POST', '/api/rooms/' + slug + '/pin');
    $('pin').textContent = r.status === 200 ? t('pin-shown', { pin: r.body.pin }) : t('request-failed') + r.status;
    $('pin').dataset.pin = r.body.pin || '';
  });
  $('settings').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = $('settings'), fields = {};
    for (const k of flags) fields[k] = f.elements[k].checked ? '1' : '0';
    fields.max_participants = f.elements.max_participants.value;
    fields.default_layout = f.elements.default_layout.value;
    const r = await A.api('POST', '/api/rooms/' + slug + '/settings', fields);
    $('saved').textContent = r.status === 200 ? t('saved') : t('request-failed') + (r.body.detail || r.status);
  });
  $('logout').addEventListener('click', async () => {
    await A.api('POST', '/api/logout');
    location.assign('/login.html');
  });
  load();
})();
