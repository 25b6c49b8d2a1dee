// Every failure is a JavaScript Error with a .code, and no input, however
// malformed, stops the Go program.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { load } from '../index.js';

const m = await load();
const NOW = 1_700_000_000;
const signer = m.createSigner({ key: 'topsecret', now: () => NOW });

/** throwsCode asserts that f throws an Error with code whose message matches re. */
function throwsCode(f, code, re = /./) {
  assert.throws(f, (err) => {
    assert.ok(err instanceof Error, `not an Error: ${err}`);
    assert.equal(err.code, code, err.message);
    assert.match(err.message, re);
    return true;
  });
}

test('bad keys are ERR_KEYHOLE_BAD_KEY and never echo the secret', () => {
  throwsCode(() => m.createSigner(), 'ERR_KEYHOLE_BAD_KEY');
  throwsCode(() => m.createSigner({}), 'ERR_KEYHOLE_BAD_KEY', /the key is missing: give key \(the secret\) or keyBase64/);
  throwsCode(() => m.createSigner({ key: '' }), 'ERR_KEYHOLE_BAD_KEY', /empty/);
  throwsCode(() => m.createSigner({ key: new Uint8Array(0) }), 'ERR_KEYHOLE_BAD_KEY', /empty/);
  throwsCode(() => m.createSigner({ key: 42 }), 'ERR_KEYHOLE_BAD_KEY');
  throwsCode(() => m.createSigner({ key: 'a', keyBase64: 'YQ' }), 'ERR_KEYHOLE_BAD_KEY');
  throwsCode(() => m.createSigner({ keyBase64: 'sup3r$ecret!' }), 'ERR_KEYHOLE_BAD_KEY', /base64/);
  throwsCode(() => m.createSigner({ key: 'sup3rsecret', keyId: 'a b"' }), 'ERR_KEYHOLE_BAD_KEY', /keyId/);
  throwsCode(() => m.createSigner({ key: 'k', keyId: 7 }), 'ERR_KEYHOLE_BAD_KEY');
  for (const opts of [{ keyBase64: 'sup3r$ecret!' }, { key: 'sup3rsecret', keyId: 'a b' }]) {
    assert.throws(() => m.createSigner(opts), (err) => !err.message.includes('sup3r'));
  }
});

test('bad paths are ERR_KEYHOLE_BAD_PATH', () => {
  for (const path of ['', 'a.jpg', '/a/../b.jpg', '/a/./b.jpg', '//a.jpg', '/a/', '/a\\b', '/a\0b', '/\udc00x']) {
    throwsCode(() => signer.sign({ path, expiresIn: 60 }), 'ERR_KEYHOLE_BAD_PATH', /^path /);
  }
  throwsCode(() => signer.sign({ path: '/' + 'a'.repeat(5000), expiresIn: 60 }), 'ERR_KEYHOLE_BAD_PATH', /1024/);
});

