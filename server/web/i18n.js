// i18n.js — every German and English text of the web client, t(key, vars) and translate(root) for
// elements marked data-i18n; German unless the browser prefers English. Not the REST calls
// (accounts.js). Load it before the page's other scripts, at the end of <body>.
'use strict';
(function () {
  // The pages are written in German: a data-i18n key the German table lacks keeps the page's
  // own words (e.g. 'pupils-unmute' reads differently on home.html and room.html).
  const en = {
    // start page (index.html)
    'intro': 'Video conferencing for teaching.',
    'selftest': 'Test camera, microphone and connection',
    'enter-room': 'Enter a room', 'dev-note': 'Development mode: school account login follows.',
    // self-test (selftest.html, selftest.js)
    'selftest-title': 'Self-test',
    'selftest-intro': 'Tafel sends your own picture and sound back to you, so you can check camera, microphone and connection before a lesson.',
    'local': 'Your camera', 'remote': 'Back from the server',
    'start': 'Start test', 'stop': 'Stop',
    'rtt': 'Round-trip time', 'loss': 'Packet loss', 'video': 'Video', 'audio': 'Audio',
    'code': 'Result code', 'rate': 'Received bitrate',
    'connecting': 'Connecting…', 'connected': 'Connected: you should see and hear yourself.',
    'failed': 'The connection failed: ', 'stopped': 'Test ended.',
    'no-media': 'Camera or microphone not available: ',
    // room (room.html, room.js)
    'name': 'Your name', 'room': 'Room', 'enter': 'Enter',
    'audio-only': 'Your connection only allows sound right now.', 'tap': 'Turn sound on',
    'mic-off': 'Mute microphone', 'mic-on': 'Unmute microphone', 'cam-off': 'Turn camera off',
    'cam-on': 'Turn camera on', 'leave': 'Leave', 'loss-short': 'loss',
    'camera': 'Camera', 'microphone': 'Microphone',
    // in-room teacher controls, chat, hand, screen (room.js)
    'tp-title': 'Run the lesson', 'mute-all': 'Mute everyone', 'lock': 'Lock room',
    'unlock': 'Unlock room', 'layout': 'View', 'layout-auto': 'Automatic', 'layout-grid': 'Grid',
    'speaker': 'Speaker large', 'presentation': 'Presentation',
    'pupils-unmute': 'Pupils may unmute themselves', 'pupils-chat': 'Pupils may chat',
    'participants': 'Participants', 'end': 'End the lesson',
    'end-confirm': 'End the lesson for everybody?', 'chat': 'Chat', 'chat-message': 'Message',
    'send': 'Send', 'chat-off': 'Chat is switched off', 'home': 'To the start page',
    'hand-raise': 'Raise hand', 'hand-lower': 'Lower hand', 'hand-up': 'hand raised',
    'hand-lowered': 'The teacher lowered your hand.', 'screen-start': 'Share screen',
    'screen-stop': 'Stop sharing', 'screen': 'screen', 'panel': 'Chat & controls',
    'teacher': 'teacher', 'mute': 'Mute', 'allow-mic': 'Allow microphone',
    'stop-video': 'Stop video', 'allow-cam': 'Allow camera', 'spotlight': 'Spotlight',
    'unspotlight': 'End spotlight', 'remove': 'Remove', 'remove-confirm': 'Remove {name} from the lesson?',
    'removed': 'The teacher removed you from the lesson.', 'ended': 'The lesson has ended.',
    'muted-by-teacher': 'The teacher muted your microphone.',
    'camera-stopped-by-teacher': 'The teacher turned your camera off.',
    // the room teacher's lobby queue (lobby-panel.js)
    'queue': 'Waiting in the lobby', 'admit': 'Let in', 'deny': 'Decline',
    // teacher login (login.html, login.js)
    'login-title': 'Teacher login', 'email': 'School e-mail', 'password': 'Password',
    'login': 'Log in', 'oidc-login': 'Log in with the school account', 'wrong-credentials': 'E-mail or password is wrong.',
    'too-many': 'Too many attempts. Please try again in {s} minutes.',
    'unavailable': 'The login service is not available right now.',
    // the teacher's home page (home.html, home.js)
    'home-title': 'My room', 'room-link': 'Link for your pupils', 'open-room': 'Open my room',
    'pin': 'PIN', 'pin-hidden': 'The PIN is stored only as a hash: set a new one to see it.',
    'pin-new': 'New PIN', 'pin-shown': 'New PIN: {pin} — give it to your pupils with the link.',
    'settings': 'Room settings', 'lobby': 'Pupils wait in the lobby until I let them in',
    'pupils-video': 'Pupils may turn on their camera', 'max-participants': 'Maximum participants',
    'default-layout': 'Default view', 'grid': 'Tiles', 'save': 'Save', 'saved': 'Saved.', 'logout': 'Log out',
    'request-failed': 'Failed: ',
    // a pupil's join page (join.html, join.js)
    'join-title': 'Join the lesson', 'your-name': 'Your name', 'join': 'Join',
    'wrong-pin': 'The PIN is not right.', 'room-locked': 'The teacher has locked the room.',
    'room-full': 'The room is full.', 'waiting': 'Please wait: your teacher will let you in shortly.',
    'denied': 'Your teacher did not let you in.', 'lobby-gone': 'The waiting time ran out. Please join again.',
    // support view (support.html, support.js)
    'support-title': 'Technical state of a room', 'support-room': 'Room (from the link …/r/ROOM)',
    'support-intro': 'For support: each participant\'s connection, without names. Ask the teacher for the room link.',
    'support-show': 'Show', 'support-role': 'Role', 'support-conn': 'Connected', 'support-tier': 'Tier',
    'support-loss': 'Loss', 'pupil': 'pupil', 'nobody': 'Nobody in the room.',
    'code-title': 'Self-test result code', 'code-label': 'Code the caller reads out (XXXXX-XXXXX)',
    'code-decode': 'Decode', 'code-browser': 'Browser', 'code-codecs': 'Can receive',
    'code-back': 'Came back', 'code-time': 'Tested at',
    'code-length': 'The code has 10 characters.',
    'code-character': 'The code contains a character that codes do not use.',
    'code-check': 'Typo: the check character does not match. Ask for the code again.',
    'yes': 'yes', 'no': 'no', 'other-browser': 'other', 'code-back-value': 'video {video}, sound {audio}',
  };
  const de = {
    // self-test
    'connecting': 'Verbindung wird aufgebaut…',
    'connected': 'Verbunden: Sie sollten sich sehen und hören.',
    'failed': 'Die Verbindung ist fehlgeschlagen: ', 'stopped': 'Test beendet.',
    'no-media': 'Kamera oder Mikrofon nicht verfügbar: ',
    // room
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
    'remove-confirm': '{name} aus dem Unterricht entfernen?',
    'removed': 'Die Lehrkraft hat Sie aus dem Unterricht entfernt.', 'ended': 'Der Unterricht ist beendet.',
    'muted-by-teacher': 'Die Lehrkraft hat Ihr Mikrofon stummgeschaltet.',
    'camera-stopped-by-teacher': 'Die Lehrkraft hat Ihre Kamera ausgeschaltet.',
    'speaker': 'Sprecher groß', 'presentation': 'Präsentation', 'pupils-chat': 'Schüler dürfen chatten',
    // lobby queue
    'queue': 'Im Warteraum', 'admit': 'Einlassen', 'deny': 'Ablehnen',
    // teacher login
    'login-title': 'Anmeldung für Lehrkräfte', 'email': 'Dienstliche E-Mail', 'password': 'Passwort',
    'login': 'Anmelden', 'oidc-login': 'Mit dem Schulkonto anmelden', 'wrong-credentials': 'E-Mail oder Passwort ist falsch.',
    'too-many': 'Zu viele Versuche. Bitte in {s} Minuten erneut versuchen.',
    'unavailable': 'Die Anmeldung ist gerade nicht erreichbar.',
    // home page
    'home-title': 'Mein Raum', 'room-link': 'Link für Ihre Schülerinnen und Schüler',
    'open-room': 'Meinen Raum öffnen', 'pin': 'PIN',
    'pin-hidden': 'Die PIN ist nur verschlüsselt gespeichert: Legen Sie eine neue fest, um sie zu sehen.',
    'pin-new': 'Neue PIN', 'pin-shown': 'Neue PIN: {pin} – geben Sie sie mit dem Link weiter.',
    'settings': 'Einstellungen des Raums', 'lobby': 'Schüler warten im Warteraum, bis ich sie einlasse',
    'pupils-video': 'Schüler dürfen ihre Kamera einschalten',
    'max-participants': 'Höchstzahl Teilnehmende', 'default-layout': 'Ansicht zu Beginn',
    'grid': 'Kacheln', 'save': 'Speichern', 'saved': 'Gespeichert.', 'logout': 'Abmelden',
    'request-failed': 'Fehlgeschlagen: ',
    // join page
    'join-title': 'Am Unterricht teilnehmen', 'your-name': 'Dein Name', 'join': 'Teilnehmen',
    'wrong-pin': 'Die PIN stimmt nicht.', 'room-locked': 'Die Lehrkraft hat den Raum abgeschlossen.',
    'room-full': 'Der Raum ist voll.', 'waiting': 'Bitte warten: Deine Lehrkraft lässt dich gleich herein.',
    'denied': 'Deine Lehrkraft hat dich nicht hereingelassen.',
    'lobby-gone': 'Die Wartezeit ist abgelaufen. Bitte erneut teilnehmen.',
    // support view
    'pupil': 'Schüler/in', 'nobody': 'Niemand im Raum.',
    'code-length': 'Der Code hat 10 Zeichen.',
    'code-character': 'Der Code enthält ein Zeichen, das es darin nicht gibt.',
    'code-check': 'Tippfehler: die Prüfziffer passt nicht. Bitte noch einmal vorlesen lassen.',
    'yes': 'ja', 'no': 'nein', 'other-browser': 'anderer', 'code-back-value': 'Bild {video}, Ton {audio}',
  };
  const lang = (navigator.language || 'de').toLowerCase().startsWith('en') ? 'en' : 'de';
  const table = lang === 'en' ? en : de;
  // The text of key in the page's language, {var} replaced by vars.var (a missing var: empty);
  // an unknown key is itself.
  const t = (key, vars = {}) => (table[key] || key)
    .replace(/\{(\w+)\}/g, (_, k) => (vars[k] !== undefined ? String(vars[k]) : ''));
  function translate(root = document) {
    root.querySelectorAll('[data-i18n]').forEach((el) => {
      if (table[el.dataset.i18n]) el.textContent = table[el.dataset.i18n];
    });
  }
  document.documentElement.lang = lang;
  window.t = t;
  window.tafelI18n = { t, translate, lang };
  // At the end of <body> the page is there to translate now, before the page's scripts run.
  if (document.body) translate();
  else document.addEventListener('DOMContentLoaded', () => translate());
})();
