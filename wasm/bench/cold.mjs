// cold.mjs breaks the WebAssembly signer's cold start in Node.js into its
// steps, each timed in fresh processes (medians of N, default 20,
// alternating with jsonwebtoken's require + first sign), and prints a
// markdown table. From wasm/, after build.sh and npm ci:
//
//   node bench/cold.mjs [N]
//
// The steps are those load() takes (core.js), done one by one here:
//
//   import    import '@keyhole/signer' (index.js, core.js, Go's wasm_exec.js)
//   read      read dist/keyhole.wasm
//   compile   WebAssembly.compile: V8 validates the module and compiles it
//             with its baseline compiler (Liftoff); optimized code comes
//             later, in the background
//   instance  WebAssembly.instantiate: memory, imports, data segments
//   go start  go.run: the Go runtime's start-up, every package's init and
//             main, until main blocks
//   first     createSigner and the first sign(), which also pays for lazy
//             work in the module (first use of the parameter tables)
//
// and the same as one load({ wasm: bytes }) call, which is what bench.mjs
// and bench/wasm.go's fresh-process figure time.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('..', import.meta.url));

/** STEPS is the child script: it prints one JSON object of milliseconds. */
const STEPS = `
const t0 = performance.now();
const dir = process.argv[1];
const { load } = await import(dir + '/index.js');
const t1 = performance.now();
const { readFile } = await import('node:fs/promises');
const bytes = await readFile(dir + '/dist/keyhole.wasm');
const t2 = performance.now();
const mod = await WebAssembly.compile(bytes);
const t3 = performance.now();
const go = new globalThis.Go();
const instance = await WebAssembly.instantiate(mod, go.importObject);
const t4 = performance.now();
go.run(instance);
const t5 = performance.now();
const m = await load({ wasm: mod });
const t6 = performance.now();
m.createSigner({ key: 'topsecret', onWarning() {} }).sign({ path: '/private/a.jpg', expiresIn: 300, args: { text: 'Hello' } });
const t7 = performance.now();
console.log(JSON.stringify({ import: t1 - t0, read: t2 - t1, compile: t3 - t2, instance: t4 - t3, 'go start': t5 - t4, 'load (module given)': t6 - t5, first: t7 - t6 }));`;

/** WHOLE is the end-to-end figure: import, read, load(bytes), sign. */
const WHOLE = `
const t0 = performance.now();
const dir = process.argv[1];
const { load } = await import(dir + '/index.js');
const { readFile } = await import('node:fs/promises');
const m = await load({ wasm: await readFile(dir + '/dist/keyhole.wasm') });
m.createSigner({ key: 'topsecret', onWarning() {} }).sign({ path: '/private/a.jpg', expiresIn: 300, args: { text: 'Hello' } });
console.log(JSON.stringify({ total: performance.now() - t0 }));`;

/** JWT is jsonwebtoken's cold start: require and the first sign. */
const JWT = `
const t0 = performance.now();
const dir = process.argv[1];
const { createRequire } = await import('node:module');
const jwt = createRequire(dir + '/')('jsonwebtoken');
jwt.sign({ args: { text: 'Hello' } }, 'topsecret', { algorithm: 'HS256', expiresIn: 300, audience: '/private/a.jpg' });
console.log(JSON.stringify({ total: performance.now() - t0 }));`;

const node = (script) => JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script, dir], { encoding: 'utf8' }).trim());
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * measureCold runs each script n times, alternating, and returns the
 * medians: { steps: { name: ms }, total, jwt }.
 */
export function measureCold(n = 20) {
  const steps = {};
  const total = [];
  const jwt = [];
  for (let i = 0; i < n; i++) {
    for (const [k, v] of Object.entries(node(STEPS))) (steps[k] ??= []).push(v);
    total.push(node(WHOLE).total);
    jwt.push(node(JWT).total);
  }
  return {
    steps: Object.fromEntries(Object.entries(steps).map(([k, v]) => [k, median(v)])),
    total: median(total),
    jwt: median(jwt),
  };
}

/** coldTable formats measureCold's result as markdown lines. */
export function coldTable(r, n) {
  const lines = [
    `Cold start in Node.js ${process.version}, fresh processes, medians of ${n} (steps one by one in one process; the total as one load() in another; jsonwebtoken in a third, alternating):`,
    '',
    '| step | ms |',
    '|---|--:|',
  ];
  for (const [k, v] of Object.entries(r.steps)) lines.push(`| ${k} | ${v.toFixed(1)} |`);
  lines.push(`| **import → first token, one load()** | **${r.total.toFixed(1)}** |`);
  lines.push(`| jsonwebtoken: require + first sign | ${r.jwt.toFixed(1)} |`);
  lines.push(`| ratio | ${(r.total / r.jwt).toFixed(2)}x |`);
  return lines;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const n = Number(process.argv[2] ?? 20);
  console.log(coldTable(measureCold(n), n).join('\n'));
}
