// selftest.js — the "test my camera, microphone and connection" page: joins an echo room,
// shows what comes back and the connection's figures, and the result code (resultcode.js) a
// pupil reads to the helpdesk. window.tafelSelftest is what the browser tests drive.
'use strict';
(function () {
  const $ = (id) => document.getElementById(id), R = window.TafelResultCode;
  let whip = null, timer = null, localStream = null;

  async function collect(pc) {
    const out = { dtlsState: '', srtpCipher: '', rttMs: null, video: null, audio: null };
    const report = await pc.getStats();
    report.forEach((s) => {
      if (s.type === 'transport') {
        out.dtlsState = s.dtlsState || '';
        out.srtpCipher = s.srtpCipher || '';
      } else if (s.type === 'candidate-pair' && s.nominated && s.currentRoundTripTime !== undefined) {
        out.rttMs = Math.round(s.currentRoundTripTime * 1000);
      } else if (s.type === 'inbound-rtp') {
        const codec = s.codecId && report.get(s.codecId);
        const v = {
          packetsReceived: s.packetsReceived || 0, packetsLost: s.packetsLost || 0,
          bytesReceived: s.bytesReceived || 0, codec: codec ? codec.mimeType : '',
        };
        if (s.kind === 'video') {
          Object.assign(v, { framesDecoded: s.framesDecoded || 0, width: s.frameWidth || 0,
            height: s.frameHeight || 0 });
          out.video = v;
        } else {
          Object.assign(v, { totalSamplesReceived: s.totalSamplesReceived || 0,
            concealedSamples: s.concealedSamples || 0, audioLevel: s.audioLevel || 0 });
          out.audio = v;
        }
      }
    });
    return out;
  }

  // What the browser can receive (for the result code): H.264 and VP8 in its capabilities.
  function canReceive() {
    const caps = window.RTCRtpReceiver && RTCRtpReceiver.getCapabilities &&
      RTCRtpReceiver.getCapabilities('video');
    const mimes = caps ? caps.codecs.map((c) => c.mimeType.toLowerCase()) : [];
    return { h264: mimes.includes('video/h264'), vp8: mimes.includes('video/vp8') };
  }

  // The measurements of one refresh, as resultcode.js takes them. kbps: everything received
  // (video + audio) since the previous refresh.
  let prevBytes = null, prevAt = 0, last = null;
  function measure(st) {
    const lost = (st.video ? st.video.packetsLost : 0) + (st.audio ? st.audio.packetsLost : 0);
    const recv = (st.video ? st.video.packetsReceived : 0) + (st.audio ? st.audio.packetsReceived : 0);
    const bytes = (st.video ? st.video.bytesReceived : 0) + (st.audio ? st.audio.bytesReceived : 0);
    const now = performance.now();
    const kbps = prevBytes !== null && now > prevAt ? 8 * (bytes - prevBytes) / (now - prevAt) : null;
    prevBytes = bytes;
    prevAt = now;
    return Object.assign({
      browser: R.browserOf(navigator.userAgent),
      video: !!(st.video && st.video.framesDecoded > 0),
      audio: !!(st.audio && st.audio.packetsReceived > 0),
      rttMs: st.rttMs, lossPercent: recv ? 100 * Math.max(0, lost) / (Math.max(0, lost) + recv) : null,
      kbps, timeMs: Date.now(),
    }, canReceive());
  }

  async function refresh() {
    if (!whip || !whip.pc) return;
    const st = await collect(whip.pc);
    const m = measure(st), f = R.shown(m);
    // Every figure as the result code carries it, so the helpdesk decodes what is shown here.
    $('s-rtt').textContent = R.formatRtt(f);
    $('s-loss').textContent = R.formatLoss(f);
    $('s-rate').textContent = R.formatRate(f);
    $('s-video').textContent = st.video ? st.video.codec + ', ' + st.video.width + '×' +
      st.video.height + ', ' + st.video.framesDecoded + ' frames' : '–';
    $('s-audio').textContent = st.audio ? st.audio.codec + ', ' + st.audio.packetsReceived + ' packets' : '–';
    $('s-code').textContent = R.encode(m);
    last = { code: $('s-code').textContent, rtt: $('s-rtt').textContent,
      loss: $('s-loss').textContent, rate: $('s-rate').textContent, measured: m };
  }

  async function start(opts = {}) {
    $('start').disabled = true;
    $('status').textContent = t('connecting');
    try {
      localStream = await navigator.mediaDevices.getUserMedia({
        video: { width: 640, height: 360 }, audio: true });
    } catch (e) {
      $('status').textContent = t('no-media') + e.message;
      $('start').disabled = false;
      throw e;
    }
    $('local').srcObject = localStream;
    const room = 'echo-' + Math.random().toString(36).slice(2, 10);
    whip = new TafelWhip(room, { name: opts.name || 'selftest', codec: opts.codec || '' });
    const remote = new MediaStream();
    try {
      const pc = await whip.join(localStream);
      pc.addEventListener('track', (ev) => { remote.addTrack(ev.track); });
      pc.getReceivers().forEach((r) => remote.addTrack(r.track));
      $('remote').srcObject = remote;
      $('remote').play().catch(() => { /* needs a tap on iPad; the button was one */ });
      pc.addEventListener('connectionstatechange', () => {
        if (pc.connectionState === 'connected') $('status').textContent = t('connected');
        if (pc.connectionState === 'failed') $('status').textContent = t('failed') + 'ICE/DTLS';
      });
    } catch (e) {
      $('status').textContent = t('failed') + e.message;
      $('start').disabled = false;
      throw e;
    }
    $('stats').hidden = false;
    $('stop').disabled = false;
    timer = setInterval(refresh, 1000);
    return room;
  }

  async function stop() {
    clearInterval(timer);
    if (whip) await whip.leave();
    if (localStream) localStream.getTracks().forEach((tr) => tr.stop());
    whip = null;
    prevBytes = null;
    $('status').textContent = t('stopped');
    $('start').disabled = false;
    $('stop').disabled = true;
  }

  $('start').addEventListener('click', () => { start().catch(() => {}); });
  $('stop').addEventListener('click', () => { stop(); });
  window.tafelSelftest = {
    start, stop,
    stats: () => (whip && whip.pc ? collect(whip.pc) : Promise.resolve(null)),
    // The last refresh: the code and the figures shown with it (one consistent set).
    result: () => last,
  };
})();
