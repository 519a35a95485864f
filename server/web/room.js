// room.js — the in-room view: joins by WHIP, shows the mixed picture with names from the layout
// metadata and the local preview over one's own tile, mute/unmute, leave, connection quality;
// chat, raise hand, and for teachers the control panel and screen sharing (a second WHIP session,
// send-only, marked as the screen over the WebSocket). window.tafelRoom is what the browser
// tests drive.
'use strict';
(function () {
  const $ = (id) => document.getElementById(id);
  const q = new URLSearchParams(location.search);
  let whip = null, local = null, layout = null, timer = null, selfId = 0, lastBytes = 0, lastAt = 0;
  let ws = null, speaker = 0, tier = null, uplink = null, previewStream = null;
  let role = 'pupil', roomState = {}, participants = [], moderated = {}, hand = false;
  let screen = null, screenSession = '', chatLog = [], lastError = null, roomName = '';
  const events = []; // every server message, for tests

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

  // Layout metadata waits for its picture: the server tags each layout with the RTP timestamp of
  // the first frame drawn in it (rtp_ts), and the labels switch when the video element presents
  // that frame — the WebSocket is faster than the video path (jitter buffer, decoding). Without
  // frames (paused video, a browser without requestVideoFrameCallback) a layout waits 3 s at most.
  let pendingLayouts = [], presentedTs = null, watching = false, received = null;
  const tsNotBefore = (a, b) => ((a - b) | 0) >= 0; // RTP timestamps wrap at 2^32
  function flushLayouts() {
    let next = null;
    const now = performance.now();
    while (pendingLayouts.length && ((presentedTs !== null && tsNotBefore(presentedTs, pendingLayouts[0].rtp_ts)) ||
           now - pendingLayouts[0].receivedAt > 3000)) next = pendingLayouts.shift();
    if (next) { layout = next; showLayout(); }
  }
  function watchFrames() {
    const v = $('mix');
    if (watching || !v.requestVideoFrameCallback) return;
    watching = true;
    const onFrame = (now, meta) => {
      if (typeof meta.rtpTimestamp === 'number') presentedTs = meta.rtpTimestamp >>> 0;
      flushLayouts();
      if (pendingLayouts.length) v.requestVideoFrameCallback(onFrame);
      else watching = false;
    };
    v.requestVideoFrameCallback(onFrame);
  }
  function onLayout(msg) {
    received = msg;
    if (typeof msg.rtp_ts !== 'number' || !$('mix').requestVideoFrameCallback) {
      layout = msg;
      showLayout();
      return;
    }
    msg.receivedAt = performance.now();
    pendingLayouts.push(msg);
    flushLayouts();
    if (pendingLayouts.length) { watchFrames(); setTimeout(flushLayouts, 3100); }
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
      el.textContent = t.name + (t.screen ? ' – ' + window.t('screen') : '') + (t.mic_off ? ' 🔇' : '');
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
      events.push(msg);
      if (msg.type === 'welcome') { selfId = msg.member; setRole(msg.role || 'pupil'); }
      else if (msg.type === 'layout') onLayout(msg);
      else if (msg.type === 'room') { roomState = msg; showRoomState(); }
      else if (msg.type === 'participants') { participants = msg.list; showParticipants(); }
      else if (msg.type === 'moderated') onModerated(msg);
      else if (msg.type === 'chat') addChat(msg);
      else if (msg.type === 'chat-history') { $('chat-log').textContent = ''; chatLog = []; msg.messages.forEach(addChat); }
      else if (msg.type === 'hand') setHand(msg.raised, msg.by_teacher);
      else if (msg.type === 'error') { lastError = msg; notify(msg.message || msg.code); }
      else if (msg.type === 'removed') finish(window.t('removed') + (msg.reason ? ' (' + msg.reason + ')' : ''));
      else if (msg.type === 'ended') finish(window.t('ended'));
      else if (msg.type === 'active-speaker') { speaker = msg.id; showLayout(); }
      else if (msg.type === 'tier') { tier = msg; $('audio-only').hidden = !msg.audio_only; }
      else if (msg.type === 'uplink') applyUplink(msg);
      // The lobby queue changed (teachers only): the panel refreshes now, not at its next poll.
      else if (msg.type === 'lobby' && window.tafelLobby) window.tafelLobby.refresh();
    };
    ws.onclose = () => {
      if (whip) setTimeout(() => { if (whip) connectEvents(session); }, 1000);
    };
  }

  function send(obj) {
    if (ws && ws.readyState === 1) { ws.send(JSON.stringify(obj)); return true; }
    return false;
  }

  let noticeTimer = null;
  function notify(text) {
    $('notice').textContent = text;
    $('notice').hidden = false;
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(() => { $('notice').hidden = true; }, 5000);
  }

  // Removed by the teacher, or the lesson ended: the media stops, a message stays.
  function finish(text) {
    $('ended-text').textContent = text;
    $('ended').hidden = false;
    const w = whip;
    whip = null; // no reconnects; the server closed the session already
    clearInterval(timer);
    stopScreen(false);
    if (w && w.pc) w.pc.close();
    if (local) local.getTracks().forEach((tr) => tr.stop());
    $('ended').querySelector('a').focus();
  }

  function setRole(r) {
    role = r;
    const teacher = role === 'teacher';
    $('teacher-panel').hidden = !teacher;
    $('screen').hidden = !teacher || !navigator.mediaDevices.getDisplayMedia;
    $('hand').hidden = teacher;
  }

  function showRoomState() {
    $('lock').setAttribute('aria-pressed', String(!!roomState.locked));
    $('lock').textContent = window.t(roomState.locked ? 'unlock' : 'lock');
    $('layout-choice').value = roomState.layout || 'auto';
    $('pupils-unmute').checked = roomState.pupils_unmute !== false;
    $('pupils-chat').checked = roomState.pupils_chat !== false;
    const chatAllowed = role === 'teacher' || roomState.pupils_chat !== false;
    $('chat-text').disabled = !chatAllowed;
    $('chat-text').placeholder = chatAllowed ? '' : window.t('chat-off');
  }

  function actButton(label, pressed, onClick) {
    const b = document.createElement('button');
    b.className = 'button small';
    b.textContent = window.t(label);
    if (pressed !== null) b.setAttribute('aria-pressed', String(pressed));
    b.addEventListener('click', onClick);
    return b;
  }

  function moderate(action, target, arg) {
    const m = { type: 'moderate', action };
    if (target) m.target = target;
    if (arg !== undefined) m.arg = arg;
    return send(m);
  }

  // The teacher's list: each participant with its controls (session ids come only to teachers).
  function showParticipants() {
    const ul = $('participants');
    ul.textContent = '';
    // teachers first, then in the order they came
    const sorted = participants.slice().sort((a, b) => (a.role === 'teacher' ? 0 : 1) - (b.role === 'teacher' ? 0 : 1) ||
      a.member - b.member);
    for (const p of sorted) {
      const li = document.createElement('li');
      const who = document.createElement('span');
      who.className = 'who';
      who.textContent = p.name + (p.screen ? ' – ' + window.t('screen') : '') +
        (p.role === 'teacher' ? ' (' + window.t('teacher') + ')' : '');
      li.appendChild(who);
      if (p.hand) {
        const h = document.createElement('span');
        h.className = 'hand-up';
        h.textContent = ' – ' + window.t('hand-up');
        li.appendChild(h);
      }
      li.dataset.session = p.session;
      if (p.member !== selfId && !p.screen) {
        const acts = document.createElement('div');
        acts.className = 'acts';
        acts.appendChild(actButton(p.muted ? 'allow-mic' : 'mute', p.muted,
          () => moderate('mute', p.session, p.muted ? 'off' : 'on')));
        acts.appendChild(actButton(p.camera_stopped ? 'allow-cam' : 'stop-video', p.camera_stopped,
          () => moderate('stop_video', p.session, p.camera_stopped ? 'off' : 'on')));
        const pinned = roomState.spotlight === p.session;
        acts.appendChild(actButton(pinned ? 'unspotlight' : 'spotlight', pinned,
          () => moderate('spotlight', pinned ? '' : p.session)));
        if (p.hand) acts.appendChild(actButton('hand-lower', null,
          () => send({ type: 'hand', raised: false, target: p.session })));
        acts.appendChild(actButton('remove', null, () => {
          if (confirm(window.t('remove-confirm', { name: p.name }))) moderate('remove', p.session);
        }));
        for (const b of acts.children) b.setAttribute('aria-label', b.textContent + ': ' + p.name);
        li.appendChild(acts);
      }
      ul.appendChild(li);
    }
  }

  // The teacher muted us or stopped our camera (or allowed it again): the buttons follow.
  function onModerated(msg) {
    const was = moderated;
    moderated = msg;
    let changed = false;
    for (const [kind, off, button] of [['audio', msg.audio_off, $('mic')], ['video', msg.video_off, $('cam')]]) {
      const track = local && local.getTracks().find((tr) => tr.kind === kind);
      if (off && track && track.enabled) { // switched off here too, so the button tells the truth
        track.enabled = false;
        button.setAttribute('aria-pressed', 'true');
        button.textContent = window.t(kind === 'audio' ? 'mic-on' : 'cam-on');
        changed = true;
      }
    }
    if (changed) sendMute(); // lifted later, the microphone stays off until the pupil turns it on
    if (msg.audio_off && !was.audio_off) notify(window.t('muted-by-teacher'));
    if (msg.video_off && !was.video_off) notify(window.t('camera-stopped-by-teacher'));
    showLayout();
  }

  function addChat(msg) {
    chatLog.push(msg);
    const li = document.createElement('li');
    const from = document.createElement('span');
    from.className = 'from';
    from.textContent = msg.name + (msg.teacher ? ' (' + window.t('teacher') + ')' : '') + ':';
    li.appendChild(from);
    li.appendChild(document.createTextNode(msg.text)); // text, never HTML
    $('chat-log').appendChild(li);
    li.scrollIntoView({ block: 'nearest' });
    if ($('side').hidden && msg.from !== selfId) notify(msg.name + ': ' + msg.text.slice(0, 80));
  }

  function setHand(raised, byTeacher) {
    hand = !!raised;
    $('hand').setAttribute('aria-pressed', String(hand));
    $('hand').textContent = window.t(hand ? 'hand-lower' : 'hand-raise');
    if (!hand && byTeacher) notify(window.t('hand-lowered'));
  }

  // Screen sharing: getDisplayMedia as a second, send-only WHIP session (no renegotiation of the
  // camera's session); the WebSocket tells the room that session's video is the screen.
  async function startScreen() {
    if (screen) return screenSession;
    const stream = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: 8 }, audio: false });
    const track = stream.getVideoTracks()[0];
    if ('contentHint' in track) track.contentHint = 'detail'; // the browser keeps text sharp
    const w = new TafelWhip(roomName, { name: ($('name').value || ''), kinds: ['video'] });
    screen = { whip: w, stream };
    try {
      await w.join(stream, 'sendonly');
    } catch (e) {
      stream.getTracks().forEach((tr) => tr.stop());
      screen = null;
      throw e;
    }
    const m = /\/whip\/[^/]+\/(.+)$/.exec(w.location || '');
    screenSession = m ? m[1] : '';
    send({ type: 'screen', on: true, target: screenSession });
    track.addEventListener('ended', () => stopScreen(true));
    $('screen').setAttribute('aria-pressed', 'true');
    $('screen').textContent = window.t('screen-stop');
    return screenSession;
  }

  async function stopScreen(tell) {
    if (!screen) return;
    const s = screen;
    screen = null;
    if (tell) send({ type: 'screen', on: false, target: screenSession });
    screenSession = '';
    s.stream.getTracks().forEach((tr) => tr.stop());
    await s.whip.leave(); // leaving also ends the presentation in the room
    $('screen').setAttribute('aria-pressed', 'false');
    $('screen').textContent = window.t('screen-start');
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
    roomName = room;
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
    await stopScreen(true);
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
    const may = kind === 'audio' ? moderated.may_unmute : moderated.may_start_video;
    if (track.enabled && ((kind === 'audio' && moderated.audio_off) || (kind === 'video' && moderated.video_off)) &&
        role !== 'teacher' && may === false) {
      track.enabled = false; // the teacher has to allow it; the server would refuse anyway
      notify(window.t(kind === 'audio' ? 'muted-by-teacher' : 'camera-stopped-by-teacher'));
      return;
    }
    button.setAttribute('aria-pressed', String(!track.enabled));
    button.textContent = t(track.enabled ? offLabel : onLabel);
    sendMute();
    showLayout();
  }

  function sendMute() {
    const mic = local.getAudioTracks()[0], cam = local.getVideoTracks()[0];
    send({ type: 'mute', audio: !!mic && !mic.enabled, video: !!cam && !cam.enabled });
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
  $('hand').addEventListener('click', () => send({ type: 'hand', raised: !hand }));
  $('screen').addEventListener('click', () => {
    (screen ? stopScreen(true) : startScreen()).catch((e) => notify(window.t('failed') + e.message));
  });
  $('side-toggle').addEventListener('click', () => {
    $('side').hidden = !$('side').hidden;
    $('side-toggle').setAttribute('aria-expanded', String(!$('side').hidden));
    showLayout();
  });
  $('chat-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const text = $('chat-text').value.trim();
    if (text && send({ type: 'chat', text })) $('chat-text').value = '';
  });
  $('mute-all').addEventListener('click', () => moderate('mute_all'));
  $('lock').addEventListener('click', () => moderate(roomState.locked ? 'unlock' : 'lock'));
  $('layout-choice').addEventListener('change', () => moderate('layout', '', $('layout-choice').value));
  for (const id of ['pupils-unmute', 'pupils-chat']) {
    $(id).addEventListener('change', () => send({ type: 'policy',
      pupils_unmute: $('pupils-unmute').checked, pupils_chat: $('pupils-chat').checked }));
  }
  $('end').addEventListener('click', () => { if (confirm(window.t('end-confirm'))) moderate('end'); });
  $('tap').addEventListener('click', () => { $('mix').play(); $('tap').hidden = true; });
  $('mix').addEventListener('playing', () => { $('tap').hidden = true; });
  $('camera').addEventListener('change', preview);
  $('microphone').addEventListener('change', preview);
  if (!q.get('room') || !q.get('name')) preview();
  // layout(): the layout of the picture shown now; layoutReceived(): the newest from the server
  window.tafelRoom = { join, leave, stats, layout: () => layout, layoutReceived: () => received,
    video: () => $('mix'), presentedRtpTs: () => presentedTs, screenStream: () => (screen ? screen.stream : null),
    pc: () => (whip ? whip.pc : null), tier: () => tier, uplink: () => uplink,
    toggleMic: () => $('mic').click(), toggleCamera: () => $('cam').click(),
    role: () => role, events: () => events, participants: () => participants,
    roomState: () => roomState, chat: () => chatLog, lastError: () => lastError,
    send, moderate, startScreen, stopScreen: () => stopScreen(true),
    // the screen session's media: kind and direction of each transceiver
    screenMedia: () => (screen && screen.whip.pc ? screen.whip.pc.getTransceivers()
      .map((tr) => tr.receiver.track.kind + ':' + tr.currentDirection) : []),
    openPanel: () => { if ($('side').hidden) $('side-toggle').click(); } };
})();
