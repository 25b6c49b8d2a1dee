// runtimes.mjs measures the signer's cold start and signMany rate in every
// runtime it supports (Node.js, Deno, Bun, workerd, Chromium), each through
// the package entry of its "exports" condition, and prints a markdown
// table. bench.mjs calls it for the bench report; alone, from wasm/:
//
//   node bench/runtimes.mjs [seconds per measurement, default 2]
//
// Deno, Bun and workerd come from test/engines/install.sh (the pinned npm
// packages, cached outside the repository); Chromium is $CHROMIUM or
// /usr/bin/chromium.
//
// cold start: load() with the runtime's default source (file read, fetch,
// or the module import on Workers) → compile → Go start-up → first token,
//   by the runtime's own clock. workerd's clock stands still while a
//   Worker computes, so there it is the first request's latency minus an
//   empty request's, measured from Node.js.
// signMany: URLs per second in batches of 1000 (args and query as in
//   bench.mjs), after a warm-up as long as the measurement; on workerd,
//   requests of N batches timed from Node.js, minus the empty request.
import { execFile, execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startWorkerd, signerModules } from '../test/workerd.mjs';

const pkgDir = new URL('../', import.meta.url);
const here = (f) => fileURLToPath(new URL(f, import.meta.url));

/** engines returns the runtime binaries: $DENO, $BUN, $WORKERD, else the cache's. */
function engines() {
  if (process.env.DENO && process.env.BUN && process.env.WORKERD) {
    return { deno: process.env.DENO, bun: process.env.BUN, workerd: process.env.WORKERD };
  }
  const modules = execFileSync('sh', [fileURLToPath(new URL('test/engines/install.sh', pkgDir))], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  return { deno: join(modules, '.bin/deno'), bun: join(modules, '@oven/bun-linux-x64/bin/bun'), workerd: join(modules, '.bin/workerd') };
}

async function cli(command, args, seconds) {
  const { stdout } = await promisify(execFile)(command, [...args, here('run-runtime.mjs'), String(seconds)], { cwd: fileURLToPath(pkgDir), timeout: 120_000 });
  return JSON.parse(stdout.trim().split('\n').at(-1));
}

async function workerd(bin, seconds) {
  process.env.WORKERD = bin;
  const worker = await startWorkerd({
    modules: [
      { name: 'bench/worker.mjs', file: here('worker.mjs') },
      { name: 'bench/probe.mjs', file: here('probe.mjs') },
      ...await signerModules('bench/'),
    ],
  });
  const timed = async (path, init) => {
    const t0 = performance.now();
    const res = await fetch(`${worker.url}${path}`, init);
    const body = await res.text();
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${body}`);
    return { ms: performance.now() - t0, body };
  };
  try {
    const first = await timed('/cold');
    let ping = Infinity;
    for (let i = 0; i < 20; i++) ping = Math.min(ping, (await timed('/ping')).ms);
    // Grow n until one request takes `seconds`, then measure once more.
    const measure = async (path) => {
      let n = 1;
      let perSecond = 0;
      for (let round = 0; round < 2; round++) {
        for (;;) {
          const { ms, body } = await timed(`${path}?n=${n}`, { method: 'POST' });
          perSecond = Number(body) / ((ms - ping) / 1000);
          if (ms >= seconds * 1000) break;
          n = Math.ceil(n * Math.min(8, (seconds * 1000) / Math.max(ms, 1)) * 1.1);
        }
      }
      return perSecond;
    };
    const perSecond = await measure('/many');
    const perSecondAsync = await measure('/many-async');
    const { hmac, hmacAsync } = JSON.parse((await timed('/hmac')).body);
    return { coldMs: first.ms - ping, perSecond, perSecondAsync, hmac, hmacAsync };
  } finally {
    await worker.stop();
  }
}

async function chromium(seconds) {
  // Imported here: without playwright-core only this row is missing.
  const { withSignerPage } = await import('../test/chromium.mjs');
  const script = `
    import { load } from '@keyhole/signer';
    import { cold, rate, rateAsync } from '/bench/probe.mjs';
    window.bench = async (seconds) => {
      const clock = () => performance.now();
      const { signer, ms } = await cold(load, clock);
      const perSecond = rate(signer, seconds, clock);
      const perSecondAsync = await rateAsync(signer, seconds, clock);
      return { coldMs: ms, perSecond, perSecondAsync, hmac: signer.hmac, hmacAsync: signer.hmacAsync };
    };`;
  return withSignerPage({ extra: ['bench/probe.mjs'], script, ready: 'bench' }, (tab) => tab.evaluate((s) => window.bench(s), seconds));
}

/**
 * measureRuntimes measures every runtime in turn and returns markdown
 * table lines; a runtime that cannot run gives a row saying why.
 */
export async function measureRuntimes(seconds = 2) {
  const bins = engines();
  const runs = [
    ['Node.js', 'index.js', () => cli(process.execPath, [], seconds), process.version],
    ['Deno', 'deno.js', () => cli(bins.deno, ['run', '--quiet', `--allow-read=${fileURLToPath(pkgDir)}`], seconds), execFileSync(bins.deno, ['--version'], { encoding: 'utf8' }).split('\n')[0].replace(/^deno /, '').split(' ')[0]],
    ['Bun', 'bun.js', () => cli(bins.bun, [], seconds), execFileSync(bins.bun, ['--version'], { encoding: 'utf8' }).trim()],
    ['workerd', 'workerd.js', () => workerd(bins.workerd, seconds), execFileSync(bins.workerd, ['--version'], { encoding: 'utf8' }).trim().replace(/^workerd /, '')],
    ['Chromium', 'browser.js', () => chromium(seconds), execFileSync(process.env.CHROMIUM || '/usr/bin/chromium', ['--version'], { encoding: 'utf8' }).trim().replace(/^Chromium /, '').split(' ')[0]],
  ];
  const lines = [
    '| runtime | version | entry | cold start: load() → first token | signMany(1000), per URL | signManyAsync(1000), per URL |',
    '|---|---|---|---|---|---|',
  ];
  for (const [name, entry, f, version] of runs) {
    try {
      const { coldMs, perSecond, perSecondAsync, hmac, hmacAsync } = await f();
      const rate = (x, via) => `${Math.round(x).toLocaleString('en-US')} /s (${via})`;
      lines.push(`| ${name} | ${version} | ${entry} | ${coldMs.toFixed(1)} ms | ${rate(perSecond, hmac)} | ${rate(perSecondAsync, hmacAsync)} |`);
    } catch (err) {
      lines.push(`| ${name} | ${version} | ${entry} | not measured: ${String(err.message).split('\n')[0]} | | |`);
    }
  }
  return lines;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const seconds = Number(process.argv[2] ?? 2);
  console.log(`${seconds} s per measurement after an equal warm-up\n`);
  console.log((await measureRuntimes(seconds)).join('\n'));
}
