// accounts-server.js — starts a second `tafel serve` with school accounts on (auth on, plain
// HTTP on 127.0.0.1) in its own data dir, with local teacher accounts made by `tafel admin`,
// for the tests of logins, PIN joins, the lobby and the teacher's REST controls.
'use strict';
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const BIN = process.env.TAFEL_BIN;

// teachers: [{email, name, password}] -> each gets slug and pin filled in.
async function startAuthServer({ dir, httpPort, mediaPort, teachers, extraArgs = [] }) {
  if (!BIN) throw new Error('TAFEL_BIN is not set (tests/e2e/run.sh sets it)');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const data = path.join(dir, 'data');
  for (const t of teachers) {
    const out = execFileSync(BIN, ['admin', '--data-dir', data, 'add-teacher', t.email, t.name,
      '--password-stdin'], { input: t.password + '\n' }).toString();
    const m = /room (\S+), PIN (\d{6})/.exec(out);
    if (!m) throw new Error('tafel admin add-teacher said: ' + out);
    t.slug = m[1];
    t.pin = m[2];
  }
  const log = fs.openSync(path.join(dir, 'server.log'), 'w');
  const proc = spawn(BIN, ['serve', '--tls', 'off', '--auth', 'on', '--http-port', String(httpPort),
    '--media-port', String(mediaPort), '--data-dir', data, '--log-level', '2', ...extraArgs],
  { stdio: ['ignore', log, log] });
  const url = `http://127.0.0.1:${httpPort}`;
  for (let i = 0; i < 100; i++) {
    try { if ((await fetch(url + '/healthz')).ok) break; } catch (e) { /* not yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  const stop = () => new Promise((resolve) => {
    if (proc.exitCode !== null) return resolve(proc.exitCode);
    proc.on('exit', (code) => resolve(code));
    proc.kill('SIGINT');
  });
  return { url, stop, teachers, data, proc };
}

// A tiny client: cookies kept per client, form-encoded POSTs, optional CSRF and Bearer.
class Client {
  constructor(url) { this.url = url; this.cookie = ''; this.csrf = ''; }
  async req(method, p, { fields, csrf, bearer, origin, body, type } = {}) {
    const headers = {};
    if (this.cookie) headers.Cookie = this.cookie;
    if (csrf !== undefined ? csrf : (method !== 'GET' && this.csrf)) headers['X-CSRF-Token'] = csrf !== undefined ? csrf : this.csrf;
    if (bearer) headers.Authorization = 'Bearer ' + bearer;
    if (origin) headers.Origin = origin;
    let data;
    if (fields) { data = new URLSearchParams(fields).toString(); headers['Content-Type'] = 'application/x-www-form-urlencoded'; }
    if (body !== undefined) { data = body; headers['Content-Type'] = type; }
    const res = await fetch(this.url + p, { method, headers, body: data, redirect: 'manual' });
    const set = res.headers.get('set-cookie');
    if (set) this.cookie = set.split(';')[0].endsWith('=') ? '' : set.split(';')[0];
    const text = await res.text();
    let json = null;
    try { json = JSON.parse(text); } catch (e) { /* not JSON */ }
    return { status: res.status, json, text, headers: res.headers };
  }
  async login(email, password) {
    const r = await this.req('POST', '/api/login', { fields: { email, password } });
    if (r.status === 200) this.csrf = r.json.csrf;
    return r;
  }
}

module.exports = { startAuthServer, Client };
