import { load } from '../index.js';
const m = await load({ wasm: '/tmp/kh/named.wasm' });
const s = m.createSigner({ key: 'topsecret-topsecret-topsecret-topsecret' });
const args = { text: 'Hello' };
const batch = Array.from({ length: 1000 }, (_, i) => ({ path: `/private/photos/img-${i}.jpg`, expiresIn: 300, args, query: { w: '10%', h: '25%' } }));
const t = performance.now(); let n = 0;
while (performance.now() - t < 4000) n += s.signMany(batch).length;
console.log(n / 4);
