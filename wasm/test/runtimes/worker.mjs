// worker.mjs runs the conformance set (../conformance.mjs) in workerd: a
// POST of the input as JSON answers the report as JSON. The workerd config
// (../workerd.mjs) names the package's modules as a bundler resolving
// '@keyhole/signer' with the "workerd" condition would.
import { load } from '@keyhole/signer';
import { run } from '../conformance.mjs';

export default {
  async fetch(request) {
    if (request.method !== 'POST') return new Response('POST the conformance input\n', { status: 405 });
    const report = await run(load, await request.json());
    return Response.json(report);
  },
};
