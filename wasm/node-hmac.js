// node-hmac.js is signMany's HMAC-SHA-256 in the runtimes that have the
// node:crypto module: Node.js (index.js), Deno (deno.js) and Bun (bun.js).
// The module builds each token's signing input in one call and these
// functions sign them (see makeLoad in core.js): by default in Node.js and
// Bun, where that is faster than the module's own HMAC, and in Deno with
// hmac: 'runtime'. Browsers and workerd sign in WebAssembly, or with
// WebCrypto in signManyAsync with hmac: 'runtime'.
import { createHmac, createSecretKey } from 'node:crypto';

/**
 * nodeHmac returns a function from a signing input (ASCII text) to its
 * base64url HMAC-SHA-256 under key. The key is a KeyObject, so it is
 * handed to the runtime's crypto once, not per token.
 */
export function nodeHmac(key) {
  const k = createSecretKey(key);
  return (input) => createHmac('sha256', k).update(input).digest('base64url');
}
