// The conformance set: the same checks in every runtime the signer supports
// (Node.js, Chromium, Deno, Bun, workerd). It uses no API of any runtime,
// only the package's load() and what every JavaScript engine has, so one
// file runs everywhere; test/runtimes.test.mjs runs it in each runtime and
// then verifies, in Node.js, the tokens it signed (with npm jsonwebtoken
// and against a real `keyhole serve`).
//
// run(load, input) takes
//
//   input.key, input.keyId  the key `keyhole serve` trusts for /private/
//   input.now               unix seconds: the signer's clock
//   input.baseUrl           the server's URL, prefixed to every signed URL
//   input.paramsCases       transform/testdata/params_cases.json, the table
//                           the Go tests and the Node.js tests also read
//
// and resolves to a JSON-able report:
//
//   checks  [{ name, ok, message }]: every check made in the runtime
//   signed  [{ name, url, token, claims, width? }]: URLs for the driver to
//           verify; claims are the payload the token must hold, width the
//           image width the server must return
//   loadMs  how long the first load() took (compile and start), in ms

/** ERROR_CASES: [name, function of (module, signer, now), code, message pattern]. */
const ERROR_CASES = [
  ['no key', (m) => m.createSigner({}), 'ERR_KEYHOLE_BAD_KEY', /the key is missing/],
  ['undefined key', (m) => m.createSigner({ key: undefined }), 'ERR_KEYHOLE_BAD_KEY', /^key is undefined/],
  ['misspelled signer option', (m) => m.createSigner({ key: 'k', keyID: 'a' }), 'ERR_KEYHOLE_BAD_INPUT', /unknown option "keyID"/],
  ['decode of an alg none token', (m) => m.decode('eyJhbGciOiJub25lIn0.eyJhdWQiOiIvIiwiZXhwIjo5OTk5OTk5OTk5fQ.'), 'ERR_KEYHOLE_BAD_TOKEN', /algorithm not allowed/],
  ['empty key', (m) => m.createSigner({ key: '' }), 'ERR_KEYHOLE_BAD_KEY', /empty/],
  ['bad base64 key', (m) => m.createSigner({ keyBase64: 'sup3r$ecret!' }), 'ERR_KEYHOLE_BAD_KEY', /base64/],
  ['unusable keyId', (m) => m.createSigner({ key: 'k', keyId: 'a b"' }), 'ERR_KEYHOLE_BAD_KEY', /keyId/],
  ['dot-dot path', (m, s) => s.sign({ path: '/a/../b.jpg', expiresIn: 60 }), 'ERR_KEYHOLE_BAD_PATH', /^path /],
  ['relative path', (m, s) => s.sign({ path: 'a.jpg', expiresIn: 60 }), 'ERR_KEYHOLE_BAD_PATH', /^path "a\.jpg"/],
  ['lone surrogate in path', (m, s) => s.sign({ path: '/\udc00x', expiresIn: 60 }), 'ERR_KEYHOLE_BAD_PATH', /surrogate/],
  ['no expiry', (m, s) => s.sign({ path: '/a' }), 'ERR_KEYHOLE_BAD_INPUT', /expiresIn or expiresAt is required/],
  ['both expiries', (m, s) => s.sign({ path: '/a', expiresIn: 1, expiresAt: 2 }), 'ERR_KEYHOLE_BAD_INPUT', /not both/],
  ['audience not covering the path', (m, s) => s.sign({ path: '/a', expiresIn: 60, audience: '/b/' }), 'ERR_KEYHOLE_BAD_INPUT', /audience/],
  ['token parameter in query', (m, s) => s.sign({ path: '/a', expiresIn: 60, query: { jwt: 'x' } }), 'ERR_KEYHOLE_BAD_INPUT', /token parameter/],
  ['unknown option', (m, s) => s.sign({ path: '/a', expiresIn: 60, expires: 5 }), 'ERR_KEYHOLE_BAD_INPUT', /unknown option "expires"/],
  ['invalid secure args', (m, s) => s.sign({ path: '/a', expiresIn: 60, args: { w: 'wide' } }), 'ERR_KEYHOLE_INVALID_PARAMS', /\bw=wide\b/],
  ['signMany names the failing entry', (m, s) => s.signMany([{ path: '/a', expiresIn: 60 }, { path: '/a/..', expiresIn: 60 }]), 'ERR_KEYHOLE_BAD_PATH', /^\[1\] path/],
  ['decode of a non-token', (m) => m.decode('not.a.token'), 'ERR_KEYHOLE_BAD_TOKEN', /server would refuse/],
  ['srcset without widths', (m, s) => s.srcset({ path: '/a', expiresIn: 60 }), 'ERR_KEYHOLE_BAD_INPUT', /widths must be an array/],
  ['srcset with no width', (m, s) => s.srcset({ path: '/a', widths: [], expiresIn: 60 }), 'ERR_KEYHOLE_BAD_INPUT', /at least one width/],
  ['srcset with a fractional width', (m, s) => s.srcset({ path: '/a', widths: [320, 640.5], expiresIn: 60 }), 'ERR_KEYHOLE_BAD_INPUT', /^widths\[1\] must be a whole number/],
  ['srcset with a zero width', (m, s) => s.srcset({ path: '/a', widths: [0], expiresIn: 60 }), 'ERR_KEYHOLE_BAD_INPUT', /^widths\[0\]/],
  ['srcset with a width past the limit', (m, s) => s.srcset({ path: '/a', widths: [320, 9000], expiresIn: 60 }), 'ERR_KEYHOLE_BAD_INPUT', /^widths\[1\] .*8192/],
  ['srcset with a repeated width', (m, s) => s.srcset({ path: '/a', widths: [320, 640, 320], expiresIn: 60 }), 'ERR_KEYHOLE_BAD_INPUT', /^widths\[2\] repeats widths\[0\]/],
  ['srcset with a width as text', (m, s) => s.srcset({ path: '/a', widths: ['320'], expiresIn: 60 }), 'ERR_KEYHOLE_BAD_INPUT', /^widths\[0\] must be a number/],
  ['srcset with w in args', (m, s) => s.srcset({ path: '/a', widths: [320], expiresIn: 60, args: { w: 100 } }), 'ERR_KEYHOLE_BAD_INPUT', /^args\.w conflicts/],
  ['srcset with h in args', (m, s) => s.srcset({ path: '/a', widths: [320], expiresIn: 60, args: { h: 100 } }), 'ERR_KEYHOLE_BAD_INPUT', /^args\.h conflicts/],
  ['srcset with a crop width in args', (m, s) => s.srcset({ path: '/a', widths: [320], expiresIn: 60, args: { cw: 100 } }), 'ERR_KEYHOLE_BAD_INPUT', /^args\.cw conflicts/],
  ['srcset with a canvas width in args', (m, s) => s.srcset({ path: '/a', widths: [320], expiresIn: 60, args: { canvas: { width: 900 } } }), 'ERR_KEYHOLE_BAD_INPUT', /^args\.canvas\.width conflicts/],
  ['srcset with invalid args', (m, s) => s.srcset({ path: '/a', widths: [320], expiresIn: 60, args: { q: 0 } }), 'ERR_KEYHOLE_INVALID_PARAMS', /\bq=0\b/],
  ['expiresIn over the 30-day cap', (m, s) => s.sign({ path: '/a', expiresIn: 1e10 }), 'ERR_KEYHOLE_BAD_INPUT', /^expiresIn 10000000000 is longer than maxExpiresIn, 2592000 seconds \(30 days\)/],
  ['expiresIn one second over the cap', (m, s) => s.sign({ path: '/a', expiresIn: 30 * 86400 + 1 }), 'ERR_KEYHOLE_BAD_INPUT', /^expiresIn 2592001 is longer than maxExpiresIn/],
  ['expiresAt past the cap', (m, s, now) => s.sign({ path: '/a', expiresAt: now + 31 * 86400 }), 'ERR_KEYHOLE_BAD_INPUT', /^expiresAt is 2678400 seconds from now, longer than maxExpiresIn, 2592000 seconds/],
  ['signMany over the cap names the entry', (m, s) => s.signMany([{ path: '/a', expiresIn: 60 }, { path: '/a', expiresIn: 1e10 }]), 'ERR_KEYHOLE_BAD_INPUT', /^\[1\] expiresIn 10000000000 is longer than maxExpiresIn/],
  ['srcset over the cap', (m, s) => s.srcset({ path: '/a', widths: [320], expiresIn: 1e10 }), 'ERR_KEYHOLE_BAD_INPUT', /^expiresIn 10000000000 is longer than maxExpiresIn/],
  ['a lower maxExpiresIn', (m) => m.createSigner({ key: 'k', maxExpiresIn: 3600, onWarning() {} }).sign({ path: '/a', expiresIn: 3601 }), 'ERR_KEYHOLE_BAD_INPUT', /^expiresIn 3601 is longer than maxExpiresIn, 3600 seconds:/],
  ['maxExpiresIn 0', (m) => m.createSigner({ key: 'k', maxExpiresIn: 0 }), 'ERR_KEYHOLE_BAD_INPUT', /^maxExpiresIn must be a whole number of seconds from 1/],
  ['maxExpiresIn as text', (m) => m.createSigner({ key: 'k', maxExpiresIn: '30d' }), 'ERR_KEYHOLE_BAD_INPUT', /^maxExpiresIn must be a number/],
  ['an unknown hmac', (m) => m.createSigner({ key: 'k', hmac: 'openssl' }), 'ERR_KEYHOLE_BAD_INPUT', /^hmac must be 'auto' \(the fastest here\), 'runtime'/],
  ['srcset with a bad path', (m, s) => s.srcset({ path: '/a/./b', widths: [320], expiresIn: 60 }), 'ERR_KEYHOLE_BAD_PATH', /^path /],
];

