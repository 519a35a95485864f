// i18n.js — German and English labels; German unless the browser prefers English.
'use strict';
(function () {
  const en = {
    'intro': 'Video conferencing for teaching.',
    'selftest': 'Test camera, microphone and connection',
    'enter-room': 'Enter a room', 'dev-note': 'Development mode: school account login follows.',
    'selftest-title': 'Self-test',
    'selftest-intro': 'Tafel sends your own picture and sound back to you, so you can check camera, microphone and connection before a lesson.',
    'local': 'Your camera', 'remote': 'Back from the server',
    'start': 'Start test', 'stop': 'Stop',
    'rtt': 'Round-trip time', 'loss': 'Packet loss', 'video': 'Video', 'audio': 'Audio',
    'code': 'Result code',
    'connecting': 'Connecting…', 'connected': 'Connected: you should see and hear yourself.',
    'failed': 'The connection failed: ', 'stopped': 'Test ended.',
    'no-media': 'Camera or microphone not available: ',
    'join-title': 'Enter a room', 'name': 'Your name', 'room': 'Room', 'enter': 'Enter',
    'audio-only': 'Your connection only allows sound right now.', 'tap': 'Turn sound on',
    'mic-off': 'Mute microphone', 'mic-on': 'Unmute microphone', 'cam-off': 'Turn camera off',
    'cam-on': 'Turn camera on', 'leave': 'Leave', 'loss-short': 'loss',
    'camera': 'Camera', 'microphone': 'Microphone',
  };
  const de = {
    'connecting': 'Verbindung wird aufgebaut…',
    'connected': 'Verbunden: Sie sollten sich sehen und hören.',
    'failed': 'Die Verbindung ist fehlgeschlagen: ', 'stopped': 'Test beendet.',
    'no-media': 'Kamera oder Mikrofon nicht verfügbar: ',
    'mic-off': 'Mikrofon aus', 'mic-on': 'Mikrofon an', 'cam-off': 'Kamera aus',
    'cam-on': 'Kamera an', 'loss-short': 'Verlust', 'camera': 'Kamera', 'microphone': 'Mikrofon',
  };
  const lang = (navigator.language || 'de').toLowerCase().startsWith('en') ? 'en' : 'de';
  document.documentElement.lang = lang;
  window.t = (key) => (lang === 'en' ? en[key] : de[key]) || key;
  if (lang === 'en') {
    document.querySelectorAll('[data-i18n]').forEach((el) => {
      const v = en[el.dataset.i18n];
      if (v) el.textContent = v;
    });
  }
})();
