// What a first-time user trips over, each with a clear answer: a missing
// or misspelled option, a weak key, a query value the server would refuse,
// a token with another algorithm, and errors checked with instanceof.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { load, KeyholeError } from '../index.js';

const m = await load();
const NOW = 1_700_000_000;
const KEY = 'a-key-of-at-least-32-bytes-long!!';

function throwsCode(f, code, re) {
  assert.throws(f, (err) => {
    assert.ok(err instanceof KeyholeError, `not a KeyholeError: ${err}`);
    assert.equal(err.code, code, err.message);
    assert.match(err.message, re);
    return true;
  });
}

test('a key that is undefined says so', () => {
  throwsCode(() => m.createSigner({ key: undefined }), 'ERR_KEYHOLE_BAD_KEY', /^key is undefined: pass the secret/);
  throwsCode(() => m.createSigner({ keyBase64: undefined, keyId: 'main' }), 'ERR_KEYHOLE_BAD_KEY', /^keyBase64 is undefined/);
  throwsCode(() => m.createSigner({ keyId: 'main' }), 'ERR_KEYHOLE_BAD_KEY', /^the key is missing/);
  throwsCode(() => m.createSigner({ key: KEY, keyBase64: 'AAAA' }), 'ERR_KEYHOLE_BAD_KEY', /not both/);
});

test('misspelled createSigner options are reported by name', () => {
  throwsCode(() => m.createSigner({ key: KEY, keyID: 'main' }), 'ERR_KEYHOLE_BAD_INPUT', /unknown option "keyID" \(did you mean keyId\?\)/);
  throwsCode(() => m.createSigner({ key: KEY, watermark: ['/wm/'] }), 'ERR_KEYHOLE_BAD_INPUT', /unknown option "watermark"; the options are key, keyBase64, keyId, param, watermarks, now, onWarning/);
  throwsCode(() => m.createSigner({ secret: KEY }), 'ERR_KEYHOLE_BAD_INPUT', /unknown option "secret"/);
  throwsCode(() => m.createSigner({ key: KEY, onWarning: 'log' }), 'ERR_KEYHOLE_BAD_INPUT', /onWarning must be a function/);
});

test('query values are checked as the server checks them', () => {
  const s = m.createSigner({ key: KEY, now: () => NOW });
  throwsCode(() => s.sign({ path: '/a.jpg', expiresIn: 60, query: { w: 'wide' } }), 'ERR_KEYHOLE_INVALID_PARAMS', /\bw=wide\b/);
  throwsCode(() => s.sign({ path: '/a.jpg', expiresIn: 60, query: { w: 99999 } }), 'ERR_KEYHOLE_INVALID_PARAMS', /\bw=99999\b/);
  throwsCode(() => s.sign({ path: '/a.jpg', expiresIn: 60, query: new URLSearchParams('q=abc') }), 'ERR_KEYHOLE_INVALID_PARAMS', /\bq=abc\b/);
  throwsCode(() => s.sign({ path: '/a.jpg', expiresIn: 60, query: { text: 'hi' } }), 'ERR_KEYHOLE_INVALID_PARAMS', /token only/);
  throwsCode(() => s.sign({ path: '/a.jpg', expiresIn: 60, query: { jwt: 'x' } }), 'ERR_KEYHOLE_BAD_INPUT', /token parameter/);
  throwsCode(() => s.sign({ path: '/a.jpg', expiresIn: 60, query: { w: {} } }), 'ERR_KEYHOLE_BAD_INPUT', /query\.w: must be a string/);
  const ok = s.sign({ path: '/a.jpg', expiresIn: 60, query: { w: 300, h: '10%' } });
  assert.match(ok.url, /^\/a\.jpg\?h=10%25&w=300&jwt=/);
});

test('a short key signs, with one warning', () => {
  const seen = [];
  for (const opts of [{ key: 'short', keyId: 'k' }, { keyBase64: 'c2hvcnQ' }, { key: new Uint8Array(31) }]) {
    const s = m.createSigner({ ...opts, now: () => NOW, onWarning: (msg) => seen.push(msg) });
    assert.ok(s.sign({ path: '/a.jpg', expiresIn: 60 }).token);
  }
  assert.deepEqual(seen.map((msg) => msg.match(/is (\d+) bytes/)[1]), ['5', '5', '31']);
  assert.match(seen[0], /the key "k" is 5 bytes; use at least 32 random bytes/);
  assert.ok(!seen.some((msg) => msg.includes('short')), 'a warning holds the secret');

  // 32 bytes and more: no warning.
  for (const opts of [{ key: KEY }, { key: new Uint8Array(32) }, { keyBase64: Buffer.alloc(32, 7).toString('base64') }]) {
    m.createSigner({ ...opts, onWarning: (msg) => assert.fail(`warned: ${msg}`) });
  }

  // Without onWarning: console.warn, once per module.
  const warn = console.warn;
  const printed = [];
  console.warn = (msg) => printed.push(msg);
  try {
    m.createSigner({ key: 'short' });
    m.createSigner({ key: 'other-short' });
  } finally {
    console.warn = warn;
  }
  assert.equal(printed.length, 1, printed.join('\n'));
  assert.match(printed[0], /is 5 bytes/);
});

test('decode refuses any algorithm but HS256, "none" first of all', () => {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const claims = b64({ aud: '/', exp: NOW + 60 });
  for (const alg of ['none', 'HS512', 'RS256', 'hs256', '']) {
    for (const sig of ['', 'c2ln']) {
      throwsCode(() => m.decode(`${b64({ alg, typ: 'JWT' })}.${claims}.${sig}`), 'ERR_KEYHOLE_BAD_TOKEN', /algorithm not allowed/);
    }
  }
  // Checked before the claims, as the server does.
  throwsCode(() => m.decode(`${b64({ alg: 'none' })}.${b64({ aud: '/' })}.`), 'ERR_KEYHOLE_BAD_TOKEN', /algorithm not allowed/);
  const tok = m.createSigner({ key: KEY, now: () => NOW }).sign({ path: '/a.jpg', expiresIn: 60 }).token;
  assert.equal(m.decode(tok).header.alg, 'HS256');
});

test('KeyholeError is a class: instanceof, name, code, fields', () => {
  assert.equal(typeof KeyholeError, 'function');
  try {
    m.createSigner({ key: KEY }).sign({ path: '/a.jpg', expiresIn: 60, args: { w: 'x' } });
    assert.fail('no error');
  } catch (err) {
    assert.ok(err instanceof KeyholeError);
    assert.ok(err instanceof Error);
    assert.equal(err.name, 'KeyholeError');
    assert.equal(err.constructor, KeyholeError);
    assert.equal(err.code, 'ERR_KEYHOLE_INVALID_PARAMS');
    assert.deepEqual(err.errors.map((e) => e.name), ['w']);
  }
  const made = new KeyholeError('ERR_KEYHOLE_BAD_INPUT', 'made by hand', { index: 2 });
  assert.ok(made instanceof KeyholeError);
  assert.equal(made.index, 2);
  assert.ok(!(new Error('plain') instanceof KeyholeError));
  assert.ok(!(Object.assign(new Error('other'), { code: 'ERR_OTHER' }) instanceof KeyholeError));

  // The CommonJS entry's class recognises the ES module's errors.
  const cjs = createRequire(import.meta.url)('../index.cjs');
  assert.throws(() => m.createSigner({}), cjs.KeyholeError);
});
