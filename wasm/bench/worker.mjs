// worker.mjs: probe.mjs in workerd. Time stands still inside a Worker while
// it computes (Date.now() and performance.now() advance only across I/O),
// so runtimes.mjs measures from outside: GET /cold loads the module and
// signs one URL, POST /many?n=N signs N batches of 1000 (/many-async: with
// signManyAsync), GET /hmac says which HMAC each uses, GET /ping does
// nothing (the HTTP round trip to subtract).
import { load } from '@keyhole/signer';
import { cold, batches, batchesAsync } from './probe.mjs';

let signer;

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === '/cold') {
      ({ signer } = await cold(load, () => 0));
      return new Response('ok');
    }
    if (url.pathname === '/many-async') {
      return new Response(String(await batchesAsync(signer, Number(url.searchParams.get('n')))));
    }
    if (url.pathname === '/hmac') {
      return new Response(JSON.stringify({ hmac: signer.hmac, hmacAsync: signer.hmacAsync }));
    }
    if (url.pathname === '/many') {
      return new Response(String(batches(signer, Number(url.searchParams.get('n')))));
    }
    return new Response('pong');
  },
};
