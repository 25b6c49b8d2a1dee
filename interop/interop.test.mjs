// Interop between Keyhole and npm jsonwebtoken, through a real
// `keyhole serve` on loopback:
//   - a token made exactly as Sirv's reference Node.js script makes it
//     (string key, expiresIn, audience, args) opens the protected file;
//   - a URL minted by `keyhole sign` passes jsonwebtoken.verify.
// KEYHOLE_BIN must name a built keyhole binary (interop/test.sh builds it).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { URLSearchParams } from 'node:url';
import jwt from 'jsonwebtoken';

const bin = process.env.KEYHOLE_BIN;
const key = 'topsecret';
const content = 'pretend this is /example-image.jpg\n';
let dir, server, base, config;

before(async () => {
  assert.ok(bin, 'KEYHOLE_BIN is not set');
  dir = mkdtempSync(join(tmpdir(), 'keyhole-interop-'));
  mkdirSync(join(dir, 'files'));
  writeFileSync(join(dir, 'files', 'example-image.jpg'), content);
  config = join(dir, 'keyhole.yaml');
  writeFileSync(config, [
    'root: ./files',
    'metrics_path: ""',
    'protections:',
    '  - path: /',
    '    type: jwt',
    '    keys:',
    '      - id: sirv',
    `        secret: ${key}`,
    '',
  ].join('\n'));
  server = spawn(bin, ['serve', '-config', config, '-addr', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('keyhole serve did not start in 20 s')), 20000);
    let out = '';
    server.stdout.on('data', (chunk) => {
      out += chunk;
      const m = out.match(/keyhole: listening on (http:\/\/\S+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    server.on('exit', (code) => reject(new Error(`keyhole serve exited with ${code}`)));
  });
});

after(() => {
  server?.kill('SIGTERM');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('a token made exactly as the Sirv reference script opens the file', async () => {
  // The reference script, verbatim in substance.
  const filename = '/example-image.jpg';
  const params = new URLSearchParams({ w: '10%', h: '25%' });
  const data = { args: { text: 'Hello' } };
  const token = jwt.sign(data, key, { algorithm: 'HS256', expiresIn: 300, audience: filename });
  params.append('jwt', token);
  const res = await fetch(base + filename + '?' + params.toString());
  assert.equal(res.headers.get('x-keyhole-auth-result'), 'ok');
  // The file is not an image, so the parameters cannot apply: 400 names why.
  assert.equal(res.status, 400);
  assert.match(await res.text(), /not an image/);

  const plain = jwt.sign({}, key, { algorithm: 'HS256', expiresIn: 300, audience: filename });
  const ok = await fetch(`${base}${filename}?jwt=${plain}`);
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get('x-keyhole-auth-result'), 'ok');
  assert.equal(await ok.text(), content);
});

test('jsonwebtoken tokens that must fail, fail with the right result', async () => {
  const cases = [
    ['wrong key', jwt.sign({}, 'othersecret', { expiresIn: 300, audience: '/' }), 'signature mismatch'],
    ['HS512', jwt.sign({}, key, { algorithm: 'HS512', expiresIn: 300, audience: '/' }), 'algorithm not allowed'],
    ['expired', jwt.sign({ exp: Math.floor(Date.now() / 1000) - 3600 }, key, { audience: '/' }), 'expired key'],
    ['no exp', jwt.sign({}, key, { audience: '/' }), 'invalid payload'],
    ['no aud', jwt.sign({}, key, { expiresIn: 300 }), 'invalid payload'],
    ['other file', jwt.sign({}, key, { expiresIn: 300, audience: '/other.jpg' }), 'audience mismatch'],
  ];
  for (const [name, token, want] of cases) {
    const res = await fetch(`${base}/example-image.jpg?jwt=${token}`);
    assert.equal(res.status, 403, name);
    assert.equal(res.headers.get('x-keyhole-auth-result'), want, name);
    assert.equal(await res.text(), want + '\n', name);
  }
});

test('a URL minted by keyhole sign passes jsonwebtoken.verify', () => {
  const url = execFileSync(bin, ['sign', '-config', config, '-key', 'sirv', '-path', '/example-image.jpg',
    '-expires', '5m', '-args', '{"text":"Hello","w":300}', '-query', 'h=100', '-base', base]).toString().trim();
  const token = new URL(url).searchParams.get('jwt');
  const claims = jwt.verify(token, key, { algorithms: ['HS256'], audience: '/example-image.jpg' });
  assert.deepEqual(claims.args, { text: 'Hello', w: 300 });
  assert.equal(claims.aud, '/example-image.jpg');
  assert.ok(claims.exp - claims.iat === 300);
  assert.equal(jwt.decode(token, { complete: true }).header.kid, 'sirv');
});
