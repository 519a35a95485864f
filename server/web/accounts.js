// accounts.js — shared by the account pages (login, home, join) and lobby-panel.js: German and
// English texts for them, and api(): a fetch of the REST API (docs/api.md) with the CSRF token.
'use strict';
(function () {
  const en = {
    'login-title': 'Teacher login', 'email': 'School e-mail', 'password': 'Password',
    'login': 'Log in', 'oidc-login': 'Log in with the school account', 'wrong-credentials': 'E-mail or password is wrong.',
    'too-many': 'Too many attempts. Please try again in {s} minutes.',
    'unavailable': 'The login service is not available right now.',
    'home-title': 'My room', 'room-link': 'Link for your pupils', 'open-room': 'Open my room',
    'pin': 'PIN', 'pin-hidden': 'The PIN is stored only as a hash: set a new one to see it.',
    'pin-new': 'New PIN', 'pin-shown': 'New PIN: {pin} — give it to your pupils with the link.',
    'settings': 'Room settings', 'lobby': 'Pupils wait in the lobby until I let them in',
    'pupils-unmute': 'Pupils may unmute themselves', 'pupils-video': 'Pupils may turn on their camera',
    'pupils-chat': 'Pupils may chat', 'max-participants': 'Maximum participants',
    'default-layout': 'Default view', 'grid': 'Tiles', 'speaker': 'Speaker large',
    'presentation': 'Presentation', 'save': 'Save', 'saved': 'Saved.', 'logout': 'Log out',
    'join-title': 'Join the lesson', 'your-name': 'Your name', 'join': 'Join',
    'wrong-pin': 'The PIN is not right.', 'room-locked': 'The teacher has locked the room.',
    'room-full': 'The room is full.', 'waiting': 'Please wait: your teacher will let you in shortly.',
    'denied': 'Your teacher did not let you in.', 'lobby-gone': 'The waiting time ran out. Please join again.',
    'queue': 'Waiting in the lobby', 'admit': 'Let in', 'deny': 'Decline', 'failed': 'Failed: ',
    'support-title': 'Technical state of a room', 'support-room': 'Room (from the link …/r/ROOM)',
    'support-intro': 'For support: each participant\'s connection, without names. Ask the teacher for the room link.',
    'support-show': 'Show', 'support-role': 'Role', 'support-conn': 'Connected', 'support-tier': 'Tier',
    'support-loss': 'Loss',
    'code-title': 'Self-test result code', 'code-label': 'Code the caller reads out (XXXXX-XXXXX)',
    'code-decode': 'Decode', 'code-browser': 'Browser', 'code-codecs': 'Can receive',
    'code-back': 'Came back', 'code-rtt': 'Round-trip time', 'code-loss': 'Packet loss',
    'code-rate': 'Received bitrate', 'code-time': 'Tested at',
  };
  const de = {
    'login-title': 'Anmeldung für Lehrkräfte', 'email': 'Dienstliche E-Mail', 'password': 'Passwort',
    'login': 'Anmelden', 'oidc-login': 'Mit dem Schulkonto anmelden', 'wrong-credentials': 'E-Mail oder Passwort ist falsch.',
    'too-many': 'Zu viele Versuche. Bitte in {s} Minuten erneut versuchen.',
    'unavailable': 'Die Anmeldung ist gerade nicht erreichbar.',
    'home-title': 'Mein Raum', 'room-link': 'Link für Ihre Schülerinnen und Schüler',
    'open-room': 'Meinen Raum öffnen', 'pin': 'PIN',
    'pin-hidden': 'Die PIN ist nur verschlüsselt gespeichert: Legen Sie eine neue fest, um sie zu sehen.',
    'pin-new': 'Neue PIN', 'pin-shown': 'Neue PIN: {pin} – geben Sie sie mit dem Link weiter.',
    'settings': 'Einstellungen des Raums', 'lobby': 'Schüler warten im Warteraum, bis ich sie einlasse',
    'pupils-unmute': 'Schüler dürfen ihr Mikrofon selbst einschalten',
    'pupils-video': 'Schüler dürfen ihre Kamera einschalten', 'pupils-chat': 'Schüler dürfen chatten',
    'max-participants': 'Höchstzahl Teilnehmende', 'default-layout': 'Ansicht zu Beginn',
    'grid': 'Kacheln', 'speaker': 'Sprecher groß', 'presentation': 'Präsentation',
    'save': 'Speichern', 'saved': 'Gespeichert.', 'logout': 'Abmelden',
    'join-title': 'Am Unterricht teilnehmen', 'your-name': 'Dein Name', 'join': 'Teilnehmen',
    'wrong-pin': 'Die PIN stimmt nicht.', 'room-locked': 'Die Lehrkraft hat den Raum abgeschlossen.',
    'room-full': 'Der Raum ist voll.', 'waiting': 'Bitte warten: Deine Lehrkraft lässt dich gleich herein.',
    'denied': 'Deine Lehrkraft hat dich nicht hereingelassen.',
    'lobby-gone': 'Die Wartezeit ist abgelaufen. Bitte erneut teilnehmen.',
    'queue': 'Im Warteraum', 'admit': 'Einlassen', 'deny': 'Ablehnen', 'failed': 'Fehlgeschlagen: ',
  };
  const lang = (navigator.language || 'de').toLowerCase().startsWith('en') ? 'en' : 'de';
  const text = (key, vars = {}) => ((lang === 'en' ? en : de)[key] || key)
    .replace(/\{(\w+)\}/g, (_, k) => (vars[k] !== undefined ? vars[k] : ''));
  // The pages are written in German; only texts the current language's table has are replaced.
  function translate(root = document) {
    const table = lang === 'en' ? en : de;
    root.querySelectorAll('[data-a11n]').forEach((el) => {
      if (table[el.dataset.a11n]) el.textContent = table[el.dataset.a11n];
    });
  }
  let csrf = '';
  // POST bodies are form-encoded; every POST carries the session's CSRF token.
  async function api(method, path, fields) {
    const opts = { method, headers: {}, credentials: 'same-origin' };
    if (method !== 'GET') {
      opts.headers['X-CSRF-Token'] = csrf;
      opts.body = new URLSearchParams(fields || {});
    }
    const res = await fetch(path, opts);
    let body = {};
    try { body = await res.json(); } catch (e) { /* empty */ }
    return { status: res.status, body, retryAfter: Number(res.headers.get('Retry-After') || 0) };
  }
  async function me() {
    const r = await api('GET', '/api/me');
    if (r.status === 200 && r.body.csrf) csrf = r.body.csrf;
    return r;
  }
  document.documentElement.lang = lang;
  window.tafelAccounts = { text, translate, api, me, setCsrf: (c) => { csrf = c; } };
  if (document.readyState !== 'loading') translate();
  else document.addEventListener('DOMContentLoaded', () => translate());
})();
