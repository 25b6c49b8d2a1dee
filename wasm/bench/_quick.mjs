import { createSecretKey, createHmac } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { load } from '/work/wt-wasm/wasm/index.js';
const m = await load();
const s = m.createSigner({ key: 'topsecret', onWarning() {} });
const args = { text: 'Hello' };
const batch = Array.from({ length: 1000 }, (_, i) => ({ path: `/private/photos/img-${i}.jpg`, expiresIn: 300, args, query: { w: '10%', h: '25%' } }));
function rate(f, ms = 1500) { let n = 0; const t = performance.now(); while (performance.now() - t < ms) n += f(); return n / ((performance.now() - t) / 1000); }
const ko = createSecretKey(Buffer.from('topsecret'));
const jw = () => { for (let i = 0; i < 100; i++) { const p = new URLSearchParams({ w: '10%', h: '25%' }); p.append('jwt', jwt.sign({ args }, ko, { algorithm: 'HS256', expiresIn: 300, audience: batch[i].path })); } return 100; };
const many = () => s.signMany(batch).length;
const hm = () => { for (let i = 0; i < 1000; i++) createHmac('sha256', ko).update('eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiIvcHJpdmF0ZS9waG90b3MvaW1nLTEyMy5qcGciLCJleHAiOjE3MzM1MjYwMDAsImlhdCI6MTczMzUyNTcwMCwiYXJncyI6eyJ0ZXh0IjoiSGVsbG8ifX0').digest('base64url'); return 1000; };
for (let r = 0; r < 2; r++) {
  const a = rate(many), b = rate(jw), c = rate(hm);
  console.log(`signMany ${Math.round(a)}/s jwt ${Math.round(b)}/s ratio ${(a / b).toFixed(2)} createHmac ${Math.round(c)}/s`);
}
