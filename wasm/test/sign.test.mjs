// Tokens from the WebAssembly signer verify with npm jsonwebtoken and jose,
// and tokens from jsonwebtoken decode through the module unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import jwt from 'jsonwebtoken';
import { jwtVerify, decodeProtectedHeader } from 'jose';
import { load } from '../index.js';

const NOW = 1_700_000_000;
const m = await load();

test('load() without options returns one shared module', async () => {
  assert.equal(await load(), m);
});

test('in Node.js the Go runtime\'s random bytes come from node:crypto, not crypto.getRandomValues', async () => {
  // The first getRandomValues call loads Node's WebCrypto (cold start);
  // index.js gives the runtime randomFillSync instead (core.js,
  // useRandomFill). Without it (makeLoad with no randomFill), the runtime
  // does call getRandomValues, so the count below means something.
  const { readFile } = await import('node:fs/promises');
  const { makeLoad } = await import('../core.js');
  const bytes = await readFile(new URL('../dist/keyhole.wasm', import.meta.url));
  const own = Object.getOwnPropertyDescriptor(globalThis.crypto, 'getRandomValues');
  const orig = globalThis.crypto.getRandomValues;
  let calls = 0;
  globalThis.crypto.getRandomValues = function (a) {
    calls++;
    return orig.call(this, a);
  };
  try {
    const node = await load({ wasm: bytes });
    assert.match(node.createSigner({ key: 'topsecret' }).sign({ path: '/a.jpg', expiresIn: 60 }).token, /^eyJ/);
    assert.equal(calls, 0);
    await makeLoad({ defaultWasm: () => bytes })({ wasm: bytes });
    assert.ok(calls > 0, 'wasm_exec.js asks crypto.getRandomValues');
  } finally {
    if (own) Object.defineProperty(globalThis.crypto, 'getRandomValues', own);
    else delete globalThis.crypto.getRandomValues;
  }
});

test('a string key signs tokens jsonwebtoken verifies: audience, exp, iat, args', () => {
  const s = m.createSigner({ key: 'topsecret', now: () => NOW + 0.75 });
  const args = { text: { text: 'Hello', size: 20, color: 'ff0000' }, w: 300, grayscale: true, 'crop.type': 'smart' };
  const r = s.sign({ path: '/private/a.jpg', expiresIn: 300, args });
  const claims = jwt.verify(r.token, 'topsecret', { algorithms: ['HS256'], audience: '/private/a.jpg', clockTimestamp: NOW + 1 });
  assert.deepEqual(claims, { aud: '/private/a.jpg', exp: NOW + 300, iat: NOW, args });
  assert.deepEqual(r.expiresAt, new Date((NOW + 300) * 1000));
  assert.equal(r.url, `/private/a.jpg?jwt=${r.token}`);
  assert.throws(() => jwt.verify(r.token, 'topsecret', { algorithms: ['HS256'], audience: '/private/a.jpg', clockTimestamp: NOW + 301 }), { name: 'TokenExpiredError' });
  assert.throws(() => jwt.verify(r.token, 'topsecrex', { algorithms: ['HS256'] }), { message: 'invalid signature' });
});

test('jose verifies tokens signed with keyBase64, keyId and an audience prefix', async () => {
  const raw = new Uint8Array(32).map((_, i) => i * 7);
  const s = m.createSigner({ keyBase64: Buffer.from(raw).toString('base64url'), keyId: 'k2', now: () => NOW });
  const r = s.sign({ path: '/private/sub/b.png', expiresAt: new Date((NOW + 60) * 1000), notBefore: NOW - 5, audience: ['/private/sub/', '/other/'] });
  const { payload, protectedHeader } = await jwtVerify(r.token, raw, { algorithms: ['HS256'], currentDate: new Date((NOW + 1) * 1000) });
  assert.deepEqual(protectedHeader, { alg: 'HS256', kid: 'k2', typ: 'JWT' });
  assert.deepEqual(payload, { aud: ['/private/sub/', '/other/'], exp: NOW + 60, iat: NOW, nbf: NOW - 5 });
  assert.deepEqual(decodeProtectedHeader(r.token), protectedHeader);
});

test('a Uint8Array key equals the same bytes as a string key', () => {
  const a = m.createSigner({ key: 'tøpsecret', now: () => NOW });
  const b = m.createSigner({ key: new TextEncoder().encode('tøpsecret'), now: () => NOW });
  const o = { path: '/a.jpg', expiresIn: 10 };
  assert.equal(a.sign(o).token, b.sign(o).token);
  jwt.verify(a.sign(o).token, 'tøpsecret', { clockTimestamp: NOW });
});

