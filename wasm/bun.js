// @keyhole/signer for Bun (package.json "exports", condition "bun"):
// load() reads dist/keyhole.wasm with Bun.file; signMany signs with Bun's
// node:crypto (node-hmac.js), faster than the module's own HMAC. See
// README.md.
import { makeLoad } from './core.js';
import { nodeHmac } from './node-hmac.js';
export { KeyholeError } from './core.js';

/** load instantiates the WebAssembly module; see index.d.ts. */
export const load = makeLoad({
  defaultWasm: () => new URL('./dist/keyhole.wasm', import.meta.url),
  readFile: (url) => globalThis.Bun.file(url).bytes(),
  base: () => new URL(`${process.cwd().replace(/\/?$/, '/')}`, 'file:///').href,
  hmac: nodeHmac,
  hmacIsFaster: true,
  name: 'node:crypto',
});
