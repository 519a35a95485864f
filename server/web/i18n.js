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
    'code': 'Result code', 'rate': 'Received bitrate',
    'connecting': 'Connecting…', 'connected': 'Connected: you should see and hear yourself.',
    'failed': 'The connection failed: ', 'stopped': 'Test ended.',
    'no-media': 'Camera or microphone not available: ',
    'join-title': 'Enter a room', 'name': 'Your name', 'room': 'Room', 'enter': 'Enter',
    'audio-only': 'Your connection only allows sound right now.', 'tap': 'Turn sound on',
    'mic-off': 'Mute microphone', 'mic-on': 'Unmute microphone', 'cam-off': 'Turn camera off',
    'cam-on': 'Turn camera on', 'leave': 'Leave', 'loss-short': 'loss',
    'camera': 'Camera', 'microphone': 'Microphone',
    // in-room teacher controls, chat, hand, screen (room.js)
    'tp-title': 'Run the lesson', 'mute-all': 'Mute everyone', 'lock': 'Lock room',
    'unlock': 'Unlock room', 'layout': 'View', 'layout-auto': 'Automatic', 'layout-grid': 'Grid',
    'layout-speaker': 'Speaker large', 'layout-presentation': 'Presentation',
    'pupils-unmute': 'Pupils may unmute themselves', 'pupils-chat': 'Pupils may chat',
    'participants': 'Participants', 'end': 'End the lesson',
    'end-confirm': 'End the lesson for everybody?', 'chat': 'Chat', 'chat-message': 'Message',
    'send': 'Send', 'chat-off': 'Chat is switched off', 'home': 'To the start page',
    'hand-raise': 'Raise hand', 'hand-lower': 'Lower hand', 'hand-up': 'hand raised',
    'hand-lowered': 'The teacher lowered your hand.', 'screen-start': 'Share screen',
    'screen-stop': 'Stop sharing', 'screen': 'screen', 'panel': 'Chat & controls',
    'teacher': 'teacher', 'mute': 'Mute', 'allow-mic': 'Allow microphone',
    'stop-video': 'Stop video', 'allow-cam': 'Allow camera', 'spotlight': 'Spotlight',
    'unspotlight': 'End spotlight', 'remove': 'Remove', 'remove-confirm': 'Remove %s from the lesson?',
    'removed': 'The teacher removed you from the lesson.', 'ended': 'The lesson has ended.',
    'muted-by-teacher': 'The teacher muted your microphone.',
    'camera-stopped-by-teacher': 'The teacher turned your camera off.',
  };
  const de = {
    'connecting': 'Verbindung wird aufgebaut…',
    'connected': 'Verbunden: Sie sollten sich sehen und hören.',
    'failed': 'Die Verbindung ist fehlgeschlagen: ', 'stopped': 'Test beendet.',
    'no-media': 'Kamera oder Mikrofon nicht verfügbar: ',
    'mic-off': 'Mikrofon aus', 'mic-on': 'Mikrofon an', 'cam-off': 'Kamera aus',
    'cam-on': 'Kamera an', 'loss-short': 'Verlust', 'camera': 'Kamera', 'microphone': 'Mikrofon',
    // in-room teacher controls, chat, hand, screen (room.js)
    'lock': 'Raum abschließen', 'unlock': 'Raum öffnen', 'end-confirm': 'Den Unterricht für alle beenden?',
    'chat-off': 'Der Chat ist ausgeschaltet', 'hand-raise': 'Hand heben', 'hand-lower': 'Hand senken',
    'hand-up': 'meldet sich', 'hand-lowered': 'Die Lehrkraft hat Ihre Hand gesenkt.',
    'screen-start': 'Bildschirm teilen', 'screen-stop': 'Teilen beenden', 'screen': 'Bildschirm',
    'teacher': 'Lehrkraft', 'mute': 'Stummschalten', 'allow-mic': 'Mikrofon erlauben',
    'stop-video': 'Video stoppen', 'allow-cam': 'Kamera erlauben', 'spotlight': 'Hervorheben',
    'unspotlight': 'Nicht mehr hervorheben', 'remove': 'Entfernen',
    'remove-confirm': '%s aus dem Unterricht entfernen?',
    'removed': 'Die Lehrkraft hat Sie aus dem Unterricht entfernt.', 'ended': 'Der Unterricht ist beendet.',
    'muted-by-teacher': 'Die Lehrkraft hat Ihr Mikrofon stummgeschaltet.',
    'camera-stopped-by-teacher': 'Die Lehrkraft hat Ihre Kamera ausgeschaltet.',
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
