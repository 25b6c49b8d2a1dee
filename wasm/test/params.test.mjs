// validateParams agrees with the Go parser on the shared table
// transform/testdata/params_cases.json (transform's Go tests read the same
// file), so the signer refuses exactly what the server refuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { load } from '../index.js';

const file = new URL('../../transform/testdata/params_cases.json', import.meta.url);
const cases = JSON.parse(await readFile(file, 'utf8'));
const m = await load();

test('the shared table has valid and invalid cases', () => {
  assert.ok(cases.some((c) => c.valid) && cases.some((c) => !c.valid), 'params_cases.json needs both kinds');
});

for (const c of cases) {
  test(`params case: ${c.name}`, () => {
    const errs = m.validateParams(c.params);
    if (c.valid) {
      assert.deepEqual(errs, []);
      return;
    }
    assert.deepEqual([...new Set(errs.map((e) => e.name))].sort(), [...c.errors].sort());
    for (const e of errs) {
      assert.equal(typeof e.value, 'string');
      assert.ok(e.reason.length > 0);
    }
  });
}

test('secure args get the same verdict as validateParams', () => {
  const s = m.createSigner({ key: 'k', now: () => 1_700_000_000, watermarks: ['/wm/'] });
  for (const c of cases) {
    if (c.params.jwt !== undefined) continue; // the token parameter is not an arg
    let errs = [];
    try {
      s.sign({ path: '/a.jpg', expiresIn: 60, args: c.params });
    } catch (err) {
      assert.equal(err.code, 'ERR_KEYHOLE_INVALID_PARAMS', `${c.name}: ${err.message}`);
      errs = err.errors;
    }
    assert.deepEqual(errs, m.validateParams(c.params), c.name);
  }
});

test('a secure watermark outside the watermarks folders is refused, as the server refuses it', () => {
  const sign = (opts, watermark) => m.createSigner({ key: 'a-key-of-at-least-32-bytes-long!!', now: () => 1_700_000_000, ...opts })
    .sign({ path: '/private/a.jpg', expiresIn: 60, args: { watermark } });
  const refused = (f, reason = 'not in an allowed watermark folder') => assert.throws(f, (err) => {
    assert.equal(err.code, 'ERR_KEYHOLE_INVALID_PARAMS', err.message);
    assert.deepEqual(err.errors.map((e) => e.name), ['watermark']);
    assert.match(err.errors[0].reason, new RegExp(reason));
    return true;
  });
  assert.match(sign({ watermarks: ['/wm/'] }, '/wm/logo.png').url, /[?&]jwt=/);
  refused(() => sign({ watermarks: ['/wm/'] }, '/private/b.jpg')); // another folder
  refused(() => sign({ watermarks: ['/wm/'] }, '/wm/../private/b.jpg'), 'without empty, \\. or \\.\\. segments'); // not a clean path
  refused(() => sign({}, '/wm/logo.png')); // no folders: none allowed
});
