// End to end: URLs signed by the WebAssembly package against a real
// `keyhole serve` on loopback (built from ./cmd/keyhole, or $KEYHOLE_BIN).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { load } from '../index.js';
import { startKeyhole, png } from './helpers.mjs';

const image = png(8, 6);
let server;
let m;

before(async () => {
  m = await load();
  server = await startKeyhole({ files: { 'private/a.png': image, 'private/sub/b.txt': 'bee\n', 'public.txt': 'open\n' } });
}, { timeout: 200_000 });

after(async () => {
  await server?.stop();
});

/** get fetches a URL with a bounded wait. */
function get(url) {
  return fetch(url, { signal: AbortSignal.timeout(10_000) });
}

test('a valid signed URL opens the file', async () => {
  const s = m.createSigner({ key: 'topsecret', keyId: 'main' });
  const { url } = s.sign({ path: '/private/a.png', expiresIn: 60, baseUrl: server.base });
  const res = await get(url);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-keyhole-auth-result'), 'ok');
  assert.deepEqual(Buffer.from(await res.arrayBuffer()), image);
});

test('a folder audience opens files below it; signMany URLs all work', async () => {
  const s = m.createSigner({ key: 'topsecret' }); // no kid: the server tries each key
  const [a, b] = s.signMany([
    { path: '/private/sub/b.txt', expiresIn: 60, audience: '/private/', baseUrl: server.base },
    { path: '/private/a.png', expiresIn: 60, audience: '/private/', baseUrl: server.base },
  ]);
  const ra = await get(a.url);
  assert.equal(ra.status, 200);
  assert.equal(await ra.text(), 'bee\n');
  assert.equal((await get(b.url)).status, 200);
});

test('a URL whose expiry is past the leeway is 403 "expired key"', async () => {
  const s = m.createSigner({ key: 'topsecret', keyId: 'main' });
  // The server's leeway is 1 s: an expiry 5 s ago is past it, deterministically.
  const { url, expiresAt } = s.sign({ path: '/private/a.png', expiresAt: new Date(Date.now() - 5000), baseUrl: server.base });
  assert.ok(expiresAt < new Date());
  const res = await get(url);
  assert.equal(res.status, 403);
  assert.equal(res.headers.get('x-keyhole-auth-result'), 'expired key');
});

test('a URL becomes 403 "expired key" once expiresIn and the leeway have passed', { timeout: 15_000 }, async () => {
  const s = m.createSigner({ key: 'topsecret', keyId: 'main' });
  const { url, expiresAt } = s.sign({ path: '/private/sub/b.txt', expiresIn: 1, baseUrl: server.base });
  assert.equal((await get(url)).status, 200);
  // exp is whole seconds; past exp + 1 s leeway the server refuses it.
  const wait = expiresAt.getTime() + 1000 + 1100 - Date.now();
  await new Promise((r) => setTimeout(r, Math.max(0, wait)));
  const res = await get(url);
  assert.equal(res.status, 403);
  assert.equal(res.headers.get('x-keyhole-auth-result'), 'expired key');
});

test('the server refuses a wrong key, a wrong kid and another path', async () => {
  const wrong = m.createSigner({ key: 'not the secret', keyId: 'main' }).sign({ path: '/private/a.png', expiresIn: 60, baseUrl: server.base });
  let res = await get(wrong.url);
  assert.equal(res.status, 403);
  assert.equal(res.headers.get('x-keyhole-auth-result'), 'signature mismatch');

  const kid = m.createSigner({ key: 'topsecret', keyId: 'other' }).sign({ path: '/private/a.png', expiresIn: 60, baseUrl: server.base });
  res = await get(kid.url);
  assert.equal(res.headers.get('x-keyhole-auth-result'), 'unknown key');

  const s = m.createSigner({ key: 'topsecret', keyId: 'main' });
  const { token } = s.sign({ path: '/private/a.png', expiresIn: 60 });
  res = await get(`${server.base}/private/sub/b.txt?jwt=${token}`);
  assert.equal(res.status, 403);
  assert.equal(res.headers.get('x-keyhole-auth-result'), 'audience mismatch');
});