/** same reports whether two JSON-able values are equal (key order aside). */
function same(a, b) {
  return JSON.stringify(sorted(a)) === JSON.stringify(sorted(b));
}

function sorted(v) {
  if (Array.isArray(v)) return v.map(sorted);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted(v[k])]));
  return v;
}

/** run runs the conformance set with load and input; see the file comment. */
export async function run(load, input) {
  const checks = [];
  const check = async (name, f) => {
    try {
      await f();
      checks.push({ name, ok: true, message: '' });
    } catch (err) {
      checks.push({ name, ok: false, message: `${err && err.code ? `${err.code}: ` : ''}${err && err.message}` });
    }
  };
  const expect = (cond, message) => {
    if (!cond) throw new Error(message);
  };

  const started = Date.now();
  const m = await load();
  const loadMs = Date.now() - started;
  const { key, keyId, now, baseUrl } = input;
  const signer = m.createSigner({ key, keyId, now: () => now });

  await check('load() shares one module', async () => expect(await load() === m, 'a second load() gave another module'));
  await check('a failing load is ERR_KEYHOLE_LOAD', async () => {
    try {
      await load({ wasm: new Uint8Array([0, 1, 2, 3]) });
    } catch (err) {
      expect(err.code === 'ERR_KEYHOLE_LOAD', `code ${err.code}: ${err.message}`);
      return;
    }
    throw new Error('garbage bytes loaded');
  });

  for (const c of input.paramsCases) {
    await check(`validateParams: ${c.name}`, () => {
      const errs = m.validateParams(c.params);
      if (c.valid) {
        expect(errs.length === 0, `valid, but refused: ${JSON.stringify(errs)}`);
        return;
      }
      const names = [...new Set(errs.map((e) => e.name))].sort();
      expect(same(names, [...c.errors].sort()), `refused ${JSON.stringify(names)}, want ${JSON.stringify(c.errors)}`);
      for (const e of errs) expect(typeof e.value === 'string' && e.reason.length > 0, `malformed error ${JSON.stringify(e)}`);
    });
  }
  await check('secure args get the verdict of validateParams', () => {
    // The table's watermark cases sign only with the folder allowed.
    const withWatermarks = m.createSigner({ key, now: () => now, watermarks: ['/wm/'] });
    for (const c of input.paramsCases) {
      if (c.params.jwt !== undefined) continue; // the token parameter is not an arg
      let errs = [];
      try {
        withWatermarks.sign({ path: '/a.jpg', expiresIn: 60, args: c.params });
      } catch (err) {
        expect(err.code === 'ERR_KEYHOLE_INVALID_PARAMS', `${c.name}: ${err.code}: ${err.message}`);
        errs = err.errors;
      }
      expect(same(errs, m.validateParams(c.params)), `${c.name}: args and validateParams disagree`);
    }
  });

  for (const [name, f, code, re] of ERROR_CASES) {
    await check(`error: ${name} is ${code}`, () => {
      let thrown;
      try {
        f(m, signer, now);
      } catch (err) {
        thrown = err;
      }
      expect(thrown instanceof Error, 'no Error thrown');
      expect(thrown.code === code, `code ${thrown.code}: ${thrown.message}`);
      expect(re.test(thrown.message), `message ${JSON.stringify(thrown.message)} does not match ${re}`);
      expect(!thrown.message.includes(key), 'the message holds the key');
    });
  }

  const signed = [];
  const iat = Math.floor(now);
  await check('sign: a URL with the key id', () => {
    const r = signer.sign({ path: '/private/a.png', expiresIn: 120, baseUrl });
    expect(r.url === `${baseUrl}/private/a.png?jwt=${r.token}`, `url ${r.url}`);
    expect(r.expiresAt.getTime() === (iat + 120) * 1000, `expiresAt ${r.expiresAt.toISOString()}`);
    signed.push({ name: 'sign', url: r.url, token: r.token, claims: { aud: '/private/a.png', iat, exp: iat + 120 } });
  });
  await check('sign: secure args and an insecure query', () => {
    const args = { grayscale: true, q: 70 };
    const r = signer.sign({ path: '/private/a.png', expiresIn: 300, baseUrl, args, query: { flip: true } });
    expect(r.url.startsWith(`${baseUrl}/private/a.png?flip=true&jwt=`), `url ${r.url}`);
    signed.push({ name: 'sign with args and query', url: r.url, token: r.token, claims: { aud: '/private/a.png', iat, exp: iat + 300, args } });
  });
  await check('signMany: a folder audience and an absolute expiry', () => {
    const list = signer.signMany([
      { path: '/private/a.png', expiresAt: iat + 200, audience: '/private/', baseUrl },
      { path: '/private/sub/b.txt', expiresAt: iat + 200, audience: '/private/', baseUrl },
    ]);
    expect(list.length === 2, `${list.length} results`);
    list.forEach((r, i) => signed.push({ name: `signMany[${i}]`, url: r.url, token: r.token, claims: { aud: '/private/', iat, exp: iat + 200 } }));
  });
  await check('decode returns the header and claims as signed', () => {
    const { token } = signer.sign({ path: '/private/a.png', expiresIn: 60, args: { text: { text: 'Hi', size: 20 } } });
    const { header, payload } = m.decode(token);
    expect(same(header, { alg: 'HS256', kid: keyId, typ: 'JWT' }), `header ${JSON.stringify(header)}`);
    expect(same(payload, { aud: '/private/a.png', iat, exp: iat + 60, args: { text: { text: 'Hi', size: 20 } } }), `payload ${JSON.stringify(payload)}`);
  });
  await check('srcset: one token per width, w locked in its args', () => {
    const widths = [320, 640, 1280];
    const args = { q: 80 };
    const r = signer.srcset({ path: '/private/big.png', widths, expiresIn: 600, args, baseUrl });
    expect(same(r.urls.map((u) => u.width), widths), `widths ${JSON.stringify(r.urls)}`);
    expect(r.srcset === r.urls.map((u) => `${u.url} ${u.width}w`).join(', '), `srcset ${r.srcset}`);
    expect(new Set(r.urls.map((u) => u.url)).size === widths.length, 'two widths share a URL');
    for (const u of r.urls) {
      const token = new URL(u.url).searchParams.get('jwt');
      expect(same(m.decode(token).payload.args, { ...args, w: u.width }), `args of ${u.width}w`);
      signed.push({ name: `srcset ${u.width}w`, url: u.url, token, width: u.width, claims: { aud: '/private/big.png', iat, exp: iat + 600, args: { ...args, w: u.width } } });
    }
    expect(r.expiresAt.getTime() === (iat + 600) * 1000, `expiresAt ${r.expiresAt.toISOString()}`);
  });
  // signMany signs with the runtime's HMAC where it has a synchronous one
  // (node:crypto), signManyAsync also with WebCrypto; hmac: 'auto' (the
  // default) picks what is fastest in the runtime, 'runtime' always the
  // runtime's, and the pure-Go HMAC (hmac: 'wasm') is the reference. All
  // must give the same tokens, byte for byte, for every kind of key and
  // request.
  const many = [
    { path: '/private/a.png', expiresIn: 90, baseUrl, args: { q: 75, text: { text: 'Grüße ✓', size: 20 } }, query: { w: 8, flip: true } },
    { path: '/private/sub/b.txt', expiresAt: iat + 400, notBefore: iat - 5, audience: ['/x/', '/private/'], baseUrl },
    { path: '/private/a.png', expiresIn: 30 * 86400, baseUrl, args: { text: 'x'.repeat(250) } },
    { path: '/private/a b/ü.jpg', expiresIn: 1 },
  ];
  const keys = [
    { key },
    { key: new TextEncoder().encode('a key of more than sixty-four bytes, which HMAC hashes before it pads it') },
    { keyBase64: ' dG9wc2VjcmV0LXRvcHNlY3JldC10b3BzZWNyZXQ/+w== ' },
    { keyBase64: 'dG9wc2VjcmV0LXRvcHNlY3JldC10b3BzZWNyZXQ_-w' },
  ];
  const hmac = {};
  for (const [i, k] of keys.entries()) {
    for (const mode of ['auto', 'runtime']) {
      await check(`signMany and signManyAsync with hmac: '${mode}' equal the pure-Go HMAC, key ${i}`, async () => {
        const opts = { ...k, keyId, now: () => now, onWarning() {} };
        const fast = m.createSigner(mode === 'auto' ? opts : { ...opts, hmac: mode });
        const reference = m.createSigner({ ...opts, hmac: 'wasm' });
        expect(reference.hmac === 'wasm' && reference.hmacAsync === 'wasm', `hmac: 'wasm' gave ${reference.hmac}, ${reference.hmacAsync}`);
        hmac[mode] = { sync: fast.hmac, async: fast.hmacAsync };
        const want = JSON.stringify(reference.signMany(many));
        const got = JSON.stringify(fast.signMany(many));
        expect(got === want, `signMany (${fast.hmac}) differs from the pure-Go HMAC:\n${got}\n${want}`);
        const gotAsync = JSON.stringify(await fast.signManyAsync(many));
        expect(gotAsync === want, `signManyAsync (${fast.hmacAsync}) differs from the pure-Go HMAC:\n${gotAsync}\n${want}`);
        const single = JSON.stringify(many.map((o) => fast.sign(o)));
        expect(single === want, 'sign differs from signMany');
      });
    }
  }
  const runtimeSigner = m.createSigner({ key, keyId, now: () => now, hmac: 'runtime' });
  await check('signManyAsync: errors as signMany', async () => {
    try {
      await runtimeSigner.signManyAsync([{ path: '/a', expiresIn: 60 }, { path: '/a', expiresIn: 1e10 }]);
    } catch (err) {
      expect(err.code === 'ERR_KEYHOLE_BAD_INPUT' && /^\[1\] expiresIn/.test(err.message) && err.index === 1, `${err.code}: ${err.message}`);
      return;
    }
    throw new Error('no error');
  });
  await check('signMany and signManyAsync: URLs for the server', async () => {
    const list = [{ path: '/private/a.png', expiresIn: 100, baseUrl, args: { q: 60 } }, { path: '/private/sub/b.txt', expiresIn: 100, baseUrl }];
    const claims = [{ aud: '/private/a.png', iat, exp: iat + 100, args: { q: 60 } }, { aud: '/private/sub/b.txt', iat, exp: iat + 100 }];
    signer.signMany(list).forEach((r, i) => signed.push({ name: `signMany with ${signer.hmac} [${i}]`, url: r.url, token: r.token, claims: claims[i] }));
    runtimeSigner.signMany(list).forEach((r, i) => signed.push({ name: `signMany, hmac: 'runtime', with ${runtimeSigner.hmac} [${i}]`, url: r.url, token: r.token, claims: claims[i] }));
    (await runtimeSigner.signManyAsync(list)).forEach((r, i) => signed.push({ name: `signManyAsync, hmac: 'runtime', with ${runtimeSigner.hmacAsync} [${i}]`, url: r.url, token: r.token, claims: claims[i] }));
  });
  return { checks, signed, loadMs, hmac };
}
