// core.js is @keyhole/signer without its choice of where keyhole.wasm comes
// from: the JavaScript half of the boundary with wasm/codec.go (the request
// encoder, the answer and error decoders, the version check) and the API.
// Each runtime's entry (index.js for Node.js, browser.js, deno.js, bun.js,
// workerd.js; package.json "exports" picks one) calls makeLoad with its way
// of finding the module, so no entry needs an API its runtime lacks. See
// README.md for the API and index.d.ts for the types.
//
// Go's wasm_exec.js (copied into dist/ by build.sh) defines globalThis.Go
// and, where they are missing, the stubs globalThis.fs, globalThis.path and
// globalThis.process that Go's runtime needs; every Go WebAssembly program
// does this.
import './dist/wasm_exec.js';

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

/** The error codes set as `.code` on every Error this package throws. */
const CODES = Object.freeze({
  BAD_INPUT: 'ERR_KEYHOLE_BAD_INPUT',
  BAD_KEY: 'ERR_KEYHOLE_BAD_KEY',
  BAD_PATH: 'ERR_KEYHOLE_BAD_PATH',
  INVALID_PARAMS: 'ERR_KEYHOLE_INVALID_PARAMS',
  BAD_TOKEN: 'ERR_KEYHOLE_BAD_TOKEN',
  LOAD: 'ERR_KEYHOLE_LOAD',
  INTERNAL: 'ERR_KEYHOLE_INTERNAL',
});

/**
 * KeyholeError is the class of every Error this package throws; .code is
 * one of the ERR_KEYHOLE_* codes. `instanceof KeyholeError` also holds for
 * an error from another copy of the package (a second bundle, the CommonJS
 * entry), since the check is by code: an Error whose .code starts with
 * ERR_KEYHOLE_.
 */
export class KeyholeError extends Error {
  constructor(code, message, props) {
    super(message, props && 'cause' in props ? { cause: props.cause } : undefined);
    this.code = code;
    if (props) {
      for (const k of Object.keys(props)) if (k !== 'cause') this[k] = props[k];
    }
  }

  static [Symbol.hasInstance](v) {
    return v instanceof Error && typeof v.code === 'string' && v.code.startsWith('ERR_KEYHOLE_');
  }
}
Object.defineProperty(KeyholeError.prototype, 'name', { value: 'KeyholeError', writable: true, configurable: true });

/** keyholeError returns a KeyholeError whose .code is code, with extra props. */
function keyholeError(code, message, props) {
  return new KeyholeError(code, message, props);
}

function badInput(message) {
  return keyholeError(CODES.BAD_INPUT, message);
}

/**
 * ABI is the version of the request/answer encoding between this file and
 * keyhole.wasm (abiStamp in codec.go). Change both together whenever the
 * encoding, the exports or their arguments change: load() refuses a
 * module whose version differs, so a keyhole.wasm and a core.js from
 * different builds fail loudly instead of decoding each other wrongly.
 */
export const ABI = 2;

/**
 * makeLoad returns the load() of one runtime's entry (index.js for Node.js,
 * browser.js, deno.js, bun.js, workerd.js). platform says how that runtime
 * finds the module:
 *
 *   defaultWasm()  the source load() uses without a wasm option
 *   readFile(url)  optional: the bytes of a file: URL, where the runtime has
 *                  a file system (fetch() cannot read file: URLs in Node.js)
 *   base()         optional: the URL a relative wasm string is resolved
 *                  against (the working directory, or the page)
 *   hmac(key)      optional: the runtime's synchronous HMAC-SHA-256
 *                  (node:crypto in Node.js, Deno and Bun): given the key
 *                  bytes, a function from a signing input (ASCII text) to
 *                  its base64url MAC; signMany uses it with hmac: 'runtime'
 *   hmacIsFaster   optional: true where hmac beats the module's own HMAC
 *                  (measured: Node.js and Bun, not Deno), so that
 *                  hmac: 'auto' uses it
 *   name           optional: what hmac is called in signer.hmac
 *   randomFill(a)  optional: fills a Uint8Array with random bytes for the
 *                  Go runtime, where the runtime has a faster source than
 *                  crypto.getRandomValues to start with (node:crypto's
 *                  randomFillSync in Node.js; see useRandomFill)
 *
 * The default module is instantiated once and shared by every caller.
 */
