// The boundary between core.js and keyhole.wasm is versioned: a module and
// a loader from different builds fail at load() with ERR_KEYHOLE_LOAD
// instead of decoding each other's bytes wrongly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { load } from '../index.js';
import { ABI } from '../core.js';

const wasm = await readFile(new URL('../dist/keyhole.wasm', import.meta.url));
const codec = await readFile(new URL('../codec.go', import.meta.url), 'utf8');

/** patched returns a copy of wasm with every `from` (latin1) replaced by `to`, of the same length. */
function patched(from, to) {
  assert.equal(from.length, to.length);
  const text = wasm.toString('latin1');
  assert.ok(text.includes(from), `${from} is not in keyhole.wasm`);
  return Buffer.from(text.split(from).join(to), 'latin1');
}

test('codec.go and core.js agree on the boundary version', () => {
  const m = /var abiStamp = "keyhole-abi-version:(\d{4})"/.exec(codec);
  assert.ok(m, 'abiStamp not found in codec.go');
  assert.equal(Number(m[1]), ABI);
});

test('the module as built loads', async () => {
  const m = await load({ wasm: new Uint8Array(wasm) });
  assert.deepEqual(m.validateParams({ w: 300 }), []);
});

test('a module of another boundary version is refused at load', async () => {
  const stamp = `keyhole-abi-version:${String(ABI).padStart(4, '0')}`;
  const other = patched(stamp, 'keyhole-abi-version:0999');
  await assert.rejects(load({ wasm: other }), (err) => {
    assert.equal(err.code, 'ERR_KEYHOLE_LOAD');
    assert.match(err.message, new RegExp(`boundary version 999 and this @keyhole/signer version ${ABI}: they are from different builds`));
    return true;
  });
});

test('a module from before the version check is refused at load', async () => {
  const old = patched('keyhole_abi', 'keyhole_xyz'); // the export's name, as if it did not exist
  await assert.rejects(load({ wasm: old }), (err) => {
    assert.equal(err.code, 'ERR_KEYHOLE_LOAD');
    assert.match(err.message, /no boundary version \(keyhole_abi\): it is from another build/);
    return true;
  });
});
