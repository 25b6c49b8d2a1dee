// Type declarations for @keyhole/signer, every runtime's entry. build.sh
// writes dist/index.d.cts, the same declarations for require().

/** Where load() gets the WebAssembly module from. */
export type WasmSource =
  | string
  | URL
  | ArrayBuffer
  | ArrayBufferView
  | WebAssembly.Module
  | Response
  | Promise<Response>;

export interface LoadOptions {
  /**
   * The module to instantiate. Default: dist/keyhole.wasm in the package,
   * read from disk in Node.js, Deno and Bun, fetched in browsers, and
   * imported as a WebAssembly module on Workers. A string is a URL
   * (browsers) or a file path or URL (Node.js, Deno, Bun), resolved against
   * the page or the working directory.
   */
  wasm?: WasmSource;
}

/** The `.code` of every Error the package throws. */
export type ErrorCode =
  /** An option has the wrong type, is missing, or is out of range. */
  | 'ERR_KEYHOLE_BAD_INPUT'
  /** The key is missing, empty, not valid base64, or its keyId is unusable. */
  | 'ERR_KEYHOLE_BAD_KEY'
  /** The path would be refused by the server as "400 bad path". */
  | 'ERR_KEYHOLE_BAD_PATH'
  /** Secure args the server would refuse with 400; see `errors`. */
  | 'ERR_KEYHOLE_INVALID_PARAMS'
  /** decode(): the server could not parse the token; see `result`. */
  | 'ERR_KEYHOLE_BAD_TOKEN'
  /**
   * load(): the module could not be fetched, compiled or started, or it is
   * from another build than the package's JavaScript (boundary version).
   */
  | 'ERR_KEYHOLE_LOAD'
  /** A bug: a recovered Go panic, or the module has exited. */
  | 'ERR_KEYHOLE_INTERNAL';

/** A rejected parameter, as in the body of the server's 400 response. */
export interface ParamError {
  /** The parameter's name, e.g. "w" or "text.size"; "" for the input as a whole. */
  name: string;
  /** The rejected value, cut to 64 characters. */
  value: string;
  /** Why it was rejected, e.g. "must be pixels 1..8192, or N% with 0 < N <= 100". */
  reason: string;
}

/**
 * Every Error thrown by the package is a KeyholeError, a class exported by
 * every entry: `err instanceof KeyholeError` works (it is true for any
 * Error whose code starts with ERR_KEYHOLE_, so also across two copies of
 * the package or the CommonJS entry).
 */
export class KeyholeError extends Error {
  constructor(code: ErrorCode, message: string, props?: { index?: number; errors?: ParamError[]; result?: string; cause?: unknown });
  code: ErrorCode;
  /** signMany(): the position of the failing entry. */
  index?: number;
  /** ERR_KEYHOLE_INVALID_PARAMS: every rejected parameter. */
  errors?: ParamError[];
  /** ERR_KEYHOLE_BAD_TOKEN: the server's auth result, e.g. "malformed token". */
  result?: string;
}

/** A JSON value, as args may hold. */
export type JSONValue = string | number | boolean | null | JSONValue[] | { [name: string]: JSONValue | undefined };

/** Query parameters: a plain object (arrays repeat a name) or URLSearchParams. */
export type QueryParams =
  | Record<string, string | number | boolean | Array<string | number | boolean> | undefined>
  | URLSearchParams;

export interface SignerOptions {
  /**
   * The HMAC key. A string's UTF-8 bytes are the key, as with npm
   * jsonwebtoken and a Keyhole key's `secret`. Give key or keyBase64.
   */
  key?: string | Uint8Array | ArrayBuffer;
  /** The key as base64 or base64url text, like a Keyhole key's `secret_base64`. */
  keyBase64?: string;
  /** The key's id, written as the token header's "kid". Default: none. */
  keyId?: string;
  /** The query parameter that carries the token. Default "jwt". */
  param?: string;
  /**
   * The folders a secure watermark may be read from, as the server's
   * `watermarks` setting, e.g. ["/wm/"]: each "/" or a folder path ending
   * in "/". Default: none, so args naming a watermark are refused
   * (ERR_KEYHOLE_INVALID_PARAMS, "not in an allowed watermark folder").
   */
  watermarks?: string[];
  /** The clock: unix seconds, may be fractional. Default `Date.now() / 1000`. */
  now?: () => number;
  /**
   * Called with a message when the key is weak (under 32 bytes: such keys
   * sign, since the server accepts them, but can be brute-forced from any
   * signed URL). Default: console.warn, once per loaded module.
   */
  onWarning?: (message: string) => void;
  /**
   * The longest lifetime the signer issues, in whole seconds: an
   * `expiresIn` above it, or an `expiresAt` further than it from now, is
   * refused (ERR_KEYHOLE_BAD_INPUT naming the option and the cap). Default
   * 2592000 (30 days), the cap of the signing endpoint and `keyhole sign`
   * too (the server's `signing.max_expires_in`).
   */
  maxExpiresIn?: number;
  /**
   * Where signMany and signManyAsync compute the HMAC. 'auto' (the
   * default): the fastest in this runtime, node:crypto in Node.js and Bun,
   * the module's own elsewhere. 'runtime': the runtime's crypto where it
   * has one (node:crypto in Node.js, Deno and Bun; WebCrypto for
   * signManyAsync in browsers and workerd), else WebAssembly. 'wasm':
   * always the Go code in the module, the reference. The tokens are the
   * same bytes whichever computes them. sign() always signs in
   * WebAssembly.
   */
  hmac?: 'auto' | 'runtime' | 'wasm';
}

