// The edge Worker in workerd (the Cloudflare Workers runtime, $WORKERD, set
// by wasm/test.sh) on loopback, signing for a real `keyhole serve`: a
// visitor with the example's session gets short-lived URLs that open the
// images; without one, nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import jwt from '../../../wasm/node_modules/jsonwebtoken/index.js';
import { startKeyhole, png, imageSize } from '../../../wasm/test/helpers.mjs';
import { startWorkerd, signerModules } from '../../../wasm/test/workerd.mjs';

const SECRET = 'edge-secret';
const SESSION = 'demo-session-value';
const TTL = 60;

let keyhole;
let worker;

before(async () => {
  keyhole = await startKeyhole({ secret: SECRET, files: { 'private/a.png': png(16, 12), 'private/big.png': png(1600, 900), 'public.txt': 'open\n' } });
  worker = await startWorkerd({
    modules: [
      { name: 'worker.js', file: fileURLToPath(new URL('../worker.js', import.meta.url)) },
      ...await signerModules(),
    ],
    bindings: { KEYHOLE_SECRET: SECRET, KEYHOLE_KEY_ID: 'main', KEYHOLE_URL: keyhole.base, SESSION_SECRET: SESSION, TTL_SECONDS: String(TTL) },
  });
}, { timeout: 200_000 });

after(async () => {
  await worker?.stop();
  await keyhole?.stop();
});

/** get fetches path from the Worker without following redirects. */
function get(path, headers = {}) {
  return fetch(`${worker.url}${path}`, { headers, redirect: 'manual', signal: AbortSignal.timeout(20_000) });
}

const cookie = { cookie: `theme=dark; session=${SESSION}` };

/** open fetches a signed URL from keyhole serve and checks it is an image of width. */
async function open(url, width) {
  const res = await fetch(url, { signal: AbortSignal.timeout(20_000) });
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal(res.headers.get('x-keyhole-auth-result'), 'ok');
  assert.equal(imageSize(Buffer.from(await res.arrayBuffer())).width, width);
}

test('without a session the Worker signs nothing', async () => {
  for (const headers of [{}, { cookie: 'session=guess' }, { authorization: 'Bearer guess' }, { cookie: `xsession=${SESSION}` }]) {
    const res = await get('/img/a.png', headers);
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('location'), null);
    assert.doesNotMatch(await res.text(), /jwt=/);
  }
});

test('a session cookie gets a redirect to a URL that opens the image and dies in TTL seconds', async () => {
  const res = await get('/img/a.png', cookie);
  assert.equal(res.status, 302);
  assert.equal(res.headers.get('cache-control'), 'private, no-store');
  const location = res.headers.get('location');
  assert.ok(location.startsWith(`${keyhole.base}/private/a.png?jwt=`), location);
  const claims = jwt.verify(new URL(location).searchParams.get('jwt'), SECRET, { algorithms: ['HS256'] });
  assert.equal(claims.aud, '/private/a.png');
  assert.equal(claims.exp - claims.iat, TTL);
  await open(location, 16);
});

test('a bearer header gets signed JSON, and a srcset whose every URL has its width', async () => {
  let res = await get('/sign?path=a.png', { authorization: `Bearer ${SESSION}` });
  assert.equal(res.status, 200);
  const one = await res.json();
  assert.deepEqual(Object.keys(one).sort(), ['expiresAt', 'url']);
  await open(one.url, 16);

  res = await get('/sign?path=big.png&widths=320,640,1280', { authorization: `Bearer ${SESSION}` });
  assert.equal(res.status, 200);
  const set = await res.json();
  assert.deepEqual(set.urls.map((u) => u.width), [320, 640, 1280]);
  assert.equal(set.srcset, set.urls.map((u) => `${u.url} ${u.width}w`).join(', '));
  for (const { url, width } of set.urls) {
    await open(url, width);
    await open(`${url}&w=1600`, width); // w is locked by the token
  }
});

test('bad input is 400 with the signer\'s error code, never a URL', async () => {
  const cases = [
    ['/img/a%5Cb.png', /^ERR_KEYHOLE_BAD_PATH: /],
    ['/sign?path=../public.txt', /^ERR_KEYHOLE_BAD_PATH: /],
    ['/sign?path=big.png&widths=320,320', /^ERR_KEYHOLE_BAD_INPUT: widths\[1\] repeats/],
    ['/sign?path=big.png&widths=99999', /^ERR_KEYHOLE_BAD_INPUT: widths\[0\]/],
  ];
  for (const [path, re] of cases) {
    const res = await get(path, cookie);
    assert.equal(res.status, 400, path);
    const body = await res.text();
    assert.match(body, re);
    assert.doesNotMatch(body, new RegExp(SECRET));
  }
  assert.equal((await get('/other', cookie)).status, 404);
  // The URL parser folds /img/%2e%2e/ away: outside /img/, so not found.
  assert.equal((await get('/img/%2e%2e/public.txt', cookie)).status, 404);
  assert.equal((await fetch(`${worker.url}/img/a.png`, { method: 'POST', headers: cookie })).status, 405);
});
