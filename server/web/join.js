// join.js — a pupil joins a personal room (/r/SLUG leads here): name + PIN, then the lobby wait
// (polling) until the teacher lets them in; the single-use join token goes to the room page
// through sessionStorage (this tab only), where whip.js uses it.
'use strict';
(function () {
  const A = window.tafelAccounts, t = window.t, $ = (id) => document.getElementById(id);
  const room = new URLSearchParams(location.search).get('room') || '';
  let state = 'form';

  function enter(token, name) {
    sessionStorage.setItem('tafel-token:' + room, token);
    state = 'admitted';
    location.assign('/room.html?room=' + encodeURIComponent(room) + '&name=' + encodeURIComponent(name));
  }

  async function wait(ticket, name) {
    state = 'waiting';
    $('join-form').hidden = true;
    $('status').textContent = t('waiting');
    document.body.classList.add('lobby-wait');
    for (;;) {
      await new Promise((r) => setTimeout(r, 1500));
      const r = await A.api('GET', '/api/rooms/' + room + '/lobby/' + ticket);
      if (r.status === 200 && r.body.state === 'waiting') continue;
      document.body.classList.remove('lobby-wait');
      if (r.status === 200 && r.body.state === 'admitted') return enter(r.body.token, name);
      state = 'form';
      $('join-form').hidden = false;
      $('status').textContent = t(r.status === 200 ? 'denied' : 'lobby-gone');
      return;
    }
  }

  $('join-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const name = $('name').value.trim();
    $('status').textContent = '';
    const r = await A.api('POST', '/api/rooms/' + room + '/join', { name, pin: $('pin').value });
    $('pin').value = '';
    if (r.status === 202) return wait(r.body.ticket, name);
    if (r.status === 200) return enter(r.body.token, name);
    $('status').textContent = r.status === 401 ? t('wrong-pin')
      : r.status === 429 ? t('too-many', { s: Math.ceil(r.retryAfter / 60) })
      : r.status === 423 ? t('room-locked') : r.status === 409 ? t('room-full')
      : t('request-failed') + (r.body.detail || r.status);
  });
  window.tafelJoin = { state: () => state };
})();
