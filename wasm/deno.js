// @keyhole/signer for Deno (package.json "exports", condition "deno"):
// load() reads dist/keyhole.wasm with Deno.readFile, which needs
// --allow-read for the package's folder; signMany signs with Deno's
// node:crypto (node-hmac.js), which needs no flag. See README.md.
import { makeLoad } from './core.js';
import { nodeHmac } from './node-hmac.js';
export { KeyholeError } from './core.js';

/** load instantiates the WebAssembly module; see index.d.ts. */
export const load = makeLoad({
  defaultWasm: () => new URL('./dist/keyhole.wasm', import.meta.url),
  readFile: (url) => globalThis.Deno.readFile(url),
  base: () => new URL(`${globalThis.Deno.cwd().replace(/\/?$/, '/')}`, 'file:///').href,
  hmac: nodeHmac,
  name: 'node:crypto',
});
