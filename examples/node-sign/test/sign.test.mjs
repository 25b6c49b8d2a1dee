// The gallery script signs every path once, escapes what it writes, and
// its URLs open the images on a real keyhole server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { load } from '@keyhole/signer';
import { galleryHTML, escapeHTML } from '../sign.mjs';
import { startKeyhole, png } from '../../../wasm/test/helpers.mjs';

const script = fileURLToPath(new URL('../sign.mjs', import.meta.url));
const NOW = 1_700_000_000;
let m;
let server;
let dir;

before(async () => {
  m = await load();
  dir = await mkdtemp(join(tmpdir(), 'keyhole-gallery-'));
  server = await startKeyhole({ files: { 'private/a.png': png(4, 4), 'private/b c.png': png(3, 2) } });
}, { timeout: 200_000 });

after(async () => {
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** srcs returns the (unescaped) src attributes of the page's images. */
function srcs(html) {
  return [...html.matchAll(/<img src="([^"]*)"/g)].map(([, s]) => s.replaceAll('&#38;', '&'));
}

test('galleryHTML signs each path with its own audience and escapes text', () => {
  const signer = m.createSigner({ key: 'topsecret', now: () => NOW });
  const paths = ['/private/a.png', '/private/<b>.png'];
  const html = galleryHTML(signer, paths, { baseUrl: 'https://img.example.com', expiresIn: 600, width: 200, title: 'Tom & "Jerry"' });
  assert.match(html, /<title>Tom &#38; &#34;Jerry&#34;<\/title>/);
  assert.ok(!html.includes('<b>'));
  const urls = srcs(html);
  assert.equal(urls.length, 2);
  urls.forEach((u, i) => {
    const url = new URL(u);
    assert.equal(url.origin, 'https://img.example.com');
    assert.equal(decodeURIComponent(url.pathname), paths[i]);
    assert.equal(url.searchParams.get('w'), '200');
    const { payload } = m.decode(url.searchParams.get('jwt'));
    assert.deepEqual(payload, { aud: paths[i], exp: NOW + 600, iat: NOW });
  });
  assert.equal(escapeHTML(`<a href="x">'&'</a>`), '&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;');
});

test('the command line writes a page whose URLs open the images', { timeout: 60_000 }, async () => {
  const out = join(dir, 'gallery.html');
  await promisify(execFile)(process.execPath, [script, '--base', server.base, '--key-id', 'main', '--expires-in', '120', '--out', out, '/private/a.png', '/private/b c.png'], {
    env: { ...process.env, KEYHOLE_SECRET: 'topsecret' },
    timeout: 30_000,
  });
  const html = await readFile(out, 'utf8');
  const urls = srcs(html);
  assert.equal(urls.length, 2);
  for (const u of urls) {
    const res = await fetch(u, { signal: AbortSignal.timeout(10_000) });
    assert.equal(res.status, 200, u);
    assert.equal(res.headers.get('content-type'), 'image/png');
  }
});

test('the command line refuses to run without a key, and reports bad paths', { timeout: 60_000 }, async () => {
  const run = (args, env) => promisify(execFile)(process.execPath, [script, ...args], { env: { PATH: process.env.PATH, ...env }, timeout: 30_000 });
  await assert.rejects(run(['/private/a.png'], {}), (err) => err.code === 1 && /KEYHOLE_SECRET/.test(err.stderr));
  await assert.rejects(run(['/private/../a.png'], { KEYHOLE_SECRET: 'k' }), (err) => /ERR_KEYHOLE_BAD_PATH/.test(err.stderr));
});

test('--help prints the usage and exits 0; a bad command line exits 2', async () => {
  for (const flag of ['--help', '-h']) {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [script, flag], { env: {} });
    assert.match(stdout, /^Usage: node sign\.mjs \[options\] PATH\.\.\./);
    assert.match(stdout, /--expires-in S/);
    assert.match(stdout, /Example:/);
    assert.equal(stderr, '');
  }
  for (const [args, re] of [[['--bogus'], /Unknown option '--bogus'.*see node sign\.mjs --help/], [[], /give at least one image path/]]) {
    await assert.rejects(promisify(execFile)(process.execPath, [script, ...args], { env: {} }), (err) => {
      assert.equal(err.code, 2);
      assert.match(err.stderr, re);
      assert.equal(err.stderr.trim().split('\n').length, 1, err.stderr);
      return true;
    });
  }
});