export function makeLoad(platform) {
  let defaultModule;
  return function load(opts) {
    if (opts === undefined || opts === null || opts.wasm === undefined) {
      defaultModule ??= instantiate(platform.defaultWasm(), platform).catch((err) => {
        defaultModule = undefined;
        throw err;
      });
      return defaultModule;
    }
    if (typeof opts !== 'object') return Promise.reject(badInput('load options must be an object'));
    return instantiate(opts.wasm, platform);
  };
}

/** instantiate compiles and starts one Go program and wraps its exports. */
async function instantiate(source, platform) {
  const go = new globalThis.Go();
  if (platform.randomFill) useRandomFill(go, platform.randomFill);
  let instance;
  try {
    instance = await instantiateSource(source, go.importObject, platform);
  } catch (err) {
    throw keyholeError(CODES.LOAD, `cannot load the Keyhole WebAssembly module: ${err && err.message}`, { cause: err });
  }
  const ex = instance.exports;
  if (typeof ex.keyhole_abi !== 'function') {
    throw keyholeError(CODES.LOAD, `this keyhole.wasm has no boundary version (keyhole_abi): it is from another build than this @keyhole/signer (boundary version ${ABI}); rebuild both with wasm/build.sh or reinstall the package`);
  }
  // go.run runs the Go runtime's start-up and main synchronously until main
  // blocks; the exports are usable as soon as it returns. It resolves only
  // if the program exits, which it does not while the module is in use.
  go.run(instance);
  if (go.exited) throw keyholeError(CODES.LOAD, 'the Keyhole WebAssembly module exited during start-up');
  const abi = ex.keyhole_abi();
  if (abi !== ABI) {
    throw keyholeError(CODES.LOAD, `this keyhole.wasm speaks boundary version ${abi} and this @keyhole/signer version ${ABI}: they are from different builds; rebuild both with wasm/build.sh or reinstall the package`);
  }
  return makeModule(go, ex, platform);
}

/**
 * useRandomFill answers the Go runtime's requests for random bytes
 * (runtime.getRandomData: its start-up seed, then whatever it asks for)
 * with fill instead of wasm_exec.js's crypto.getRandomValues. In Node.js
 * the first getRandomValues call loads WebCrypto, about 0.7 ms of the
 * cold start, while node:crypto's randomFillSync is already loaded (the
 * same operating-system source). The argument layout is wasm_exec.js's
 * (build.sh copies it from the same Go toolchain): a []byte at sp + 8,
 * its address and length as 64-bit little-endian integers.
 */
function useRandomFill(go, fill) {
  go.importObject.gojs['runtime.getRandomData'] = (sp) => {
    sp >>>= 0;
    const m = go.mem;
    const addr = m.getUint32(sp + 8, true) + m.getInt32(sp + 12, true) * 4294967296;
    const len = m.getUint32(sp + 16, true) + m.getInt32(sp + 20, true) * 4294967296;
    fill(new Uint8Array(go._inst.exports.mem.buffer, addr, len));
  };
}

