// keyhole-plugin.mjs: a Vite (and Rollup) plugin that signs Keyhole URLs at
// build time. In application code:
//
//   import heroUrl from 'keyhole:/private/hero.jpg?w=1200&q=80';
//   img.src = heroUrl; // https://img.example.com/private/hero.jpg?jwt=…
//
//   import heroSet, { urls } from 'keyhole:/private/hero.jpg?srcset=320,640,1280&q=80';
//   img.srcset = heroSet; // "https://…?jwt=… 320w, https://…?jwt=… 640w, …"
//   img.src = urls.at(-1).url;
//
// With ?srcset= the default export is the srcset attribute's text and
// `urls` lists { width, url } per width (signer.srcset: each URL's token
// holds its w in the secure args, so no URL opens a larger size than
// listed); without it the default export is one URL and `urls` is empty.
// client.d.ts declares these modules for TypeScript.
//
// and in vite.config.js:
//
//   import keyhole from 'keyhole-example-vite-plugin';
//   export default {
//     plugins: [keyhole({ key: process.env.KEYHOLE_SECRET, keyId: 'main',
//                         baseUrl: 'https://img.example.com', expiresIn: 7 * 86400 })],
//   };
//
// The parameters after "?" are signed as the token's secure args by default
// (params: 'args'), so the visitor cannot change them; params: 'query' puts
// them in the URL unsigned instead. Either way they are validated like the
// server validates them, and an invalid one fails the build. The key stays
// in the build: only signed URLs reach the bundle.
//
// The plugin only uses the hooks Rollup and Vite share (buildStart,
// resolveId, load), so it runs under either, and its hooks can be called
// directly (see test/plugin.test.mjs).
import { load as loadSigner } from '@keyhole/signer';

const PREFIX = 'keyhole:';
const RESOLVED = '\0keyhole:';

/**
 * keyhole returns the plugin.
 *
 * @param {object} opts
 * @param {string|Uint8Array} [opts.key]   the HMAC key (a string's UTF-8 bytes); or:
 * @param {string} [opts.keyBase64]        the key as base64 text
 * @param {string} [opts.keyId]            the key id (token header "kid")
 * @param {string} [opts.baseUrl]          the Keyhole server, e.g. https://img.example.com
 * @param {number} [opts.expiresIn]        seconds the URLs stay valid after the build (default 7 days)
 * @param {Date|number} [opts.expiresAt]   or a fixed expiry (Date or unix seconds)
 * @param {'args'|'query'} [opts.params]   where the import's parameters go (default 'args')
 * @param {() => number} [opts.now]        the clock in unix seconds (tests)
 */
export default function keyhole(opts = {}) {
  const { key, keyBase64, keyId, baseUrl, expiresAt, params = 'args', now } = opts;
  const expiresIn = expiresAt === undefined ? (opts.expiresIn ?? 7 * 86400) : undefined;
  if (params !== 'args' && params !== 'query') throw new Error("keyhole plugin: params must be 'args' or 'query'");
  let ready;

  /** state loads the module and creates the signer once, on first use. */
  function state() {
    ready ??= loadSigner().then((m) => ({ m, signer: m.createSigner({ key, keyBase64, keyId, now }) }));
    return ready;
  }

  return {
    name: 'keyhole',

    buildStart() {
      // Fail early on a bad key rather than at the first import.
      return state().then(() => undefined);
    },

    resolveId(id) {
      return id.startsWith(PREFIX) ? RESOLVED + id.slice(PREFIX.length) : null;
    },

    async load(id) {
      if (!id.startsWith(RESOLVED)) return null;
      const spec = id.slice(RESOLVED.length);
      const q = spec.indexOf('?');
      const path = q < 0 ? spec : spec.slice(0, q); // the file's path as written, not URL-encoded
      const values = Object.fromEntries(new URLSearchParams(q < 0 ? '' : spec.slice(q + 1)));
      const { srcset } = values;
      delete values.srcset;
      const { m, signer } = await state();
      const sign = { path, baseUrl, ...(expiresAt === undefined ? { expiresIn } : { expiresAt }) };
      if (params === 'args') {
        if (Object.keys(values).length > 0) sign.args = values;
      } else {
        const errs = m.validateParams(values);
        if (errs.length > 0) {
          throw new Error(`keyhole plugin: ${PREFIX}${spec}: ${errs.map((e) => `${e.name}=${e.value}: ${e.reason}`).join('; ')}`);
        }
        sign.query = values;
      }
      let value;
      let urls = [];
      try {
        if (srcset === undefined) {
          value = signer.sign(sign).url;
        } else {
          // "320,640,1280": the signer refuses anything but distinct whole
          // widths within the server's limits.
          ({ srcset: value, urls } = signer.srcset({ ...sign, widths: srcset.split(',').map((w) => (w.trim() === '' ? NaN : Number(w))) }));
        }
      } catch (err) {
        err.message = `keyhole plugin: ${PREFIX}${spec}: ${err.message}`;
        throw err;
      }
      return { code: `export default ${JSON.stringify(value)};\nexport const urls = ${JSON.stringify(urls)};\n`, map: null };
    },
  };
}
