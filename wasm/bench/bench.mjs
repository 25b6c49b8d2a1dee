// bench.mjs measures the WebAssembly signer in one Node.js process and
// prints a markdown table. Not part of the tests (timings depend on the
// machine). Build first (wasm/build.sh), install dev dependencies (npm ci),
// then, from wasm/:
//
//   node bench/bench.mjs [seconds per measurement, default 2]
//
// Rows of the first table:
//   - gzip -9 size of dist/keyhole.wasm;
//   - cold start: from reading the file to the first token, measured first,
//     before anything else compiles WebAssembly in this process;
//   - signs/s with one sign() call per URL, against npm jsonwebtoken.sign
//     with a string key exactly as Sirv's reference script calls it (plus
//     the same URL building);
//   - signs/s with signMany (batches of 1000), against jsonwebtoken.sign
//     with a crypto.createSecretKey key object, and jose's SignJWT;
//     signMany's HMAC is node:crypto's (the module builds the signing
//     inputs), and the same batch with hmac: 'wasm' (the pure-Go HMAC in
//     the module, the reference) and through signManyAsync are rows too.
//
// A second table (runtimes.mjs) gives the cold start and signMany rate in
// Node.js, Deno, Bun, workerd and Chromium, each through its package entry.
//
// Every rate is measured after a warm-up of the same length, because V8
// first runs WebAssembly with its baseline compiler and optimizes hot
// functions over the first seconds; the first-second rate of signMany is
// printed too.
import { readFile } from 'node:fs/promises';
import { gzipSync, constants } from 'node:zlib';
import { createSecretKey } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { SignJWT } from 'jose';
import { load } from '../index.js';

const seconds = Number(process.argv[2] ?? 2);
const wasmFile = new URL('../dist/keyhole.wasm', import.meta.url);
const key = 'topsecret';
const args = { text: 'Hello' };
const paths = Array.from({ length: 1000 }, (_, i) => `/private/photos/img-${i}.jpg`);

/** rate calls f(i) for `secs` seconds; f returns how many tokens it made. */
async function rate(f, secs = seconds) {
  let n = 0;
  let i = 0;
  const start = performance.now();
  const end = start + secs * 1000;
  while (performance.now() < end) n += await f(i++);
  return n / ((performance.now() - start) / 1000);
}

/** warmRate warms f up for as long as it measures it. */
async function warmRate(f) {
  await rate(f);
  return rate(f);
}

// Cold start first: nothing has compiled WebAssembly in this process yet.
const t0 = performance.now();
const bytes = await readFile(wasmFile);
const m = await load({ wasm: bytes });
const signer = m.createSigner({ key, onWarning() {} });
signer.sign({ path: paths[0], expiresIn: 300, args });
const coldMs = performance.now() - t0;

const gz = gzipSync(bytes, { level: constants.Z_BEST_COMPRESSION }).length;

// One sign() per URL, against the reference script's jsonwebtoken call.
const wasmOne = await warmRate((i) => {
  signer.sign({ path: paths[i % 1000], expiresIn: 300, args, query: { w: '10%', h: '25%' } });
  return 1;
});
const jwtString = await warmRate((i) => {
  const filename = paths[i % 1000];
  const params = new URLSearchParams({ w: '10%', h: '25%' });
  const token = jwt.sign({ args }, key, { algorithm: 'HS256', expiresIn: 300, audience: filename });
  params.append('jwt', token);
  return `${filename}?${params}`.length > 0 ? 1 : 0;
});

