// The TypeScript declarations cover the API for ESM and CommonJS consumers
// (tsc --strict over test/types/), and index.d.cts stays a copy of index.d.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';

const dir = new URL('..', import.meta.url);

test('index.d.cts repeats index.d.ts', async () => {
  const body = (s, skip) => s.split('\n').slice(skip).join('\n');
  const esm = await readFile(new URL('index.d.ts', dir), 'utf8');
  const cjs = await readFile(new URL('index.d.cts', dir), 'utf8');
  assert.equal(body(cjs, 3), body(esm, 2), 'regenerate index.d.cts from index.d.ts (see its header)');
});

test('tsc --strict accepts the ESM and CommonJS fixtures', { timeout: 120_000 }, async () => {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const args = [tsc, '--noEmit', '--strict', '--target', 'es2022', '--module', 'node16', '--moduleResolution', 'node16',
    '--lib', 'es2022,dom', 'test/types/esm.mts', 'test/types/cjs.cts'];
  try {
    await promisify(execFile)(process.execPath, args, { cwd: dir });
  } catch (err) {
    assert.fail(`tsc failed:\n${err.stdout}${err.stderr}`);
  }
});
