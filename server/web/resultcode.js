// resultcode.js — the self-test's result code: what a pupil reads to the helpdesk on the phone.
// Ten characters of Crockford base32 (0-9, A-Z without I, L, O, U; case, hyphens and spaces do
// not matter, I and L read as 1, O as 0), shown as XXXXX-XXXXX: nine characters carry 45 bits
// of measurements, the tenth is Crockford's check symbol (the value mod 37, so any one mistyped
// character and any swap of two neighbours is caught; it may be one of * ~ $ = U).
// Used by selftest.js (encode) and support.js (decode), and by the e2e tests under node.
// Not here: measuring (selftest.js) and any network access.
//
// The 45 bits, most significant first:
//   browser  2  0 other, 1 Chromium, 2 Firefox, 3 Safari
//   h264     1  the browser can receive H.264          vp8  1  ... VP8
//   video    1  our own video came back and decoded    audio 1  our own sound came back
//   rtt      8  round-trip time in 5 ms steps (0..1265 ms); 254: 1270 ms or more; 255: none
//   loss     7  packet loss in 0.5 % steps (0..50 %); 101: more than 50 %; 127: none
//   rate     8  received bitrate in 8 kbit/s steps (0..2024); 254: 2032 or more; 255: none
//   minute  16  when: minutes since 1970 mod 65536 (the decoder takes the latest such minute
//               not after its own clock + 5 min: unambiguous for 45 days)
// The self-test page shows the figures as the code carries them (format*), so what the pupil
// sees and what the helpdesk decodes are the same numbers.
'use strict';
(function (root) {
  const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  const CHECK = ALPHABET + '*~$=U';
  const BROWSERS = ['other', 'Chromium', 'Firefox', 'Safari'];
  const FIELDS = [['browser', 2], ['h264', 1], ['vp8', 1], ['video', 1], ['audio', 1],
    ['rtt', 8], ['loss', 7], ['rate', 8], ['minute', 16]]; // 45 bits
  const DATA_CHARS = 9;

  // Measurements -> the quantized fields the code carries (null: not measured).
  function quantize(m) {
    const q = {
      browser: Math.max(0, BROWSERS.indexOf(m.browser)),
      h264: m.h264 ? 1 : 0, vp8: m.vp8 ? 1 : 0, video: m.video ? 1 : 0, audio: m.audio ? 1 : 0,
      rtt: m.rttMs == null ? 255 : Math.min(254, Math.round(m.rttMs / 5)),
      loss: m.lossPercent == null ? 127 : m.lossPercent > 50 ? 101 : Math.round(m.lossPercent * 2),
      rate: m.kbps == null ? 255 : Math.min(254, Math.round(m.kbps / 8)),
      minute: Math.floor((m.timeMs == null ? Date.now() : m.timeMs) / 60000) % 65536,
    };
    return q;
  }

  // The figures a code says, from its fields.
  function figures(q, nowMs) {
    const nowMin = Math.floor((nowMs == null ? Date.now() : nowMs) / 60000) + 5;
    const minute = nowMin - ((((nowMin - q.minute) % 65536) + 65536) % 65536);
    return {
      browser: BROWSERS[q.browser], h264: !!q.h264, vp8: !!q.vp8, video: !!q.video,
      audio: !!q.audio,
      rttMs: q.rtt === 255 ? null : q.rtt * 5, rttAtLeast: q.rtt === 254,
      lossPercent: q.loss === 127 ? null : q.loss > 100 ? 50 : q.loss / 2, lossMore: q.loss > 100,
      kbps: q.rate === 255 ? null : q.rate * 8, kbpsAtLeast: q.rate === 254,
      timeMs: minute * 60000,
    };
  }

  function checkSymbol(value) { return CHECK[value % 37]; }

  // Measurements {browser, h264, vp8, video, audio, rttMs, lossPercent, kbps, timeMs} -> code.
  function encode(m) {
    const q = quantize(m);
    let v = 0;
    for (const [name, bits] of FIELDS) v = v * 2 ** bits + q[name]; // < 2^45: exact in a double
    let s = '';
    for (let i = 0, x = v; i < DATA_CHARS; i++, x = Math.floor(x / 32)) s = ALPHABET[x % 32] + s;
    s += checkSymbol(v);
    return s.slice(0, 5) + '-' + s.slice(5);
  }

  // A code as typed -> {ok: true, code, figures} or {ok: false, error}. error: 'length' (not
  // ten characters), 'character' (one outside the alphabet), 'check' (a typo).
  function decode(text, nowMs) {
    const s = String(text).toUpperCase().replace(/[\s-]/g, '').replace(/[IL]/g, '1')
      .replace(/O/g, '0');
    if (s.length !== DATA_CHARS + 1) return { ok: false, error: 'length' };
    let v = 0;
    for (let i = 0; i < DATA_CHARS; i++) {
      const d = ALPHABET.indexOf(s[i]);
      if (d < 0) return { ok: false, error: 'character' };
      v = v * 32 + d;
    }
    if (CHECK.indexOf(s[DATA_CHARS]) < 0) return { ok: false, error: 'character' };
    if (checkSymbol(v) !== s[DATA_CHARS]) return { ok: false, error: 'check' };
    const q = {};
    for (let i = FIELDS.length - 1, x = v; i >= 0; i--) {
      const m = 2 ** FIELDS[i][1];
      q[FIELDS[i][0]] = x % m;
      x = Math.floor(x / m);
    }
    if (q.browser > 3 || q.loss > 101 && q.loss !== 127) return { ok: false, error: 'check' };
    return { ok: true, code: s.slice(0, 5) + '-' + s.slice(5), figures: figures(q, nowMs) };
  }

  // The display of each figure, the same on the self-test page and the support view.
  const formatRtt = (f) => (f.rttMs == null ? '–' : (f.rttAtLeast ? '≥ ' : '') + f.rttMs + ' ms');
  const formatLoss = (f) => (f.lossPercent == null ? '–'
    : (f.lossMore ? '> ' : '') + f.lossPercent.toFixed(1) + ' %');
  const formatRate = (f) => (f.kbps == null ? '–' : (f.kbpsAtLeast ? '≥ ' : '') + f.kbps + ' kbit/s');

  // What the code will say about m: measurements -> figures, for the self-test's own display.
  function shown(m, nowMs) { return figures(quantize(m), nowMs); }

  // The browser family from a user-agent string.
  function browserOf(ua) {
    if (/Firefox\//.test(ua)) return 'Firefox';
    if (/(Chrome|Chromium|Edg)\//.test(ua)) return 'Chromium';
    if (/Safari\//.test(ua)) return 'Safari';
    return 'other';
  }

  const api = { encode, decode, shown, browserOf, formatRtt, formatLoss, formatRate, ALPHABET };
  if (typeof module === 'object' && module.exports) module.exports = api;
  else root.TafelResultCode = api;
})(typeof window !== 'undefined' ? window : this);
