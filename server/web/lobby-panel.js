// lobby-panel.js — in the room page (room.html) of a personal room: for the room's teacher, the
// lobby queue with "let in" / "decline" (polled from the REST API, docs/api.md), and for
// everyone the join token whip.js sends (window.tafelJoinToken). Does nothing in development
// mode. window.tafelLobby is what the browser tests drive.
'use strict';
(function () {
  const q = new URLSearchParams(location.search);
  const room = q.get('room') || '';
  const t = window.t; // i18n.js
  let mePromise = null, waiting = [], panel = null;

  function me() {
    if (!mePromise) {
      mePromise = fetch('/api/me', { credentials: 'same-origin' })
        .then((r) => r.json()).catch(() => ({ auth: 0 }));
    }
    return mePromise;
  }
  async function api(method, path, fields) {
    const m = await me();
    const res = await fetch(path, { method, credentials: 'same-origin',
      headers: method === 'GET' ? {} : { 'X-CSRF-Token': m.csrf || '' },
      body: method === 'GET' ? undefined : new URLSearchParams(fields || {}) });
    let body = {};
    try { body = await res.json(); } catch (e) { /* empty */ }
    return { status: res.status, body };
  }
  const isOwner = async () => { const m = await me(); return m.auth === 1 && m.slug === room; };

  // The token for one WHIP join: a pupil's from the join page (single use, this tab), or a fresh
  // one for the room's teacher (also for a second session such as screen sharing).
  window.tafelJoinToken = async function (r) {
    const key = 'tafel-token:' + r, saved = sessionStorage.getItem(key);
    if (saved) { sessionStorage.removeItem(key); return saved; }
    const m = await me();
    if (m.auth !== 1 || m.slug !== r) return '';
    const res = await api('POST', '/api/rooms/' + r + '/token');
    return res.status === 200 ? res.body.token : '';
  };

  function render() {
    if (!panel) {
      panel = document.createElement('section');
      panel.id = 'lobby-panel';
      panel.setAttribute('aria-live', 'polite');
      Object.assign(panel.style, { position: 'fixed', top: '1rem', right: '1rem', zIndex: 20,
        background: '#fff', color: '#1b2430', padding: '.8rem 1rem', borderRadius: '10px',
        boxShadow: '0 2px 12px rgba(0,0,0,.3)', maxWidth: '22rem' });
      document.body.appendChild(panel);
    }
    panel.hidden = waiting.length === 0;
    panel.textContent = '';
    const h = document.createElement('h2');
    h.textContent = t('queue') + ' (' + waiting.length + ')';
    h.style.fontSize = '1.1rem';
    h.style.margin = '0 0 .5rem';
    panel.appendChild(h);
    for (const w of waiting) {
      const row = document.createElement('div');
      Object.assign(row.style, { display: 'flex', gap: '.5rem', alignItems: 'center', margin: '.3rem 0' });
      const name = document.createElement('span');
      name.textContent = w.name;
      name.style.flex = '1';
      row.appendChild(name);
      for (const [label, act, cls] of [[t('admit'), 'admit', 'button'], [t('deny'), 'deny', 'button secondary']]) {
        const b = document.createElement('button');
        b.className = cls;
        b.textContent = label;
        b.dataset.ticket = w.ticket;
        b.dataset.action = act;
        b.addEventListener('click', () => answer(act, w.ticket));
        row.appendChild(b);
      }
      panel.appendChild(row);
    }
  }

  async function refresh() {
    const r = await api('GET', '/api/rooms/' + room + '/lobby');
    if (r.status === 200) { waiting = r.body.waiting; render(); }
  }
  async function answer(action, ticket) {
    const r = await api('POST', '/api/rooms/' + room + '/' + action, { ticket });
    await refresh();
    return r.status;
  }

  window.tafelLobby = {
    waiting: () => waiting, refresh, isOwner,
    admit: (ticket) => answer('admit', ticket), deny: (ticket) => answer('deny', ticket),
    moderate: async (action, target, arg) =>
      (await api('POST', '/api/rooms/' + room + '/moderate', { action, target: target || '', arg: arg || '' })).status,
    participants: async () => (await api('GET', '/api/rooms/' + room + '/participants')).body.participants,
  };
  isOwner().then((owner) => {
    if (!owner) return;
    refresh();
    setInterval(refresh, 2000);
  });
})();
