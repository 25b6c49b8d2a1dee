// The package works through require() (CommonJS) and import (ESM) by its
// own name, as a consumer would use it.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const jwt = require('jsonwebtoken');

test('require("@keyhole/signer") loads and signs', async () => {
  const { load } = require('@keyhole/signer');
  assert.equal(typeof load, 'function');
  const m = await load();
  const s = m.createSigner({ key: 'topsecret' });
  const { token } = s.sign({ path: '/private/a.jpg', expiresIn: 60 });
  assert.equal(jwt.verify(token, 'topsecret', { audience: '/private/a.jpg' }).aud, '/private/a.jpg');
});

test('import("@keyhole/signer") from CommonJS is the same module', async () => {
  const esm = await import('@keyhole/signer');
  const cjs = require('@keyhole/signer');
  assert.equal(await esm.load(), await cjs.load());
});

test('the wasm file is exported for bundlers and custom loaders', async () => {
  const path = require.resolve('@keyhole/signer/keyhole.wasm');
  const { load } = require('@keyhole/signer');
  const m = await load({ wasm: path });
  assert.deepEqual(m.validateParams({ w: '300' }), []);
});