async function instantiateSource(source, imports, platform) {
  if (source instanceof WebAssembly.Module) return WebAssembly.instantiate(source, imports);
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) {
    return (await WebAssembly.instantiate(source, imports)).instance;
  }
  if (typeof source === 'string' || source instanceof URL) {
    const url = new URL(source, platform.base?.());
    if (url.protocol === 'file:' && platform.readFile) {
      return (await WebAssembly.instantiate(await platform.readFile(url), imports)).instance;
    }
    source = fetch(url);
  }
  const response = await source;
  if (typeof Response === 'undefined' || !(response instanceof Response)) {
    throw new TypeError('wasm must be a URL, a path, bytes, a WebAssembly.Module or a Response');
  }
  if (!response.ok) throw new Error(`fetching ${response.url}: HTTP ${response.status}`);
  if (typeof WebAssembly.instantiateStreaming === 'function' &&
      (response.headers.get('content-type') || '').split(';')[0].trim() === 'application/wasm') {
    return (await WebAssembly.instantiateStreaming(response, imports)).instance;
  }
  return (await WebAssembly.instantiate(await response.arrayBuffer(), imports)).instance;
}

/**
 * Encoder writes requests in the format wasm/codec.go's reader decodes:
 * little-endian u32 and f64, strings as u32 byte length + UTF-8, and tagged
 * values. One Encoder per module is reused for every call.
 */
class Encoder {
  constructor() {
    this.buf = new Uint8Array(4096);
    this.view = new DataView(this.buf.buffer);
    this.pos = 0;
  }

  reset() {
    this.pos = 0;
  }

  ensure(n) {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const buf = new Uint8Array(size);
    buf.set(this.buf.subarray(0, this.pos));
    this.buf = buf;
    this.view = new DataView(buf.buffer);
  }

