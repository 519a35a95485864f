// whip.js — joins a Tafel room with one WHIP request (non-trickle: the offer carries every
// candidate), and leaves with DELETE. Used by every page that sends or receives media.
'use strict';
window.TafelWhip = class {
  constructor(room, { name = '', codec = '', mediaPort = 0, token = '', kinds = ['audio', 'video'] } = {}) {
    this.room = room;
    // The media sections offered: ['video'] with join(stream, 'sendonly') sends a picture and
    // receives nothing (a shared screen must not receive the room's sound a second time).
    this.kinds = kinds;
    this.token = token; // a join token; '' asks window.tafelJoinToken when there is one
    this.name = name;
    this.codec = codec; // '' (browser default order), 'h264' or 'vp8': offer only that codec
    this.mediaPort = mediaPort; // tests: reach the media port through an impairment relay
    this.pc = null;
    this.location = null;
  }

  static preferCodec(transceiver, mime) {
    const caps = RTCRtpReceiver.getCapabilities('video');
    if (!caps || !transceiver.setCodecPreferences) return;
    const want = caps.codecs.filter((c) => c.mimeType.toLowerCase() === mime ||
      /\/(rtx|red|ulpfec)$/i.test(c.mimeType));
    transceiver.setCodecPreferences(want);
  }

  async join(stream, direction = 'sendrecv') {
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
    this.pc = pc;
    for (const kind of this.kinds) {
      const track = stream && stream.getTracks().find((t) => t.kind === kind);
      const tr = track ? pc.addTransceiver(track, { direction, streams: [stream] })
        : pc.addTransceiver(kind, { direction: 'recvonly' });
      if (kind === 'video' && this.codec) TafelWhip.preferCodec(tr, 'video/' + this.codec);
    }
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    await new Promise((resolve) => {
      if (pc.iceGatheringState === 'complete') return resolve();
      const done = () => { if (pc.iceGatheringState === 'complete') resolve(); };
      pc.addEventListener('icegatheringstatechange', done);
      setTimeout(resolve, 2000); // host candidates arrive at once; do not wait for STUN servers
    });
    const q = this.name ? '?name=' + encodeURIComponent(this.name) : '';
    // With school accounts (auth on) the server wants a single-use join token (lobby-panel.js).
    let token = this.token;
    if (!token && window.tafelJoinToken) token = await window.tafelJoinToken(this.room);
    const headers = { 'Content-Type': 'application/sdp' };
    if (token) headers.Authorization = 'Bearer ' + token;
    const res = await fetch('/whip/' + encodeURIComponent(this.room) + q, {
      method: 'POST', headers, body: pc.localDescription.sdp,
    });
    const text = await res.text();
    if (res.status !== 201) {
      let detail = text;
      try { detail = JSON.parse(text).detail || text; } catch (e) { /* not JSON */ }
      throw new Error(res.status + ' ' + detail);
    }
    this.location = res.headers.get('Location');
    let sdp = text;
    if (this.mediaPort) {
      sdp = sdp.replace(/^(a=candidate:\S+ \d+ udp \d+ \S+ )(\d+)/gim, '$1' + this.mediaPort);
    }
    await pc.setRemoteDescription({ type: 'answer', sdp });
    return pc;
  }

  async leave() {
    if (this.location) {
      try { await fetch(this.location, { method: 'DELETE' }); } catch (e) { /* gone already */ }
      this.location = null;
    }
    if (this.pc) { this.pc.close(); this.pc = null; }
  }
};
