// Compiled by test/types.test.mjs with tsc --noEmit: every export of the
// ES module entry, used as documented.
import { load, KeyholeError, type HmacSource, type ParamError, type SignResult, type SrcsetResult } from '@keyhole/signer';

const m = await load();
const m2 = await load({ wasm: new URL('https://example.com/keyhole.wasm') });
const signer = m.createSigner({ key: 'topsecret', keyId: 'main', param: 'jwt', now: () => Date.now() / 1000 });
const r: SignResult = signer.sign({
  path: '/private/a.jpg',
  expiresIn: 300,
  audience: ['/private/'],
  baseUrl: 'https://img.example.com',
  query: { w: 300, h: '10%', flip: true, tag: ['a', 'b'] },
  args: { text: { text: 'Hello', size: 20 }, grayscale: true },
});
const url: string = r.url;
const when: Date = r.expiresAt;
const many: SignResult[] = signer.signMany([{ path: '/a.jpg', expiresAt: new Date() }, { path: '/b.jpg', expiresAt: 1_700_000_000, notBefore: 1 }]);
const errs: ParamError[] = m2.validateParams(new URLSearchParams('w=0'));
const { header, payload } = m.decode(r.token);
const alg: string = header.alg;
const exp: number = payload.exp;
try {
  m.createSigner({ keyBase64: 'AAAA' }).sign({ path: '/x', expiresIn: 1 });
} catch (e) {
  const err = e as KeyholeError;
  const code: 'ERR_KEYHOLE_BAD_INPUT' | 'ERR_KEYHOLE_BAD_KEY' | 'ERR_KEYHOLE_BAD_PATH' | 'ERR_KEYHOLE_INVALID_PARAMS' | 'ERR_KEYHOLE_BAD_TOKEN' | 'ERR_KEYHOLE_LOAD' | 'ERR_KEYHOLE_INTERNAL' = err.code;
  const list: ParamError[] | undefined = err.errors;
  const index: number | undefined = err.index;
  console.log(code, list, index, err.result);
}
console.log(url, when, many, errs, alg, exp, signer.keyId);
m.createSigner({ key: 'short', onWarning: (message: string) => console.log(message) });
try {
  m.decode('x');
} catch (e) {
  if (e instanceof KeyholeError) console.log(e.code, e.result);
}
const capped = m.createSigner({ key: 'k', maxExpiresIn: 3600, hmac: 'wasm' });
const source: 'node:crypto' | 'wasm' = capped.hmac;
const sourceAsync: HmacSource = capped.hmacAsync;
const later: Promise<SignResult[]> = capped.signManyAsync([{ path: '/a.jpg', expiresIn: 60 }]);
console.log(source, sourceAsync, later);
const runtimeHmac = m.createSigner({ key: 'k', hmac: 'runtime' });
console.log(runtimeHmac.hmacAsync, m.createSigner({ key: 'k', hmac: 'auto' }).hmac);
// @ts-expect-error hmac is 'auto', 'runtime' or 'wasm'
m.createSigner({ key: 'k', hmac: 'openssl' });
// @ts-expect-error maxExpiresIn is seconds
m.createSigner({ key: 'k', maxExpiresIn: '30d' });
// @ts-expect-error onWarning takes a function
m.createSigner({ key: 'k', onWarning: 'log' });

// @ts-expect-error path is required
signer.sign({ expiresIn: 1 });
// @ts-expect-error args values must be JSON
signer.sign({ path: '/a', expiresIn: 1, args: { w: () => 1 } });

const set: SrcsetResult = signer.srcset({ path: '/a.jpg', widths: [320, 640], expiresIn: 300, args: { q: 80 }, baseUrl: 'https://img.example.com' });
const attr: string = set.srcset;
const first: { width: number; url: string } = set.urls[0];
console.log(attr, first.width, first.url, set.expiresAt.getTime());
// @ts-expect-error widths are required
signer.srcset({ path: '/a.jpg', expiresIn: 1 });
