// room.js — the in-room view: joins by WHIP, shows the mixed picture with names from the layout
// metadata and the local preview over one's own tile, mute/unmute, leave, connection quality.
// window.tafelRoom is what the browser tests drive.
'use strict';
(function () {
  const $ = (id) => document.getElementById(id);
  const q = new URLSearchParams(location.search);
  let whip = null, local = null, layout = null, timer = null, selfId = 0, lastBytes = 0, lastAt = 0;

  function showLayout() {
    const wrap = $('canvas-wrap'), video = $('mix'), labels = $('labels');
    labels.textContent = '';
    if (!layout) return;
    const sx = video.clientWidth / layout.width, sy = video.clientHeight / layout.height;
    for (const t of layout.tiles) {
      if (!t.w) continue;
      const el = document.createElement('span');
      el.className = 'label' + (t.speaking ? ' speaking' : '');
      el.textContent = t.name;
      el.style.left = (t.x * sx + 6) + 'px';
      el.style.top = ((t.y + t.h) * sy - 28) + 'px';
      labels.appendChild(el);
      if (t.id === selfId && local && local.getVideoTracks().length) {
        const self = $('self');
        Object.assign(self.style, { left: t.x * sx + 'px', top: t.y * sy + 'px',
          width: t.w * sx + 'px', height: t.h * sy + 'px' });
        self.hidden = false;
      }
    }
    wrap.dataset.tier = layout.tier;
  }

  async function poll() {
    if (!whip || !whip.location) return;
    try {
      const res = await fetch(whip.location);
      if (res.ok) {
        const st = await res.json();
        if (st.layout && JSON.stringify(st.layout) !== JSON.stringify(layout)) {
          layout = st.layout;
          selfId = st.member || selfId;
          showLayout();
        }
      }
    } catch (e) { /* the next poll retries */ }
    const s = await stats();
    if (s && s.video) {
      const now = performance.now(), kbps = lastAt ? 8 * (s.video.bytesReceived - lastBytes) / (now - lastAt) : 0;
      lastBytes = s.video.bytesReceived; lastAt = now;
      const lost = s.video.packetsLost, total = lost + s.video.packetsReceived;
      $('quality').textContent = (layout ? layout.tier : '–') + ' · ' + Math.round(kbps) +
        ' kbit/s · ' + (total ? (100 * lost / total).toFixed(1) : '0.0') + ' % ' + t('loss-short');
    }
  }

  async function stats() {
    if (!whip || !whip.pc) return null;
    const out = { video: null, audio: null };
    (await whip.pc.getStats()).forEach((s) => {
      if (s.type !== 'inbound-rtp') return;
      const v = { packetsReceived: s.packetsReceived || 0, packetsLost: s.packetsLost || 0,
        bytesReceived: s.bytesReceived || 0, framesDecoded: s.framesDecoded || 0,
        width: s.frameWidth || 0, height: s.frameHeight || 0 };
      out[s.kind] = v;
    });
    return out;
  }

  async function join(room, name, opts = {}) {
    local = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 360 }, audio: true });
    whip = new TafelWhip(room, { name, codec: opts.codec || '' });
    const pc = await whip.join(local);
    const remote = new MediaStream();
    pc.getReceivers().forEach((r) => remote.addTrack(r.track));
    $('mix').srcObject = remote;
    $('self').srcObject = local;
    $('join').hidden = true;
    $('stage').hidden = false;
    $('mix').play().catch(() => { $('tap').hidden = false; });
    const m = /\/whip\/[^/]+\/(.+)$/.exec(whip.location || '');
    selfId = 0;
    timer = setInterval(poll, 1000);
    window.addEventListener('resize', showLayout);
    return { room, session: m ? m[1] : '' };
  }

  async function leave() {
    clearInterval(timer);
    if (whip) await whip.leave();
    if (local) local.getTracks().forEach((tr) => tr.stop());
    whip = null;
    $('stage').hidden = true;
    $('join').hidden = false;
  }

  function toggle(kind, button, onLabel, offLabel) {
    const track = local && local.getTracks().find((tr) => tr.kind === kind);
    if (!track) return;
    track.enabled = !track.enabled;
    button.setAttribute('aria-pressed', String(!track.enabled));
    button.textContent = t(track.enabled ? offLabel : onLabel);
  }

  $('room').value = q.get('room') || '';
  $('name').value = q.get('name') || '';
  $('join-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    join($('room').value, $('name').value).catch((e) => { $('join-status').textContent = t('failed') + e.message; });
  });
  $('mic').addEventListener('click', () => toggle('audio', $('mic'), 'mic-on', 'mic-off'));
  $('cam').addEventListener('click', () => toggle('video', $('cam'), 'cam-on', 'cam-off'));
  $('leave').addEventListener('click', () => { leave(); });
  $('tap').addEventListener('click', () => { $('mix').play(); $('tap').hidden = true; });
  if (!q.get('room')) {
    navigator.mediaDevices.getUserMedia({ video: true, audio: false })
      .then((s) => { $('preview').srcObject = s; }).catch(() => {});
  }
  window.tafelRoom = { join, leave, stats, layout: () => layout, video: () => $('mix'),
    pc: () => (whip ? whip.pc : null) };
})();