/** What computes signMany's and signManyAsync's HMAC (Signer.hmac). */
export type HmacSource = 'node:crypto' | 'webcrypto' | 'wasm';

export interface SignOptions {
  /** The file's path below the mount, e.g. "/private/a.jpg". */
  path: string;
  /**
   * Seconds from now until the token expires (> 0, at most the signer's
   * maxExpiresIn, default 30 days). Give this or expiresAt.
   */
  expiresIn?: number;
  /**
   * When the token expires: a Date or unix seconds, at most the signer's
   * maxExpiresIn from now (it may be in the past). Give this or expiresIn.
   */
  expiresAt?: Date | number;
  /** When the token starts to be valid ("nbf"): a Date or unix seconds. Default: no nbf. */
  notBefore?: Date | number;
  /**
   * The path prefixes the token opens ("aud"); the path must start with one
   * of them. Default: the path itself.
   */
  audience?: string | string[];
  /** Prefix of the URL, e.g. "https://img.example.com". Default: a root-relative URL. */
  baseUrl?: string | URL;
  /** Insecure parameters, added to the URL unsigned (e.g. { w: 300 }). */
  query?: QueryParams;
  /** Secure parameters ("args"), locked by the signature and checked like the server checks them. */
  args?: { [name: string]: JSONValue | undefined };
}

export interface SignResult {
  /** baseUrl + escaped path + "?" + query + "&jwt=" + token. */
  url: string;
  /** The compact HS256 token. */
  token: string;
  /** The token's "exp" as a Date (whole seconds). */
  expiresAt: Date;
}

export interface SrcsetOptions extends Omit<SignOptions, 'args'> {
  /**
   * The widths in pixels, one URL each: whole numbers from 1 to 8192 (the
   * server's default maximum output width), no repeats, at most 32.
   */
  widths: number[];
  /**
   * Secure parameters for every width (text, watermark, format, q…). They
   * may not set what decides the output's size besides each URL's `w`:
   * w, h, s, scale.option, cw, ch, cx, cy, canvas.width, canvas.height,
   * rotate, profile (ERR_KEYHOLE_BAD_INPUT).
   */
  args?: { [name: string]: JSONValue | undefined };
}

export interface SrcsetResult {
  /** The srcset attribute's text: "<url> 320w, <url> 640w, …", in the order of `widths`. */
  srcset: string;
  /** Each width's URL, whose token holds `w` in its secure args. */
  urls: Array<{ width: number; url: string }>;
  /** The tokens' "exp" as a Date (the same for every width). */
  expiresAt: Date;
}

export interface Signer {
  /** The keyId given to createSigner ("" for none). */
  readonly keyId: string;
  /** What computes signMany's HMAC: 'node:crypto' in Node.js, Deno and Bun, else 'wasm'. */
  readonly hmac: Exclude<HmacSource, 'webcrypto'>;
  /** What computes signManyAsync's HMAC: as hmac, but 'webcrypto' with hmac: 'runtime' where the runtime has only that. */
  readonly hmacAsync: HmacSource;
  /** Signs one URL. Throws a KeyholeError. */
  sign(options: SignOptions): SignResult;
  /**
   * Signs many URLs in one call into WebAssembly, all with the same now(),
   * the HMACs with the runtime's crypto where it has a synchronous one
   * (see hmac). All or nothing: the first invalid entry throws, with
   * `index` set.
   */
  signMany(list: SignOptions[]): SignResult[];
  /**
   * signMany, with WebCrypto's HMAC where that is the runtime's only one
   * (browsers, workerd) and hmac is 'runtime'; otherwise the same as
   * signMany. The module builds
   * every signing input in one call; the same tokens, byte for byte.
   * Rejects with a KeyholeError as signMany throws.
   */
  signManyAsync(list: SignOptions[]): Promise<SignResult[]>;
  /**
   * Signs one URL per width for an <img srcset>, each with its own token
   * holding `w` in its secure args, so no URL opens a larger size than
   * listed and text or watermarks in `args` stay locked. One call into
   * WebAssembly for all widths. Throws a KeyholeError.
   */
  srcset(options: SrcsetOptions): SrcsetResult;
}

export interface DecodedToken {
  /** The token's JOSE header, e.g. { alg: "HS256", typ: "JWT" }. */
  header: { alg: string; kid?: string; typ?: string; [name: string]: unknown };
  /** The token's claims as they are in the token. */
  payload: {
    aud: string | string[];
    exp: number;
    iat?: number;
    nbf?: number;
    args?: { [name: string]: JSONValue };
    [name: string]: unknown;
  };
}

export interface KeyholeModule {
  /** Creates a signer that keeps its keyed HMAC state between calls. */
  createSigner(options: SignerOptions): Signer;
  /**
   * Checks parameters as the server does (default limits): [] when they are
   * valid, else every rejected parameter, as in the server's 400 response.
   */
  validateParams(params: QueryParams): ParamError[];
  /**
   * Decodes a token without verifying its signature. Throws
   * ERR_KEYHOLE_BAD_TOKEN when the server could not parse it.
   */
  decode(token: string): DecodedToken;
}

/**
 * Instantiates the WebAssembly module. Without options the module is loaded
 * once and shared.
 */
export function load(options?: LoadOptions): Promise<KeyholeModule>;
