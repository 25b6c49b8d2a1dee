// @keyhole/signer for browsers and any runtime without a more specific
// entry (package.json "exports", conditions "browser" and "default"). It
// uses only web APIs: load() fetches dist/keyhole.wasm next to this file,
// written as new URL(…, import.meta.url) so bundlers (Vite, Rollup,
// webpack 5, esbuild with a loader) copy the file and rewrite the URL. See
// README.md.
import { makeLoad } from './core.js';
export { KeyholeError } from './core.js';

/** load instantiates the WebAssembly module; see index.d.ts. */
export const load = makeLoad({
  defaultWasm: () => new URL('./dist/keyhole.wasm', import.meta.url),
  base: () => globalThis.location?.href,
});
