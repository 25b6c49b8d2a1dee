// worker.js: a Cloudflare Worker that signs Keyhole URLs at the edge, per
// request, with a short lifetime. A visitor with a session gets
//
//   GET /img/<path>                 302 to a signed URL of <prefix><path>
//   GET /sign?path=<path>           {"url","expiresAt"} as JSON
//   GET /sign?path=<path>&widths=320,640,1280
//                                   {"srcset","urls","expiresAt"}: one token
//                                   per width, w locked (signer.srcset)
//
// and without one 401. The URLs point at the Keyhole server (KEYHOLE_URL)
// and die TTL_SECONDS (default 60) after they were made: a visitor who
// copies one shares it for a minute, not for the week a build-time URL
// would live.
//
// THE SESSION CHECK IS DELIBERATELY SIMPLE, for the example only: a request
// "has a session" when its `session` cookie or its `Authorization: Bearer`
// header equals the SESSION_SECRET binding. A real Worker checks its own
// session here (a signed cookie, an OAuth token, Cloudflare Access) and may
// decide per user which paths to sign.
//
// Bindings (wrangler.toml [vars] and `wrangler secret put`):
//   KEYHOLE_SECRET   the HMAC key the Keyhole protection trusts (a secret)
//   KEYHOLE_KEY_ID   its id, the token's "kid" (optional)
//   KEYHOLE_URL      the Keyhole server, e.g. https://img.example.com
//   KEYHOLE_PREFIX   the protected folder the paths are below (default /private/)
//   SESSION_SECRET   the example's session value (see above)
//   TTL_SECONDS      the URLs' lifetime in seconds (default 60)
import { load } from '@keyhole/signer';

/** One signer per isolate and key: it keeps its keyed HMAC state. */
let cached;

async function signerFor(env) {
  if (cached?.key !== env.KEYHOLE_SECRET) {
    const m = await load(); // keyhole.wasm is imported as a module, once per isolate
    cached = { key: env.KEYHOLE_SECRET, signer: m.createSigner({ key: env.KEYHOLE_SECRET, keyId: env.KEYHOLE_KEY_ID || undefined }) };
  }
  return cached.signer;
}

/** hasSession is the example's stand-in for a real session check. */
function hasSession(request, env) {
  const want = env.SESSION_SECRET;
  if (!want) return false;
  const auth = request.headers.get('authorization') ?? '';
  if (auth === `Bearer ${want}`) return true;
  const cookies = (request.headers.get('cookie') ?? '').split(';').map((c) => c.trim());
  return cookies.includes(`session=${want}`);
}

function text(status, body, headers = {}) {
  return new Response(`${body}\n`, { status, headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...headers } });
}

/** fileFor maps a path below the protected prefix to the file's full path. */
function fileFor(rest, env) {
  const prefix = env.KEYHOLE_PREFIX || '/private/';
  return prefix + rest.replace(/^\/+/, '');
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (request.method !== 'GET' && request.method !== 'HEAD') return text(405, 'method not allowed', { allow: 'GET, HEAD' });
    if (!url.pathname.startsWith('/img/') && url.pathname !== '/sign') return text(404, 'not found');
    if (!hasSession(request, env)) return text(401, 'no session');

    const ttl = Number(env.TTL_SECONDS || 60);
    const common = { expiresIn: ttl, baseUrl: env.KEYHOLE_URL };
    try {
      const signer = await signerFor(env);
      if (url.pathname.startsWith('/img/')) {
        // The path as the visitor wrote it (percent-decoded), below the prefix.
        const path = fileFor(decodeURIComponent(url.pathname.slice('/img'.length)), env);
        const { url: signed } = signer.sign({ path, ...common });
        // A redirect nobody may cache: the next visitor gets a fresh URL.
        return new Response(null, { status: 302, headers: { location: signed, 'cache-control': 'private, no-store' } });
      }
      const path = fileFor(url.searchParams.get('path') ?? '', env);
      const widths = url.searchParams.get('widths');
      const body = widths
        ? signer.srcset({ path, widths: widths.split(',').map(Number), ...common })
        : signer.sign({ path, ...common });
      delete body.token; // the URL carries it; nothing else needs it
      return Response.json(body, { headers: { 'cache-control': 'private, no-store' } });
    } catch (err) {
      // KeyholeError messages name the input, never the key.
      if (err && typeof err.code === 'string' && err.code.startsWith('ERR_KEYHOLE_') && err.code !== 'ERR_KEYHOLE_INTERNAL' && err.code !== 'ERR_KEYHOLE_LOAD') {
        return text(400, `${err.code}: ${err.message}`);
      }
      return text(500, 'cannot sign the URL');
    }
  },
};