test('bad options are ERR_KEYHOLE_BAD_INPUT', () => {
  const cases = [
    [undefined, /plain object/],
    [{ expiresIn: 60 }, /path must be a string/],
    [{ path: '/a' }, /expiresIn or expiresAt is required/],
    [{ path: '/a', expiresIn: 0 }, /expiresIn/],
    [{ path: '/a', expiresIn: -5 }, /expiresIn/],
    [{ path: '/a', expiresIn: NaN }, /expiresIn/],
    [{ path: '/a', expiresIn: '300' }, /expiresIn/],
    [{ path: '/a', expiresIn: 60, expiresAt: NOW + 60 }, /not both/],
    [{ path: '/a', expiresAt: new Date(NaN) }, /invalid Date/],
    [{ path: '/a', expiresAt: -1 }, /expiry/],
    [{ path: '/a', expiresAt: 1e15 }, /expiry/],
    [{ path: '/a', expiresIn: 60, notBefore: 'soon' }, /notBefore/],
    [{ path: '/a', expiresIn: 60, audience: '/b' }, /audience does not allow/],
    [{ path: '/a', expiresIn: 60, audience: 'a' }, /start with \//],
    [{ path: '/a', expiresIn: 60, audience: [] }, /audience/],
    [{ path: '/a', expiresIn: 60, baseUrl: 'https://x/a b' }, /baseUrl/],
    [{ path: '/a', expiresIn: 60, baseUrl: 'https://x/?q' }, /baseUrl/],
    [{ path: '/a', expiresIn: 60, query: { jwt: 'x' } }, /token parameter/],
    [{ path: '/a', expiresIn: 60, query: { w: {} } }, /query\.w/],
    [{ path: '/a', expiresIn: 60, query: 'w=1' }, /query/],
    [{ path: '/a', expiresIn: 60, args: [] }, /args must be a plain object/],
    [{ path: '/a', expiresIn: 60, args: { w: () => 1 } }, /args\.w/],
    [{ path: '/a', expiresIn: 60, args: { w: 10n } }, /args\.w/],
    [{ path: '/a', expiresIn: 60, args: { w: Infinity } }, /finite/],
    [{ path: '/a', expiresIn: 60, args: { d: new Date() } }, /args\.d/],
    [{ path: '/a', expiresIn: 60, expires: 5 }, /unknown option "expires"/],
  ];
  for (const [opts, re] of cases) throwsCode(() => signer.sign(opts), 'ERR_KEYHOLE_BAD_INPUT', re);
  const cyclic = { a: {} };
  cyclic.a.b = cyclic;
  throwsCode(() => signer.sign({ path: '/a', expiresIn: 60, args: cyclic }), 'ERR_KEYHOLE_BAD_INPUT', /nested too deeply/);
  throwsCode(() => m.createSigner({ key: 'k', now: () => 'x' }).sign({ path: '/a', expiresIn: 1 }), 'ERR_KEYHOLE_BAD_INPUT', /now\(\)/);
  throwsCode(() => m.createSigner({ key: 'k', now: () => -1 }).sign({ path: '/a', expiresIn: 1 }), 'ERR_KEYHOLE_BAD_INPUT', /now\(\)/);
  throwsCode(() => m.createSigner({ key: 'k', param: 'a&b' }), 'ERR_KEYHOLE_BAD_INPUT', /param/);
  throwsCode(() => m.validateParams('w=1'), 'ERR_KEYHOLE_BAD_INPUT');
  throwsCode(() => m.decode(42), 'ERR_KEYHOLE_BAD_INPUT');
  throwsCode(() => signer.signMany('x'), 'ERR_KEYHOLE_BAD_INPUT');
});

test('invalid secure args are ERR_KEYHOLE_INVALID_PARAMS listing every failure', () => {
  assert.throws(() => signer.sign({ path: '/a', expiresIn: 60, args: { w: 'wide', h: 0, text: { size: 'x', text: 'Hi' }, utm: 1 } }), (err) => {
    assert.ok(err instanceof Error);
    assert.equal(err.code, 'ERR_KEYHOLE_INVALID_PARAMS');
    assert.deepEqual(err.errors.map((e) => e.name), ['h', 'text.size', 'w']);
    assert.deepEqual(err.errors[2], { name: 'w', value: 'wide', reason: err.errors[2].reason });
    assert.match(err.message, /^args: h=0: must be/);
    return true;
  });
  // Shapes transform.FromArgs refuses: arrays, null.
  assert.throws(() => signer.sign({ path: '/a', expiresIn: 60, args: { w: [1], h: null } }), (err) => {
    assert.equal(err.code, 'ERR_KEYHOLE_INVALID_PARAMS');
    assert.deepEqual(err.errors.map((e) => e.name), ['h', 'w']);
    return true;
  });
});

test('signMany errors carry the index of the failing entry', () => {
  const ok = { path: '/a', expiresIn: 60 };
  for (const [bad, code] of [[{ path: '/a/..', expiresIn: 60 }, 'ERR_KEYHOLE_BAD_PATH'], [{ path: 1 }, 'ERR_KEYHOLE_BAD_INPUT'], [{ path: '/a', expiresIn: 1, args: { w: 'x' } }, 'ERR_KEYHOLE_INVALID_PARAMS']]) {
    assert.throws(() => signer.signMany([ok, ok, bad, ok]), (err) => {
      assert.equal(err.code, code);
      assert.equal(err.index, 2);
      assert.match(err.message, /^\[2\]/);
      return true;
    });
  }
  assert.throws(() => signer.sign({ path: '/a/..', expiresIn: 60 }), (err) => err.index === undefined);
});

test('decode refuses what the server cannot parse, with its auth result', () => {
  const cases = [
    ['', 'malformed token'],
    ['abc', 'malformed token'],
    ['a.b.c', 'malformed token'],
    [`${b64({ typ: 'JWT' })}.${b64({ exp: 1, aud: '/' })}.sig`, 'algorithm not allowed'],
    [`${b64({ alg: 'HS256' })}.${b64({ aud: '/' })}.sig`, 'invalid payload'],
    [`${b64({ alg: 'HS256' })}.${b64({ exp: 1, aud: '/', args: [] })}.sig`, 'invalid payload'],
    ['x'.repeat(9000), 'malformed token'],
  ];
  for (const [tok, result] of cases) {
    assert.throws(() => m.decode(tok), (err) => {
      assert.ok(err instanceof Error);
      assert.equal(err.code, 'ERR_KEYHOLE_BAD_TOKEN');
      assert.equal(err.result, result, tok);
      return true;
    });
  }
});

function b64(obj) {
  return Buffer.from(JSON.stringify(obj)).toString('base64url');
}

test('garbage through the public API never stops the module', () => {
  const junk = [undefined, null, 0, -1, NaN, '', '\u0000', '\ud800', 'x'.repeat(100000), [], {}, [[[]]], new Date(), Symbol('s'), () => 1, Object.create(null), new Uint8Array(3), 2n ** 64n];
  for (const a of junk) {
    for (const f of [
      () => m.createSigner(a),
      () => m.createSigner({ key: 'k', keyId: a }),
      () => m.validateParams(a),
      () => m.validateParams({ w: a }),
      () => m.decode(a),
      () => signer.sign(a),
      () => signer.sign({ path: a, expiresIn: 60 }),
      () => signer.sign({ path: '/a', expiresAt: a }),
      () => signer.sign({ path: '/a', expiresIn: 60, args: { w: a } }),
      () => signer.sign({ path: '/a', expiresIn: 60, query: { w: a } }),
      () => signer.sign({ path: '/a', expiresIn: 60, audience: a }),
      () => signer.signMany([a]),
    ]) {
      try {
        f();
      } catch (err) {
        assert.ok(err instanceof Error);
        assert.match(err.code, /^ERR_KEYHOLE_(BAD_INPUT|BAD_KEY|BAD_PATH|INVALID_PARAMS|BAD_TOKEN)$/, err.message);
      }
    }
  }
  assert.ok(signer.sign({ path: '/a', expiresIn: 60 }).token);
});

test('random bytes through the raw exports are errors, never a crash', async () => {
  // Below the public API: feed the Go request decoder arbitrary bytes.
  await import('../dist/wasm_exec.js');
  const go = new globalThis.Go();
  const bytes = await readFile(new URL('../dist/keyhole.wasm', import.meta.url));
  const { instance } = await WebAssembly.instantiate(bytes, go.importObject);
  go.run(instance);
  const ex = instance.exports;
  const send = (buf) => new Uint8Array(ex.mem.buffer, ex.keyhole_alloc(buf.length) >>> 0, buf.length).set(buf);
  send(new Uint8Array([3, 0, 0, 0, 114, 97, 119, 1, 0, 0, 0, 107, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f]));
  assert.ok(ex.keyhole_signer_new() > 0);
  const handle = Number(new TextDecoder().decode(new Uint8Array(ex.mem.buffer, ex.keyhole_out() >>> 0, 1)));
  for (let i = 0; i < 3000; i++) {
    const buf = randomBytes(i % 200);
    if (i % 3 === 0 && buf.length >= 4) buf.writeUInt32LE(i % 7, 0); // plausible counts
    for (const op of [() => ex.keyhole_sign(handle, 0), () => ex.keyhole_sign(handle, 1), () => ex.keyhole_sign(999, 0), () => ex.keyhole_validate(), () => ex.keyhole_decode(), () => ex.keyhole_signer_new()]) {
      send(buf);
      op();
    }
  }
  assert.equal(go.exited, false);
  // An empty batch is the only valid request in many of those; the module still signs.
  send(new Uint8Array(4));
  assert.equal(ex.keyhole_sign(handle, 0), 0);
  send(new Uint8Array(4));
  assert.equal(ex.keyhole_sign(handle, 1), 0);
});