// Batches: signMany, against jsonwebtoken with a KeyObject, and jose.
const batch = paths.map((path) => ({ path, expiresIn: 300, args, query: { w: '10%', h: '25%' } }));
const fresh = m.createSigner({ key, onWarning() {} }); // a new signer; the module's code is already warm from above
const firstSecond = await rate(() => fresh.signMany(batch).length, 1);
const wasmMany = await warmRate(() => signer.signMany(batch).length);
const goHmac = m.createSigner({ key, onWarning() {}, hmac: 'wasm' });
const wasmManyGo = await warmRate(() => goHmac.signMany(batch).length);
const wasmManyAsync = await warmRate(async () => (await signer.signManyAsync(batch)).length);
const keyObject = createSecretKey(Buffer.from(key));
const jwtKeyObject = await warmRate((i) => {
  const filename = paths[i % 1000];
  const params = new URLSearchParams({ w: '10%', h: '25%' });
  params.append('jwt', jwt.sign({ args }, keyObject, { algorithm: 'HS256', expiresIn: 300, audience: filename }));
  return `${filename}?${params}`.length > 0 ? 1 : 0;
});
const keyBytes = new TextEncoder().encode(key);
const jose = await warmRate(async (i) => {
  const filename = paths[i % 1000];
  const params = new URLSearchParams({ w: '10%', h: '25%' });
  params.append('jwt', await new SignJWT({ args }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt().setExpirationTime('300s').setAudience(filename).sign(keyBytes));
  return `${filename}?${params}`.length > 0 ? 1 : 0;
});

const fmt = (x) => Math.round(x).toLocaleString('en-US');
const ratio = (a, b) => `${(a / b).toFixed(2)}x`;
console.log(`Node ${process.version}, ${seconds} s per measurement after an equal warm-up; signMany's HMAC: ${signer.hmac}\n`);
console.log('| measurement | value | reference | ratio | goal |');
console.log('|---|---|---|---|---|');
console.log(`| keyhole.wasm size, gzip -9 | ${(gz / 1e6).toFixed(3)} MB (raw ${(bytes.length / 1e6).toFixed(2)} MB) | | | ≤ 0.85 MB |`);
console.log(`| cold start: read file → first token | ${coldMs.toFixed(1)} ms | | | ≤ 50 ms |`);
console.log(`| sign(), one call per URL | ${fmt(wasmOne)} /s | jsonwebtoken, string key: ${fmt(jwtString)} /s | ${ratio(wasmOne, jwtString)} | ≥ 10x |`);
console.log(`| signMany(1000), per URL | ${fmt(wasmMany)} /s | jsonwebtoken, KeyObject: ${fmt(jwtKeyObject)} /s | ${ratio(wasmMany, jwtKeyObject)} | ≥ 1.5x |`);
console.log(`| signMany(1000) with hmac: 'wasm' (pure Go) | ${fmt(wasmManyGo)} /s | jsonwebtoken, KeyObject: ${fmt(jwtKeyObject)} /s | ${ratio(wasmManyGo, jwtKeyObject)} | |`);
console.log(`| signManyAsync(1000) (${signer.hmacAsync}) | ${fmt(wasmManyAsync)} /s | jsonwebtoken, KeyObject: ${fmt(jwtKeyObject)} /s | ${ratio(wasmManyAsync, jwtKeyObject)} | |`);
console.log(`| signMany(1000), first second of a new signer | ${fmt(firstSecond)} /s | jsonwebtoken, KeyObject: ${fmt(jwtKeyObject)} /s | ${ratio(firstSecond, jwtKeyObject)} | |`);
console.log(`| jose SignJWT (async), per URL | ${fmt(jose)} /s | jsonwebtoken, KeyObject: ${fmt(jwtKeyObject)} /s | ${ratio(jose, jwtKeyObject)} | |`);

// The same module in every runtime the package supports (runtimes.mjs):
// cold start and signMany rate, each runtime through its own entry.
const { measureRuntimes } = await import('./runtimes.mjs');
console.log(`\nPer runtime, through each one's package entry (bench/runtimes.mjs; ${seconds} s per measurement after an equal warm-up; workerd timed from outside, since a Worker's clock stands still while it computes):\n`);
console.log((await measureRuntimes(seconds)).join('\n'));
