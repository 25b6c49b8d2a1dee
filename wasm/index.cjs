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

/**
 * KeyholeError: `err instanceof KeyholeError` holds for every error the
 * package throws (an Error whose .code starts with ERR_KEYHOLE_). The
 * errors themselves are made by the ES module, whose class of the same
 * name this one recognises by code.
 */
class KeyholeError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }

  static [Symbol.hasInstance](v) {
    return v instanceof Error && typeof v.code === 'string' && v.code.startsWith('ERR_KEYHOLE_');
  }
}
Object.defineProperty(KeyholeError.prototype, 'name', { value: 'KeyholeError', writable: true, configurable: true });
exports.KeyholeError = KeyholeError;
