import { load } from '../index.js';
import jwt from 'jsonwebtoken';
const m = await load();
const now = () => 1765000000.5;
for (const o of [{ key: 'topsecret-topsecret-topsecret-topsecret' }, { keyBase64: 'dG9wc2VjcmV0LXRvcHNlY3JldC10b3BzZWNyZXQ_' }, { keyBase64: ' dG9wc2VjcmV0+A== ', onWarning() {} }]) {
  const a = m.createSigner({ ...o, now, keyId: 'k1' }), b = m.createSigner({ ...o, now, keyId: 'k1', hmac: 'wasm' });
  const list = [{ path: '/a/b c.jpg', expiresIn: 300, args: { text: 'Hi' }, query: { w: 3 }, baseUrl: 'https://x.test/' }, { path: '/x.jpg', expiresIn: 60 }];
  const x = a.signMany(list), y = b.signMany(list), z = await a.signManyAsync(list);
  console.log(a.hmac, b.hmac, JSON.stringify(x) === JSON.stringify(y), JSON.stringify(z) === JSON.stringify(y), x[0].url);
}
try { m.createSigner({ key: 'k'.repeat(32) }).sign({ path: '/a', expiresIn: 1e10 }); } catch (e) { console.log(e.code, e.message); }
try { m.createSigner({ key: 'k'.repeat(32) }).sign({ path: '/a', expiresAt: Date.now() / 1000 + 31 * 86400 }); } catch (e) { console.log(e.code, e.message); }
console.log(m.createSigner({ key: 'k'.repeat(32), maxExpiresIn: 400 * 86400 }).sign({ path: '/a', expiresIn: 365 * 86400 }).expiresAt);
try { m.createSigner({ key: 'k'.repeat(32), maxExpiresIn: 0 }); } catch (e) { console.log(e.code, e.message); }
