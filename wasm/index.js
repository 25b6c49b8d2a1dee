// @keyhole/signer for Node.js (package.json "exports", condition "node"):
// Keyhole's URL signer and parameter validator, compiled from Go (packages
// token and transform) to WebAssembly. load() reads dist/keyhole.wasm from
// disk, and signMany signs with node:crypto (node-hmac.js), faster than the
// module's own HMAC; the Go runtime's random bytes come from node:crypto
// too (randomFillSync: see useRandomFill in core.js). The other
// runtimes have their own entries (browser.js, deno.js, bun.js,
// workerd.js); all share core.js. See README.md for the API and
// index.d.ts for the types.
import { randomFillSync } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { makeLoad } from './core.js';
import { nodeHmac } from './node-hmac.js';
export { KeyholeError } from './core.js';

/** load instantiates the WebAssembly module; see index.d.ts. */
export const load = makeLoad({
  defaultWasm: () => new URL('./dist/keyhole.wasm', import.meta.url),
  readFile: (url) => readFile(url),
  base: () => pathToFileURL(`${process.cwd()}/`).href,
  hmac: nodeHmac,
  hmacIsFaster: true,
  name: 'node:crypto',
  randomFill: randomFillSync,
});

