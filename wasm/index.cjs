// CommonJS entry of @keyhole/signer. The implementation is the ES module
// index.js; load() is asynchronous anyway, so it is reached through a
// dynamic import(), which CommonJS supports in every Node.js version.
'use strict';

/**
 * load instantiates the Keyhole WebAssembly module; see index.d.cts.
 * @param {object} [opts]
 */
exports.load = function load(opts) {
  return import('./index.js').then((m) => m.load(opts));
};
