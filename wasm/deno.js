// @keyhole/signer for Deno (package.json "exports", condition "deno"):
// load() reads dist/keyhole.wasm with Deno.readFile, which needs
// --allow-read for the package's folder. Deno's node:crypto HMAC
// (node-hmac.js) is there for hmac: 'runtime', but by default signMany
// signs in WebAssembly: Deno's createHmac costs about 10 µs a token, three
// times the module's own HMAC (bench/README.md). See README.md.
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
