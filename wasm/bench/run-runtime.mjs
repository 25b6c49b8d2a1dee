// run-runtime.mjs: probe.mjs in the runtime running this file (Node.js,
// Deno or Bun), through '@keyhole/signer' as that runtime resolves it.
// Argument: seconds per measurement. Prints { coldMs, perSecond,
// perSecondAsync, hmac, hmacAsync } as JSON.
import { load } from '@keyhole/signer';
import { cold, rate, rateAsync } from './probe.mjs';

const args = globalThis.Deno ? globalThis.Deno.args : process.argv.slice(2);
const clock = () => performance.now();
const { signer, ms } = await cold(load, clock);
const seconds = Number(args[0] ?? 2);
const perSecond = rate(signer, seconds, clock);
const perSecondAsync = await rateAsync(signer, seconds, clock);
console.log(JSON.stringify({ coldMs: ms, perSecond, perSecondAsync, hmac: signer.hmac, hmacAsync: signer.hmacAsync }));
