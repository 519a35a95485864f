// support.js — the helpdesk's support view (GET /api/support/rooms/ROOM every 2 s): per
// participant role, connection, tier, bitrates (from the byte counters), loss and round-trip
// time; never names. Needs a login whose e-mail is in the server's support-emails. Also decodes
// a pupil's self-test result code (resultcode.js), on the page alone.
'use strict';
(function () {
  const A = window.tafelAccounts, t = window.t, $ = (id) => document.getElementById(id);
  let timer = null, last = null, lastAt = 0, data = null;

  async function poll(room) {
    const r = await A.api('GET', '/api/support/rooms/' + encodeURIComponent(room));
    if (r.status === 401) { location.assign('/login.html'); return; }
    if (r.status !== 200) { $('status').textContent = t('request-failed') + (r.body.detail || r.status); return; }
    const now = performance.now(), dt = (now - lastAt) / 1000, rows = $('rows');
    rows.textContent = '';
    data = r.body.participants;
    for (const p of data) {
      const prev = last && last.find((x) => x.n === p.n);
      const rate = (k) => (prev && dt > 0 ? Math.max(0, Math.round(8 * (p[k] - prev[k]) / dt / 1000)) : '–');
      const cells = [p.n, t(p.role === 'teacher' ? 'teacher' : 'pupil'),
        p.connected ? '✓' : '✗', p.tier || '–', rate('bytes_out'), rate('bytes_in'),
        (p.loss_percent || 0).toFixed(1) + ' %', p.rtt_ms >= 0 ? p.rtt_ms + ' ms' : '–'];
      const tr = document.createElement('tr');
      for (const c of cells) { const td = document.createElement('td'); td.textContent = c; tr.appendChild(td); }
      rows.appendChild(tr);
    }
    last = data;
    lastAt = now;
    $('table').hidden = false;
    $('status').textContent = data.length ? '' : t('nobody');
  }

  $('support-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    clearInterval(timer);
    last = null;
    const room = $('room').value.trim();
    poll(room);
    timer = setInterval(() => poll(room), 2000);
  });
  // The self-test's result code (resultcode.js), decoded here without asking the server.
  function showCode(text) {
    const R = window.TafelResultCode, r = R.decode(text);
    if (!r.ok) {
      $('code-table').hidden = true;
      $('code-status').textContent = t('code-' + r.error); // length, character, check
      return r;
    }
    const f = r.figures, yes = t('yes'), no = t('no');
    $('d-browser').textContent = f.browser === 'other' ? t('other-browser') : f.browser;
    $('d-codecs').textContent = 'H.264 ' + (f.h264 ? yes : no) + ', VP8 ' + (f.vp8 ? yes : no);
    $('d-back').textContent = t('code-back-value', { video: f.video ? yes : no, audio: f.audio ? yes : no });
    $('d-rtt').textContent = R.formatRtt(f);
    $('d-loss').textContent = R.formatLoss(f);
    $('d-rate').textContent = R.formatRate(f);
    $('d-time').textContent = new Date(f.timeMs).toLocaleString(window.tafelI18n.lang === 'de' ? 'de-DE' : 'en-GB',
      { dateStyle: 'short', timeStyle: 'short' });
    $('code-status').textContent = r.code;
    $('code-table').hidden = false;
    return r;
  }
  $('code-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    showCode($('code').value);
  });
  window.tafelSupport = { rows: () => data, decode: showCode };
})();