  u8(b) {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  u32(n) {
    this.ensure(4);
    this.view.setUint32(this.pos, n, true);
    this.pos += 4;
  }

  f64(x) {
    this.ensure(8);
    this.view.setFloat64(this.pos, x, true);
    this.pos += 8;
  }

  str(s) {
    // A UTF-16 code unit becomes at most 3 UTF-8 bytes; lone surrogates
    // become U+FFFD, as Buffer.from(string) does.
    const n = s.length;
    this.ensure(4 + 3 * n);
    const at = this.pos + 4;
    if (n <= 64) {
      // Short ASCII strings (paths, names, values) are copied directly:
      // cheaper than a subarray and a call into TextEncoder.
      const buf = this.buf;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c > 0x7f) break;
        buf[at + i] = c;
      }
      if (i === n) {
        this.view.setUint32(this.pos, n, true);
        this.pos = at + n;
        return;
      }
    }
    const { written } = textEncoder.encodeInto(s, this.buf.subarray(at));
    this.view.setUint32(this.pos, written, true);
    this.pos = at + written;
  }

  bytes(b) {
    this.u32(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /**
   * value encodes a JSON-like value: strings, finite numbers, booleans,
   * null, arrays and plain objects (whose undefined members are left out, as
   * JSON.stringify does). Anything else throws a Located error whose rel is
   * where below v it was found ("", ".text.size", "[2]"); encodeValue turns
   * it into ERR_KEYHOLE_BAD_INPUT naming the place. The names are put
   * together only on the way out of an error, so a valid value builds no
   * strings.
   */
  value(v, depth) {
    if (depth > 16) throw new Located('nested too deeply');
    switch (typeof v) {
      case 'string':
        this.u8(0x73); // s
        this.str(v);
        return;
      case 'number':
        if (!Number.isFinite(v)) throw new Located('numbers must be finite');
        this.u8(0x6e); // n
        this.f64(v);
        return;
      case 'boolean':
        this.u8(v ? 0x74 : 0x66); // t, f
        return;
      case 'object':
        if (v === null) {
          this.u8(0x7a); // z
          return;
        }
        if (Array.isArray(v)) {
          this.u8(0x61); // a
          this.u32(v.length);
          for (let i = 0; i < v.length; i++) {
            try {
              this.value(v[i], depth + 1);
            } catch (err) {
              if (err instanceof Located) err.rel = `[${i}]${err.rel}`;
              throw err;
            }
          }
          return;
        }
        if (isPlainObject(v)) {
          this.u8(0x6f); // o
          const countAt = this.pos;
          this.u32(0);
          let n = 0;
          for (const k of Object.keys(v)) {
            const x = v[k];
            if (x === undefined) continue;
            this.str(k);
            try {
              this.value(x, depth + 1);
            } catch (err) {
              if (err instanceof Located) err.rel = `.${k}${err.rel}`;
              throw err;
            }
            n++;
          }
          this.view.setUint32(countAt, n, true);
          return;
        }
    }
    throw new Located('must be a string, a finite number, a boolean, null, an array or a plain object');
  }

  /** pair encodes one name/value pair of pairs. */
  pair(k, x, where, suffix) {
    if (typeof x === 'number' ? !Number.isFinite(x) : typeof x !== 'string' && typeof x !== 'boolean') {
      throw badInput(`${at(where, suffix)}.${k}: must be a string, a finite number or a boolean`);
    }
    this.str(k);
    this.str(typeof x === 'string' ? x : String(x));
  }

  /**
   * pairs encodes name/value pairs from a plain object (undefined values
   * left out, arrays giving one pair per element) or a URLSearchParams.
   * Values must be strings, finite numbers or booleans. Errors name the
   * place as at(where, suffix).
   */
  pairs(v, where, suffix = '') {
    const countAt = this.pos;
    this.u32(0);
    let n = 0;
    if (v instanceof URLSearchParams) {
      for (const [k, x] of v) {
        this.pair(k, x, where, suffix);
        n++;
      }
    } else if (isPlainObject(v)) {
      for (const k of Object.keys(v)) {
        const x = v[k];
        if (x === undefined) continue;
        if (Array.isArray(x)) {
          for (const e of x) {
            this.pair(k, e, where, suffix);
            n++;
          }
        } else {
          this.pair(k, x, where, suffix);
          n++;
        }
      }
    } else {
      throw badInput(`${at(where, suffix)} must be a plain object or a URLSearchParams`);
    }
    this.view.setUint32(countAt, n, true);
  }
}

/** Located is value's error before it knows where it is (see value). */
class Located extends Error {
  constructor(text) {
    super(text);
    this.rel = '';
  }
}

/**
 * at names a place in the input: where is a batch index (shown "[3]") or
 * a name ("options"), suffix what follows (".args").
 */
function at(where, suffix) {
  return (typeof where === 'number' ? `[${where}]` : where) + suffix;
}

/** encodeValue writes v with e.value, naming at(where, suffix) in errors. */
function encodeValue(e, v, where, suffix) {
  try {
    e.value(v, 0);
  } catch (err) {
    if (err instanceof Located) throw badInput(`${at(where, suffix)}${err.rel}: ${err.message}`);
    throw err;
  }
}

/** isWellFormed reports whether s has no lone surrogates. */
const isWellFormed = typeof String.prototype.isWellFormed === 'function'
  ? (s) => s.isWellFormed()
  : (s) => !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);

