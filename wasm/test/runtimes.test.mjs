// The conformance set (conformance.mjs) in every runtime the signer
// supports: Node.js, Chromium, Deno, Bun and workerd. Each runtime gets the
// package's entry for its "exports" condition, runs the same checks and
// signs URLs; here, in Node.js, every check becomes a test, and every
// signed token is verified by npm jsonwebtoken and by a real
// `keyhole serve` (srcset URLs must return their listed width, also with a
// w= added to the URL).
//
// The binaries come from $NODE (default: this node), $DENO, $BUN, $WORKERD
// and $CHROMIUM (default /usr/bin/chromium); wasm/test.sh installs Deno,
// Bun and workerd from pinned npm packages and sets them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import jwt from 'jsonwebtoken';
import { startKeyhole, png, imageSize } from './helpers.mjs';
import { startWorkerd, signerModules } from './workerd.mjs';
import { withSignerPage } from './chromium.mjs';

const pkgDir = new URL('../', import.meta.url);
const KEY = 'topsecret';
const paramsCases = JSON.parse(await readFile(new URL('../../transform/testdata/params_cases.json', import.meta.url), 'utf8'));

let server;
let input;

before(async () => {
  server = await startKeyhole({
    secret: KEY,
    files: { 'private/a.png': png(16, 12), 'private/sub/b.txt': 'bee\n', 'private/big.png': png(1600, 900) },
  });
  input = { key: KEY, keyId: 'main', now: Date.now() / 1000, baseUrl: server.base, paramsCases };
}, { timeout: 200_000 });

after(async () => {
  await server?.stop();
});

/** need returns the binary in environment variable name, or fails. */
function need(name) {
  const bin = process.env[name];
  if (!bin) throw new Error(`${name} is not set: run wasm/test.sh, which installs the runtimes and sets it`);
  return bin;
}

/** cli runs test/runtimes/run.mjs with command and args; returns the report. */
async function cli(command, args) {
  const runner = fileURLToPath(new URL('runtimes/run.mjs', import.meta.url));
  let stdout;
  try {
    ({ stdout } = await promisify(execFile)(command, [...args, runner, JSON.stringify(input)], {
      cwd: fileURLToPath(pkgDir), timeout: 60_000, maxBuffer: 16 << 20,
    }));
  } catch (err) {
    // err.message repeats the command line, input included: show stderr.
    throw new Error(`${command} ${args.join(' ')} run.mjs failed (${err.code ?? err.signal}):\n${err.stderr}`);
  }
  return JSON.parse(stdout.trim().split('\n').at(-1));
}

/** The runtimes: name → a function that runs the set and returns its report. */
const runtimes = {
  'Node.js': () => cli(process.env.NODE || process.execPath, []),
  Deno: () => cli(need('DENO'), ['run', '--quiet', `--allow-read=${fileURLToPath(pkgDir)}`]),
  Bun: () => cli(need('BUN'), []),
  workerd: async () => {
    const worker = await startWorkerd({
      modules: [
        { name: 'test/runtimes/worker.mjs', file: fileURLToPath(new URL('runtimes/worker.mjs', import.meta.url)) },
        { name: 'test/conformance.mjs', file: fileURLToPath(new URL('conformance.mjs', import.meta.url)) },
        ...await signerModules('test/runtimes/'),
      ],
    });
    try {
      const res = await fetch(worker.url, { method: 'POST', body: JSON.stringify(input), signal: AbortSignal.timeout(60_000) });
      assert.equal(res.status, 200, `${await res.clone().text()}\n${worker.log()}`);
      return { ...await res.json(), entry: 'workerd.js (module config from package.json exports)' };
    } finally {
      await worker.stop();
    }
  },
  Chromium: () => inChromium(),
};

/**
 * HMAC is the HMAC each runtime's signMany and signManyAsync must use.
 * hmac: 'auto' (the default): node:crypto where it is faster than the
 * module's own HMAC (Node.js, Bun), else WebAssembly (Deno's node:crypto
 * and WebCrypto everywhere measured slower: bench/README.md). hmac:
 * 'runtime': the runtime's own, node:crypto where it has it, else
 * WebAssembly (sync) and WebCrypto (async).
 */
const nodeCrypto = { sync: 'node:crypto', async: 'node:crypto' };
const wasm = { sync: 'wasm', async: 'wasm' };
const HMAC = {
  'Node.js': { auto: nodeCrypto, runtime: nodeCrypto },
  Deno: { auto: wasm, runtime: nodeCrypto },
  Bun: { auto: nodeCrypto, runtime: nodeCrypto },
  workerd: { auto: wasm, runtime: { sync: 'wasm', async: 'webcrypto' } },
  Chromium: { auto: wasm, runtime: { sync: 'wasm', async: 'webcrypto' } },
};

for (const [name, runIn] of Object.entries(runtimes)) {
  test(`conformance in ${name}`, { timeout: 180_000 }, async (t) => {
    const report = await runIn();
    t.diagnostic(`entry ${report.entry}; first load() ${report.loadMs} ms`);
    assert.ok(report.checks.length > 40, `only ${report.checks.length} checks ran`);
    await t.test('signMany and signManyAsync use the runtime HMAC', () => assert.deepEqual(report.hmac, HMAC[name]));
    for (const c of report.checks) {
      await t.test(c.name, () => assert.ok(c.ok, c.message));
    }
    assert.ok(report.signed.length >= 7, `only ${report.signed.length} URLs signed`);
    for (const s of report.signed) {
      await t.test(`jsonwebtoken verifies: ${s.name}`, () => {
        const payload = jwt.verify(s.token, KEY, { algorithms: ['HS256'], clockTimestamp: Math.floor(input.now) });
        assert.deepEqual(payload, s.claims);
        assert.deepEqual(jwt.decode(s.token, { complete: true }).header, { alg: 'HS256', kid: 'main', typ: 'JWT' });
      });
      await t.test(`keyhole serve opens: ${s.name}`, async () => {
        const res = await fetch(s.url, { signal: AbortSignal.timeout(30_000) });
        assert.equal(res.status, 200, await res.clone().text());
        assert.equal(res.headers.get('x-keyhole-auth-result'), 'ok');
        const body = Buffer.from(await res.arrayBuffer());
        if (s.width === undefined) return;
        assert.equal(imageSize(body).width, s.width);
        // The token locks w (and the whole geometry group): a w= or s=
        // added to the URL changes nothing.
        for (const extra of ['w=1600', 's=1600', 'w=10']) {
          const more = await fetch(`${s.url}&${extra}`, { signal: AbortSignal.timeout(30_000) });
          assert.equal(more.status, 200);
          assert.equal(imageSize(Buffer.from(await more.arrayBuffer())).width, s.width, `with &${extra}`);
        }
      });
    }
  });
}

/**
 * inChromium runs the set in a page whose import map points
 * '@keyhole/signer' at the package's "browser" entry.
 */
function inChromium() {
  const script = `
    import { load } from '@keyhole/signer';
    import { run } from '/test/conformance.mjs';
    window.conformance = (input) => run(load, input);`;
  return withSignerPage({ extra: ['test/conformance.mjs'], script, ready: 'conformance' }, async (tab, entry) => {
    const report = await tab.evaluate((i) => window.conformance(i), input);
    return { ...report, entry };
  });
}
