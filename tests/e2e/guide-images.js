// guide-images.js — keeps the teachers' guides' pictures true (run by run.sh after the browser
// tests; not a *.test.js, so it runs once, last). Every image docs/lehrkraefte.md and
// docs/teachers-guide.md show must be in docs/img/ and be a screenshot some e2e test takes
// (a renamed or removed screen fails here); the screenshots this run took (newer than the run's
// stamp) are scaled for the docs into WORK/guide/, which docs/update-screenshots.sh copies to
// docs/img/. A test that ran but did not take its guide picture fails; with the whole suite run,
// every picture must have come from this run. And every label the guides quote is one the web
// client has (server/web/). Not a check of the pictures' content.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const ROOT = path.resolve(__dirname, '..', '..');
const GUIDES = ['docs/lehrkraefte.md', 'docs/teachers-guide.md'];
const IMG = path.join(ROOT, 'docs', 'img');
const WORK = process.env.TAFEL_E2E_WORK;
const STAMP = process.env.TAFEL_E2E_STAMP;
const WIDTH = 800; // px: legible labels, small files
const all = fs.readdirSync(__dirname).filter((f) => f.endsWith('.test.js')).map((f) => path.join(__dirname, f));
const ran = (process.env.TAFEL_E2E_RAN || '').split(/\s+/).filter(Boolean).map((f) => path.resolve(f));
const fullRun = all.every((f) => ran.includes(f));

// The images a guide shows: ![alt](img/NAME.png).
function referenced(guide) {
  const text = fs.readFileSync(path.join(ROOT, guide), 'utf8');
  return [...text.matchAll(/!\[[^\]]*\]\(img\/([^)\s]+)\)/g)].map((m) => m[1]);
}

// The test files that take a screenshot of that name (the name appears quoted in the source).
function producers(name) {
  return all.filter((f) => {
    const src = fs.readFileSync(f, 'utf8');
    return src.includes(`'${name}'`) || src.includes(`"${name}"`) || src.includes('`' + name + '`');
  });
}

const names = [...new Set(GUIDES.flatMap(referenced))].sort();

test('both guides show the same pictures', () => {
  assert.deepStrictEqual([...new Set(referenced(GUIDES[0]))].sort(), [...new Set(referenced(GUIDES[1]))].sort());
  assert.ok(names.length > 0, 'the guides show screenshots');
});

// (docs/update-screenshots.sh fills docs/img/ after the run, and checks again then.)
test('every picture is in docs/img/, and docs/img/ holds nothing else',
  { skip: process.env.TAFEL_GUIDE_UPDATE ? 'docs/update-screenshots.sh is renewing docs/img/' : false }, () => {
  for (const n of names) assert.ok(fs.existsSync(path.join(IMG, n)), `docs/img/${n} is missing`);
  const extra = fs.readdirSync(IMG).filter((f) => f.endsWith('.png') && !names.includes(f));
  assert.deepStrictEqual(extra, [], 'pictures in docs/img/ no guide shows');
});

test('every picture is a screenshot an e2e test takes', () => {
  for (const n of names) assert.ok(producers(n).length > 0, `no tests/e2e/*.test.js takes ${n}`);
});

// The labels the guides quote („…“ in German, “…” in English) are the web client's own words.
test('every label the guides quote is in the web client', () => {
  const web = path.join(ROOT, 'server', 'web');
  const squash = (t) => t.replace(/\s+/g, ' ');
  const client = squash(fs.readdirSync(web).filter((f) => /\.(html|js)$/.test(f))
    .map((f) => fs.readFileSync(path.join(web, f), 'utf8')).join('\n'));
  const unknown = [];
  for (const [guide, re] of [[GUIDES[0], /„([^“]+)“/g], [GUIDES[1], /“([^”]+)”/g]]) {
    const labels = [...squash(fs.readFileSync(path.join(ROOT, guide), 'utf8')).matchAll(re)].map((m) => m[1]);
    assert.ok(labels.length > 20, guide + ' quotes the labels');
    for (const l of labels) if (l !== '…' && !client.includes(l)) unknown.push(`${guide}: ${l}`);
  }
  assert.deepStrictEqual(unknown, [], 'labels the web client does not have');
});

test('the screenshots of this run, scaled for the guides', { skip: !WORK || !STAMP }, () => {
  const since = fs.statSync(STAMP).mtimeMs;
  const out = path.join(WORK, 'guide');
  fs.mkdirSync(out, { recursive: true });
  const missing = [];
  let copied = 0;
  for (const n of names) {
    const shot = path.join(WORK, n);
    const fresh = fs.existsSync(shot) && fs.statSync(shot).mtimeMs > since;
    const expected = fullRun || producers(n).some((f) => ran.includes(f));
    if (!fresh) {
      if (expected) missing.push(n);
      continue;
    }
    // Scaled to WIDTH, 256-colour palette: a UI screenshot stays sharp at a fraction of the size.
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', shot, '-vf',
      `scale='min(${WIDTH},iw)':-2:flags=lanczos,split[a][b];[a]palettegen=max_colors=256:stats_mode=single[p];` +
      '[b][p]paletteuse=dither=none', '-frames:v', '1', path.join(out, n)]);
    copied++;
  }
  console.log(`  guide pictures from this run: ${copied} of ${names.length} -> ${out}`);
  assert.deepStrictEqual(missing, [], 'guide pictures the tests that ran did not take');
});
