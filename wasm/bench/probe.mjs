// probe.mjs measures the signer in whatever runtime imports it, with only
// the package's load() and a clock: the cold start and the signMany and
// signManyAsync rates that runtimes.mjs reports for Node.js, Deno, Bun,
// workerd and Chromium.

/** BATCH is one signMany call: 1000 URLs, as in bench.mjs. */
export const BATCH = Array.from({ length: 1000 }, (_, i) => ({
  path: `/private/photos/img-${i}.jpg`, expiresIn: 300, args: { text: 'Hello' }, query: { w: '10%', h: '25%' },
}));

/**
 * cold calls load() (the runtime's default: read, fetch or import of
 * keyhole.wasm, compile, Go start-up), creates a signer and signs one URL;
 * it returns the signer and the milliseconds that took by clock().
 */
export async function cold(load, clock) {
  const t0 = clock();
  const m = await load();
  const signer = m.createSigner({ key: 'topsecret', onWarning() {} });
  signer.sign(BATCH[0]);
  return { signer, ms: clock() - t0 };
}

/** batches signs n batches and returns the number of URLs signed. */
export function batches(signer, n) {
  let urls = 0;
  for (let i = 0; i < n; i++) urls += signer.signMany(BATCH).length;
  return urls;
}

/**
 * rate returns URLs per second of signMany(1000) over `seconds` by clock()
 * (in ms), after a warm-up of the same length.
 */
export function rate(signer, seconds, clock) {
  let result = 0;
  for (let round = 0; round < 2; round++) {
    const start = clock();
    let urls = 0;
    while (clock() - start < seconds * 1000) urls += batches(signer, 1);
    result = urls / ((clock() - start) / 1000);
  }
  return result;
}

/** batchesAsync is batches with signManyAsync. */
export async function batchesAsync(signer, n) {
  let urls = 0;
  for (let i = 0; i < n; i++) urls += (await signer.signManyAsync(BATCH)).length;
  return urls;
}

/** rateAsync is rate with signManyAsync. */
export async function rateAsync(signer, seconds, clock) {
  let result = 0;
  for (let round = 0; round < 2; round++) {
    const start = clock();
    let urls = 0;
    while (clock() - start < seconds * 1000) urls += await batchesAsync(signer, 1);
    result = urls / ((clock() - start) / 1000);
  }
  return result;
}
