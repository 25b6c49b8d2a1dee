// One lifetime rule for Keyhole's three signers (issue 23): the
// WebAssembly signer refuses a lifetime over 30 days (720 h) by default,
// as `keyhole sign` and the signing endpoint do (signreq.DefaultMaxLifetime),
// with a message that names the option and the cap; createSigner's
// maxExpiresIn moves the cap, like the config's signing.max_expires_in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import jwt from 'jsonwebtoken';
import { load } from '../index.js';
import { keyholeBinary } from './helpers.mjs';

const NOW = 1_700_000_000;
const DAYS_30 = 30 * 24 * 3600;
const KEY = 'a-32-byte-key-for-the-cap-tests!';
const m = await load();
const signer = m.createSigner({ key: KEY, now: () => NOW + 0.5 });

/** refused asserts that f throws ERR_KEYHOLE_BAD_INPUT matching re. */
function refused(f, re) {
  assert.throws(f, (err) => {
    assert.equal(err.code, 'ERR_KEYHOLE_BAD_INPUT', err.message);
    assert.match(err.message, re);
    return true;
  });
}

test('expiresIn up to 30 days signs; one second more is refused, naming expiresIn and the cap', () => {
  const r = signer.sign({ path: '/a.jpg', expiresIn: DAYS_30 });
  assert.equal(jwt.verify(r.token, KEY, { clockTimestamp: NOW }).exp, NOW + DAYS_30);
  refused(() => signer.sign({ path: '/a.jpg', expiresIn: DAYS_30 + 1 }), /^expiresIn 2592001 is longer than maxExpiresIn, 2592000 seconds \(30 days\)/);
});

test('expiresIn: 1e10 (a 317-year token) is refused by sign, signMany, signManyAsync and srcset', async () => {
  const re = /expiresIn 10000000000 is longer than maxExpiresIn, 2592000 seconds \(30 days\)/;
  refused(() => signer.sign({ path: '/a.jpg', expiresIn: 1e10 }), re);
  refused(() => signer.signMany([{ path: '/a.jpg', expiresIn: 60 }, { path: '/a.jpg', expiresIn: 1e10 }]), /^\[1\] expiresIn 10000000000/);
  await assert.rejects(signer.signManyAsync([{ path: '/a.jpg', expiresIn: 1e10 }]), { code: 'ERR_KEYHOLE_BAD_INPUT', message: /^\[0\] expiresIn 10000000000/ });
  refused(() => signer.srcset({ path: '/a.jpg', widths: [320], expiresIn: 1e10 }), re);
  const wasm = m.createSigner({ key: KEY, now: () => NOW, hmac: 'wasm' });
  refused(() => wasm.signMany([{ path: '/a.jpg', expiresIn: 1e10 }]), re);
});

test('expiresAt further than the cap is refused; in the past or within it signs', () => {
  refused(() => signer.sign({ path: '/a.jpg', expiresAt: NOW + DAYS_30 + 1 }), /^expiresAt is 2592001 seconds from now, longer than maxExpiresIn, 2592000 seconds/);
  refused(() => signer.sign({ path: '/a.jpg', expiresAt: new Date((NOW + 400 * 86400) * 1000) }), /^expiresAt is 34560000 seconds from now/);
  assert.equal(signer.sign({ path: '/a.jpg', expiresAt: NOW + DAYS_30 }).expiresAt.getTime(), (NOW + DAYS_30) * 1000);
  assert.equal(signer.sign({ path: '/a.jpg', expiresAt: NOW - 10 }).expiresAt.getTime(), (NOW - 10) * 1000);
});

test('maxExpiresIn lowers or raises the cap; bad values are refused', () => {
  const short = m.createSigner({ key: KEY, now: () => NOW, maxExpiresIn: 300 });
  assert.ok(short.sign({ path: '/a.jpg', expiresIn: 300 }).token);
  refused(() => short.sign({ path: '/a.jpg', expiresIn: 301 }), /^expiresIn 301 is longer than maxExpiresIn, 300 seconds:/);
  const year = m.createSigner({ key: KEY, now: () => NOW, maxExpiresIn: 365 * 86400 });
  assert.equal(year.sign({ path: '/a.jpg', expiresIn: 365 * 86400 }).expiresAt.getTime(), (NOW + 365 * 86400) * 1000);
  for (const bad of [0, -1, 1.5, NaN, Infinity, 1e12]) {
    refused(() => m.createSigner({ key: KEY, maxExpiresIn: bad }), /^maxExpiresIn must be a whole number of seconds from 1 to 9000000000/);
  }
  refused(() => m.createSigner({ key: KEY, maxExpiresIn: '30d' }), /^maxExpiresIn must be a number of seconds/);
});

test('keyhole sign draws the line at the same place', { timeout: 120_000 }, async () => {
  const bin = await keyholeBinary();
  const run = (expires) => promisify(execFile)(bin, ['sign', '-secret-env', 'CAP_KEY', '-expires', expires, '-path', '/a.jpg'], { env: { ...process.env, CAP_KEY: KEY } });
  const { stdout } = await run('720h');
  assert.match(stdout, /jwt=/);
  await assert.rejects(run('720h0m1s'), (err) => /-expires must be 1s\.\.720h0m0s/.test(err.stderr));
  refused(() => signer.sign({ path: '/a.jpg', expiresIn: 720 * 3600 + 1 }), /maxExpiresIn, 2592000 seconds/);
});
