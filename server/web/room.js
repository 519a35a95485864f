// room.js — the in-room view: joins by WHIP, shows the mixed picture with names from the layout
// metadata and the local preview over one's own tile, mute/unmute, leave, connection quality.
// window.tafelRoom is what the browser tests drive.
'use strict';
(function () {
  const $ = (id) => document.getElementById(id);
  const q = new URLSearchParams(location.search);
  let whip = null, local = null, layout = null, timer = null, selfId = 0, lastBytes = 0, lastAt = 0;
  let ws = null, speaker = 0, tier = null, uplink = null, previewStream = null;

  // The server says how big our tile is: send no more than that (DESIGN §4 uplink budget).
  async function applyUplink(msg) {
    uplink = msg;
    const sender = whip && whip.pc && whip.pc.getSenders().find((x) => x.track && x.track.kind === 'video');
    if (!sender) return;
    const settings = sender.track.getSettings();
    const params = sender.getParameters();
    if (!params.encodings || !params.encodings.length) params.encodings = [{}];
    const scale = Math.max(1, (settings.width || msg.width) / msg.width);
    params.encodings[0].maxBitrate = msg.kbps * 1000;
    params.encodings[0].scaleResolutionDownBy = scale;
    params.encodings[0].maxFramerate = msg.fps;
    try { await sender.setParameters(params); } catch (e) { /* keep what we had */ }
  }

  function showLayout() {
    const wrap = $('canvas-wrap'), video = $('mix'), labels = $('labels');
    labels.textContent = '';
    if (!layout) return;
    // The picture is letterboxed inside the element (object-fit: contain): find where it is.
    const cw = video.clientWidth, ch = video.clientHeight;
    const scale = Math.min(cw / layout.width, ch / layout.height);
    const ox = video.offsetLeft + (cw - layout.width * scale) / 2;
    const oy = video.offsetTop + (ch - layout.height * scale) / 2;
    let selfShown = false;
    for (const t of layout.tiles) {
      if (!t.w) continue;
      const el = document.createElement('span');
      el.className = 'label' + (t.id === speaker ? ' speaking' : '');
      el.textContent = t.name + (t.mic_off ? ' 🔇' : '');
      el.style.left = (ox + t.x * scale + 6) + 'px';
      el.style.top = (oy + (t.y + t.h) * scale - 30) + 'px';
      labels.appendChild(el);
      const cam = local && local.getVideoTracks().find((tr) => tr.enabled);
      if (t.id === selfId && cam) {
        // Our own tile shows the local preview: no round-trip delay on one's own picture.
        Object.assign($('self').style, { left: ox + t.x * scale + 'px', top: oy + t.y * scale + 'px',
          width: t.w * scale + 'px', height: t.h * scale + 'px' });
        selfShown = true;
      }
    }
    $('self').hidden = !selfShown;
    wrap.dataset.tier = layout.tier;
  }

  // Room events (docs/api.md): layout metadata, active speaker, our own member id.
  function connectEvents(session) {
    const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host +
      '/ws?session=' + encodeURIComponent(session);
    ws = new WebSocket(url, 'tafel-room');
    ws.onmessage = (ev) => {
      let msg;
      try { msg = JSON.parse(ev.data); } catch (e) { return; }
      if (msg.type === 'welcome') selfId = msg.member;
      else if (msg.type === 'layout') { layout = msg; showLayout(); }
      else if (msg.type === 'active-speaker') { speaker = msg.id; showLayout(); }
      else if (msg.type === 'tier') { tier = msg; $('audio-only').hidden = !msg.audio_only; }
      else if (msg.type === 'uplink') applyUplink(msg);
    };
    ws.onclose = () => {
      if (whip) setTimeout(() => { if (whip) connectEvents(session); }, 1000);
    };
  }

  async function poll() {
    if (!$('mix').paused) $('tap').hidden = true;
    const s = await stats();
    if (s && s.video) {
      const now = performance.now(), kbps = lastAt ? 8 * (s.video.bytesReceived - lastBytes) / (now - lastAt) : 0;
      lastBytes = s.video.bytesReceived; lastAt = now;
      const lost = s.video.packetsLost, total = lost + s.video.packetsReceived;
      $('quality').textContent = (tier ? tier.tier : layout ? layout.tier : '–') + ' · ' + Math.round(kbps) +
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

  // The devices chosen on the join screen ('' = the browser's default).
  function constraints() {
    const cam = $('camera').value, mic = $('microphone').value;
    return {
      video: Object.assign({ width: 640, height: 360 }, cam ? { deviceId: { exact: cam } } : {}),
      audio: mic ? { deviceId: { exact: mic } } : true,
    };
  }

  async function listDevices() {
    const devices = await navigator.mediaDevices.enumerateDevices();
    for (const [kind, sel] of [['videoinput', $('camera')], ['audioinput', $('microphone')]]) {
      const keep = sel.value;
      sel.textContent = '';
      devices.filter((d) => d.kind === kind).forEach((d, i) => {
        const o = document.createElement('option');
        o.value = d.deviceId;
        o.textContent = d.label || (kind === 'videoinput' ? t('camera') : t('microphone')) + ' ' + (i + 1);
        sel.appendChild(o);
      });
      if (keep) sel.value = keep;
    }
  }

  async function preview() {
    if (previewStream) previewStream.getTracks().forEach((tr) => tr.stop());
    try {
      previewStream = await navigator.mediaDevices.getUserMedia(constraints());
      $('preview').srcObject = previewStream;
      await listDevices(); // labels are only known once a device is open
    } catch (e) { $('join-status').textContent = t('no-media') + e.message; }
  }

  async function join(room, name, opts = {}) {
    if (previewStream) { previewStream.getTracks().forEach((tr) => tr.stop()); previewStream = null; }
    local = await navigator.mediaDevices.getUserMedia(constraints());
    whip = new TafelWhip(room, { name, codec: opts.codec || '', mediaPort: opts.mediaPort || 0 });
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
    if (m) connectEvents(m[1]);
    timer = setInterval(poll, 1000);
    window.addEventListener('resize', showLayout);
    return { room, session: m ? m[1] : '' };
  }

  async function leave() {
    clearInterval(timer);
    const w = whip;
    whip = null;
    if (ws) { ws.close(); ws = null; }
    if (w) await w.leave();
    if (local) local.getTracks().forEach((tr) => tr.stop());
    $('stage').hidden = true;
    $('join').hidden = false;
  }

  function toggle(kind, button, onLabel, offLabel) {
    const track = local && local.getTracks().find((tr) => tr.kind === kind);
    if (!track) return;
    track.enabled = !track.enabled;
    button.setAttribute('aria-pressed', String(!track.enabled));
    button.textContent = t(track.enabled ? offLabel : onLabel);
    const mic = local.getAudioTracks()[0], cam = local.getVideoTracks()[0];
    if (ws && ws.readyState === 1) {
      ws.send(JSON.stringify({ type: 'mute', audio: !!mic && !mic.enabled, video: !!cam && !cam.enabled }));
    }
    showLayout();
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
  $('mix').addEventListener('playing', () => { $('tap').hidden = true; });
  $('camera').addEventListener('change', preview);
  $('microphone').addEventListener('change', preview);
  if (!q.get('room') || !q.get('name')) preview();
  window.tafelRoom = { join, leave, stats, layout: () => layout, video: () => $('mix'),
    pc: () => (whip ? whip.pc : null), tier: () => tier, uplink: () => uplink,
    toggleMic: () => $('mic').click(), toggleCamera: () => $('cam').click() };
})();