function isPlainObject(v) {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** seconds converts a Date or unix seconds for the option at(where, suffix). */
function seconds(v, where, suffix) {
  if (v === undefined) return NaN;
  if (v instanceof Date) {
    const t = v.getTime();
    if (Number.isNaN(t)) throw badInput(`${at(where, suffix)} is an invalid Date`);
    return t / 1000;
  }
  if (typeof v !== 'number' || !Number.isFinite(v)) throw badInput(`${at(where, suffix)} must be a Date or a finite number of unix seconds`);
  return v;
}

/** The options of createSigner. */
const SIGNER_OPTIONS = ['key', 'keyBase64', 'keyId', 'param', 'watermarks', 'now', 'onWarning', 'maxExpiresIn', 'hmac'];

/** Keys shorter than this many bytes are weak (token.WeakSecretBytes). */
const WEAK_KEY_BYTES = 32;

const SIGN_OPTIONS = new Set(['path', 'expiresIn', 'expiresAt', 'notBefore', 'audience', 'baseUrl', 'query', 'args']);

/**
 * encodeSign writes one sign request (see signOne in wasm/signer.go).
 * where is the batch index or "options", for error messages (see at).
 */
function encodeSign(e, o, now, where) {
  if (!isPlainObject(o)) throw badInput(`${at(where, '')} must be a plain object`);
  for (const k in o) {
    if (!SIGN_OPTIONS.has(k)) throw badInput(`${at(where, '')}: unknown option ${JSON.stringify(k)}`);
  }
  const { path, expiresIn, audience, baseUrl, query, args } = o;
  if (typeof path !== 'string') throw badInput(`${at(where, '')}.path must be a string`);
  if (!isWellFormed(path)) {
    // TextEncoder would turn the lone surrogate into U+FFFD: another file.
    throw keyholeError(CODES.BAD_PATH, `path ${JSON.stringify(path)}: holds a lone surrogate (not valid Unicode)`);
  }
  if (expiresIn !== undefined && (typeof expiresIn !== 'number' || !Number.isFinite(expiresIn))) {
    throw badInput(`${at(where, '')}.expiresIn must be a finite number of seconds`);
  }
  e.f64(now);
  e.f64(expiresIn === undefined ? NaN : expiresIn);
  e.f64(seconds(o.expiresAt, where, '.expiresAt'));
  e.f64(seconds(o.notBefore, where, '.notBefore'));
  e.str(path);
  if (audience === undefined) {
    e.u32(0);
  } else if (typeof audience === 'string') {
    e.u32(1);
    e.str(audience);
  } else if (Array.isArray(audience) && audience.length > 0 && audience.every((a) => typeof a === 'string')) {
    e.u32(audience.length);
    for (const a of audience) e.str(a);
  } else {
    throw badInput(`${at(where, '')}.audience must be a string or a non-empty array of strings`);
  }
  if (baseUrl === undefined) e.str('');
  else if (typeof baseUrl === 'string') e.str(baseUrl);
  else if (baseUrl instanceof URL) e.str(baseUrl.href);
  else throw badInput(`${at(where, '')}.baseUrl must be a string or a URL`);
  if (query === undefined) e.u32(0);
  else e.pairs(query, where, '.query');
  if (args === undefined) e.u8(0x2d); // -
  else if (isPlainObject(args)) encodeValue(e, args, where, '.args');
  else throw badInput(`${at(where, '')}.args must be a plain object`);
}

/** keyBytes returns the HMAC key of a `key` option. */
function keyBytes(key) {
  if (typeof key === 'string') return textEncoder.encode(key);
  if (key instanceof Uint8Array) return key;
  if (key instanceof ArrayBuffer) return new Uint8Array(key);
  if (ArrayBuffer.isView(key)) return new Uint8Array(key.buffer, key.byteOffset, key.byteLength);
  throw keyholeError(CODES.BAD_KEY, 'key must be a string, a Uint8Array or an ArrayBuffer');
}

/**
 * base64Key decodes a keyBase64 that the module has already accepted
 * (token.KeyFromBase64: spaces around and padding trimmed, the URL-safe
 * alphabet when the text has - or _). For such text atob gives the same
 * bytes; the key then goes to the runtime's HMAC only.
 */
function base64Key(text) {
  const s = text.trim().replace(/=+$/, '').replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(s);
  const b = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) b[i] = bin.charCodeAt(i);
  return b;
}