test('the reference script\'s jsonwebtoken token decodes identically', () => {
  const key = 'topsecret';
  const data = { args: { text: 'Hello' } };
  const token = jwt.sign(data, key, { algorithm: 'HS256', expiresIn: 300, audience: '/example-image.jpg' });
  const want = jwt.decode(token, { complete: true });
  const got = m.decode(token);
  assert.deepEqual(got, { header: want.header, payload: want.payload });
});

test('URLs: baseUrl, escaped path, query before the token, custom param', () => {
  const s = m.createSigner({ key: 'k', param: 'token', now: () => NOW });
  const r = s.sign({
    path: '/private/a b/ü.jpg',
    expiresIn: 60,
    baseUrl: 'https://img.example.com/files/',
    query: { w: 300, h: '25%', flip: true, tag: ['a', 'b'], skip: undefined },
  });
  assert.equal(r.url, `https://img.example.com/files/private/a%20b/%C3%BC.jpg?flip=true&h=25%25&tag=a&tag=b&w=300&token=${r.token}`);
  const q = new URLSearchParams([['w', '10%']]);
  assert.equal(s.sign({ path: '/a.jpg', expiresIn: 60, query: q }).url, `/a.jpg?w=10%25&token=${s.sign({ path: '/a.jpg', expiresIn: 60 }).token}`);
});

test('signMany returns what repeated sign returns with the same clock', () => {
  const s = m.createSigner({ key: 'topsecret', keyId: 'main', now: () => NOW });
  const list = Array.from({ length: 50 }, (_, i) => ({
    path: `/private/img-${i}.jpg`,
    expiresIn: 60 + i,
    ...(i % 2 ? { args: { w: 100 + i } } : {}),
    ...(i % 3 ? { query: { h: i + 1 } } : {}),
  }));
  const many = s.signMany(list);
  assert.deepEqual(many, list.map((o) => s.sign(o)));
  assert.deepEqual(s.signMany([]), []);
  const big = Array.from({ length: 5000 }, (_, i) => ({ path: `/private/${i}/${'x'.repeat(i % 300)}.jpg`, expiresIn: 60 }));
  const out = s.signMany(big);
  assert.equal(out.length, 5000);
  assert.equal(out[4999].token, s.sign(big[4999]).token);
});

test('the clock is read once per call and iat is whole seconds', () => {
  let calls = 0;
  const s = m.createSigner({ key: 'k', now: () => { calls++; return NOW + 0.999; } });
  s.signMany([{ path: '/a', expiresIn: 1 }, { path: '/b', expiresIn: 1 }]);
  assert.equal(calls, 1);
  const { payload } = m.decode(s.sign({ path: '/a', expiresIn: 1.5 }).token);
  assert.equal(payload.iat, NOW);
  assert.equal(payload.exp, NOW + 1);
});

test('the default clock is the current time', () => {
  const s = m.createSigner({ key: 'k' });
  const before = Math.floor(Date.now() / 1000);
  const { payload } = m.decode(s.sign({ path: '/a', expiresIn: 100 }).token);
  assert.ok(payload.iat >= before && payload.iat <= before + 2, `iat ${payload.iat}, now ${before}`);
  assert.equal(payload.exp, payload.iat + 100);
});

test('validateParams returns [] or what the server\'s 400 lists', () => {
  assert.deepEqual(m.validateParams({}), []);
  assert.deepEqual(m.validateParams({ w: 300, h: '50%', utm_source: 'x' }), []);
  const errs = m.validateParams(new URLSearchParams('w=0&h=abc&w=300'));
  assert.deepEqual(errs.map((e) => [e.name, e.value]), [['h', 'abc'], ['w', '0']]);
  for (const e of errs) assert.match(e.reason, /^must be /);
});

test('args are embedded as given and checked as the server checks them', () => {
  const s = m.createSigner({ key: 'k', now: () => NOW });
  const args = { text: 'Hello', 'text.size': 20, profile: 'thumbs', utm: 'x' };
  assert.deepEqual(m.decode(s.sign({ path: '/a', expiresIn: 1, args }).token).payload.args, args);
  const undef = { w: 100, h: undefined };
  assert.deepEqual(m.decode(s.sign({ path: '/a', expiresIn: 1, args: undef }).token).payload.args, { w: 100 });
});
