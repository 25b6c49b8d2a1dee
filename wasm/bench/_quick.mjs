import { createSecretKey } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { load } from '../index.js';
const m = await load({ wasm: process.argv[2] });
const s = m.createSigner({ key: 'topsecret', onWarning() {} });
const sw = m.createSigner({ key: 'topsecret', onWarning() {}, hmac: 'wasm' });
const args = { text: 'Hello' };
const batch = Array.from({ length: 1000 }, (_, i) => ({ path: `/private/photos/img-${i}.jpg`, expiresIn: 300, args, query: { w: '10%', h: '25%' } }));
function rate(f, ms = 400) { let n = 0; const t = performance.now(); const c = process.cpuUsage(); while (performance.now() - t < ms) n += f(); const d = process.cpuUsage(c); return n / ((d.user + d.system) / 1e6); }
const ko = createSecretKey(Buffer.from('topsecret'));
const jw = () => { for (let i = 0; i < 100; i++) { const p = new URLSearchParams({ w: '10%', h: '25%' }); p.append('jwt', jwt.sign({ args }, ko, { algorithm: 'HS256', expiresIn: 300, audience: batch[i].path })); } return 100; };
const many = () => s.signMany(batch).length;
const manyw = () => sw.signMany(batch).length;
rate(many, 1500); rate(jw, 1500); rate(manyw, 1000);
const A = [], B = [], C = [];
for (let r = 0; r < 9; r++) { A.push(rate(many)); B.push(rate(jw)); C.push(rate(manyw)); }
const med = (x) => x.sort((a, b) => a - b)[x.length >> 1];
const ratios = A.map((a, i) => a / B[i]);
console.log(`signMany ${Math.round(med([...A]))}/s wasm-hmac ${Math.round(med([...C]))}/s jwt ${Math.round(med([...B]))}/s ratio of medians ${(med([...A]) / med([...B])).toFixed(2)} per-round ${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}`);