/** base64url encodes bytes without padding. */
function base64url(bytes) {
  let bin = '';
  for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** defaultNow is the default clock: unix seconds, fractional. */
const defaultNow = () => Date.now() / 1000;

/** makeModule wraps the exports of one running Go program. */
function makeModule(go, ex, platform) {
  const enc = new Encoder();
  let busy = false;
  const freeSigner = new FinalizationRegistry((handle) => {
    if (!go.exited) ex.keyhole_signer_free(handle);
  });

  /**
   * call runs one operation: fill(enc) writes the request, then it is
   * copied into the module and op runs. Returns the answer text; throws the
   * decoded error.
   */
  function call(fill, op, arg, arg2) {
    if (go.exited) throw keyholeError(CODES.INTERNAL, 'the Keyhole WebAssembly module has exited');
    if (busy) throw badInput('a Keyhole call was made while another was encoding its input (from a getter or now())');
    busy = true;
    try {
      enc.reset();
      fill(enc);
    } finally {
      busy = false;
    }
    const n = enc.pos;
    const ptr = ex.keyhole_alloc(n) >>> 0;
    new Uint8Array(ex.mem.buffer, ptr, n).set(enc.buf.subarray(0, n));
    const r = arg === undefined ? ex[op]() : arg2 === undefined ? ex[op](arg) : ex[op](arg, arg2);
    const at = ex.keyhole_out() >>> 0;
    const text = textDecoder.decode(new Uint8Array(ex.mem.buffer, at, Math.abs(r)));
    if (r < 0) throw decodeError(text);
    return text;
  }

  let warnedWeak = false;

  function createSigner(opts) {
    if (!isPlainObject(opts)) throw keyholeError(CODES.BAD_KEY, 'createSigner needs an options object with key or keyBase64');
    for (const k in opts) {
      if (!SIGNER_OPTIONS.includes(k)) {
        const near = SIGNER_OPTIONS.find((o) => o.toLowerCase() === k.toLowerCase());
        throw badInput(`createSigner: unknown option ${JSON.stringify(k)}${near ? ` (did you mean ${near}?)` : ''}; the options are ${SIGNER_OPTIONS.join(', ')}`);
      }
    }
    const { key, keyBase64, keyId = '', param = '', watermarks = [], now = defaultNow, onWarning, maxExpiresIn, hmac = 'auto' } = opts;
    if (key === undefined && keyBase64 === undefined) {
      // { key: process.env.KEY } with the variable unset lands here.
      const given = 'key' in opts ? 'key' : 'keyBase64' in opts ? 'keyBase64' : '';
      throw keyholeError(CODES.BAD_KEY, given ? `${given} is undefined: pass the secret (is the variable you read it from set?)` : 'the key is missing: give key (the secret) or keyBase64');
    }
    if (key !== undefined && keyBase64 !== undefined) throw keyholeError(CODES.BAD_KEY, 'give key or keyBase64, not both');
    if (onWarning !== undefined && typeof onWarning !== 'function') throw badInput('onWarning must be a function taking a message');
    if (keyBase64 !== undefined && typeof keyBase64 !== 'string') throw keyholeError(CODES.BAD_KEY, 'keyBase64 must be a string');
    if (typeof keyId !== 'string') throw keyholeError(CODES.BAD_KEY, 'keyId must be a string');
    if (typeof param !== 'string') throw badInput('param must be a string');
    if (!Array.isArray(watermarks) || !watermarks.every((w) => typeof w === 'string')) throw badInput('watermarks must be an array of folder paths');
    if (typeof now !== 'function') throw badInput('now must be a function returning unix seconds');
    if (maxExpiresIn !== undefined && typeof maxExpiresIn !== 'number') throw badInput('maxExpiresIn must be a number of seconds');
    // NaN is the module's "not given".
    if (Number.isNaN(maxExpiresIn)) throw badInput('maxExpiresIn must be a whole number of seconds from 1 to 9000000000');
    if (hmac !== 'auto' && hmac !== 'runtime' && hmac !== 'wasm') throw badInput("hmac must be 'auto' (the fastest here), 'runtime' (the runtime's crypto where it has one) or 'wasm'");
    const secret = key !== undefined ? keyBytes(key) : textEncoder.encode(keyBase64);
    const size = key !== undefined ? secret.length : Math.floor(keyBase64.replace(/[\s=]/g, '').length * 3 / 4);
    const handle = Number(call((e) => {
      e.str(key !== undefined ? 'raw' : 'base64');
      e.bytes(secret);
      e.str(keyId);
      e.str(param);
      e.u32(watermarks.length);
      for (const w of watermarks) e.str(w);
      e.f64(maxExpiresIn === undefined ? NaN : maxExpiresIn);
    }, 'keyhole_signer_new'));
    // The runtime's HMAC, for signMany (synchronous: node:crypto) and
    // signManyAsync (that, or WebCrypto), where asked for ('runtime') or
    // where it is faster than the module's ('auto'). The module has
    // accepted the key, so base64Key decodes it as it did.
    const macKey = () => (key !== undefined ? new Uint8Array(secret) : base64Key(keyBase64));
    const useRuntime = hmac === 'runtime' || (hmac === 'auto' && platform.hmacIsFaster);
    const syncMac = useRuntime && platform.hmac ? platform.hmac(macKey()) : undefined;
    const subtle = hmac === 'runtime' && !syncMac ? globalThis.crypto?.subtle : undefined;
    let subtleKey;
    if (size < WEAK_KEY_BYTES) {
      // The server accepts such keys (for existing tokens) but they can
      // be brute-forced offline from any signed URL.
      const msg = `@keyhole/signer: the key${keyId ? ` ${JSON.stringify(keyId)}` : ''} is ${size} bytes; use at least ${WEAK_KEY_BYTES} random bytes (keyhole keygen)`;
      if (onWarning) onWarning(msg);
      else if (!warnedWeak) {
        warnedWeak = true;
        console.warn(msg);
      }
    }

    const clock = () => {
      const t = now();
      if (typeof t !== 'number' || !Number.isFinite(t)) throw badInput('now() must return a finite number of unix seconds');
      return t;
    };
    /**
     * answer runs one keyhole_sign call over list (already checked to be
     * an array) with one now(); inputs asks for signing inputs instead of
     * tokens.
     */
    const answer = (list, t, inputs) => call((e) => {
      e.u32(list.length);
      for (let i = 0; i < list.length; i++) {
        try {
          encodeSign(e, list[i], t, i);
        } catch (err) {
          err.index = i;
          throw err;
        }
      }
    }, 'keyhole_sign', handle, inputs ? 1 : 0);
    /** batch signs list with the runtime's HMAC where it has one, else in Go. */
    const batch = (list, t) => (syncMac ? results(answer(list, t, true), syncMac) : results(answer(list, t, false)));
    /** batchAsync is batch, with WebCrypto where that is the only HMAC. */
    const batchAsync = async (list, t) => {
      if (!subtle) return batch(list, t);
      const parts = answer(list, t, true).split('\n');
      subtleKey ??= subtle.importKey('raw', macKey(), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
      const k = await subtleKey;
      const n = (parts.length - 1) / 3;
      const sigs = new Array(n);
      for (let i = 0; i < n; i++) sigs[i] = subtle.sign('HMAC', k, textEncoder.encode(parts[3 * i + 1]));
      const macs = await Promise.all(sigs);
      return results(parts, (_, i) => base64url(new Uint8Array(macs[i])));
    };
    /** withIndex prefixes a batch error with the index of its entry. */
    const withIndex = (err) => {
      // Errors from Go carry the index but not the [i] prefix.
      if (err.index !== undefined && !err.message.startsWith('[')) err.message = `[${err.index}] ${err.message}`;
      return err;
    };

    const signer = {
      keyId,
      hmac: syncMac ? (platform.name || 'runtime') : 'wasm',
      hmacAsync: syncMac ? (platform.name || 'runtime') : subtle ? 'webcrypto' : 'wasm',
      sign(o) {
        const t = clock();
        try {
          return results(call((e) => {
            e.u32(1);
            encodeSign(e, o, t, 'options');
          }, 'keyhole_sign', handle, 0))[0];
        } catch (err) {
          delete err.index; // always 0 for a single URL
          throw err;
        }
      },
      signMany(list) {
        if (!Array.isArray(list)) throw badInput('signMany needs an array of sign options');
        if (list.length === 0) return [];
        const t = clock();
        try {
          return batch(list, t);
        } catch (err) {
          throw withIndex(err);
        }
      },
      async signManyAsync(list) {
        if (!Array.isArray(list)) throw badInput('signManyAsync needs an array of sign options');
        if (list.length === 0) return [];
        const t = clock();
        try {
          return await batchAsync(list, t);
        } catch (err) {
          throw withIndex(err);
        }
      },
      srcset(o) {
        if (!isPlainObject(o)) throw badInput('srcset needs an options object');
        const { widths, ...rest } = o;
        if (!Array.isArray(widths)) throw badInput('widths must be an array of widths in pixels, e.g. [320, 640, 1280]');
        if (rest.args !== undefined && !isPlainObject(rest.args)) throw badInput('options.args must be a plain object');
        // Go checks the widths and args once (checkSrcset in srcset.go),
        // then every width's URL is signed in one batch with its own w.
        call((e) => {
          e.u32(widths.length);
          for (let i = 0; i < widths.length; i++) {
            if (typeof widths[i] !== 'number') throw badInput(`widths[${i}] must be a number of pixels`);
            e.f64(widths[i]);
          }
          if (rest.args === undefined) e.u8(0x2d); // -
          else encodeValue(e, rest.args, 'options', '.args');
        }, 'keyhole_srcset_check');
        const t = clock();
        let signed;
        try {
          signed = batch(widths.map((w) => ({ ...rest, args: { ...rest.args, w } })), t);
        } catch (err) {
          // The same options are signed for every width: the first failure
          // is every width's, so it names none.
          delete err.index;
          err.message = err.message.replace(/^\[\d+\]/, 'options');
          throw err;
        }
        const urls = signed.map((r, i) => ({ width: widths[i], url: r.url }));
        return {
          srcset: urls.map((u) => `${u.url} ${u.width}w`).join(', '),
          urls,
          expiresAt: signed[0].expiresAt,
        };
      },
    };
    freeSigner.register(signer, handle);
    return Object.freeze(signer);
  }

  function validateParams(params) {
    return JSON.parse(call((e) => e.pairs(params, 'params'), 'keyhole_validate'));
  }

  function decode(token) {
    if (typeof token !== 'string') throw badInput('token must be a string');
    return JSON.parse(call((e) => e.str(token), 'keyhole_decode'));
  }

  return Object.freeze({ createSigner, validateParams, decode });
}

/**
 * results turns a sign answer ("prefix\ntoken\nexp\n" per URL, the URL
 * being prefix + token; a string or its lines) into results. With mac the
 * middle lines are signing inputs, and mac(input, i) gives the base64url
 * HMAC that completes each token.
 */
function results(answer, mac) {
  const parts = typeof answer === 'string' ? answer.split('\n') : answer;
  const list = new Array((parts.length - 1) / 3);
  for (let i = 0, j = 0; i < list.length; i++, j += 3) {
    const token = mac ? `${parts[j + 1]}.${mac(parts[j + 1], i)}` : parts[j + 1];
    list[i] = { url: parts[j] + token, token, expiresAt: new Date(Number(parts[j + 2]) * 1000) };
  }
  return list;
}

/** decodeError turns "code\nindex\nmessage\ndetail" into an Error. */
function decodeError(text) {
  const [code, index, message] = text.split('\n', 3);
  const detail = text.slice(code.length + index.length + message.length + 3);
  const props = {};
  if (index !== '') props.index = Number(index);
  if (code === CODES.INVALID_PARAMS) props.errors = JSON.parse(detail);
  if (code === CODES.BAD_TOKEN) props.result = detail;
  return keyholeError(code, message, props);
}
