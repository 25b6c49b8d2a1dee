// @keyhole/signer for Cloudflare Workers and workerd (package.json
// "exports", condition "workerd"). Workers may not compile WebAssembly from
// bytes at run time, so the module is imported as a module: Wrangler (and
// any bundler following its rules) turns the .wasm import into a
// WebAssembly.Module, and a hand-written workerd config lists it as a
// `wasm` module named "dist/keyhole.wasm" beside this file. See README.md
// and examples/edge-worker.
import wasm from './dist/keyhole.wasm';
import { makeLoad } from './core.js';
export { KeyholeError } from './core.js';

/** load instantiates the WebAssembly module; see index.d.ts. */
export const load = makeLoad({ defaultWasm: () => wasm });
