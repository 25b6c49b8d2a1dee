#!/usr/bin/env node
// serve.mjs serves the browser example: this directory at /, and the
// @keyhole/signer package (../../wasm: browser.js, core.js and dist/) at
// /signer/.
// Build the signer first (wasm/build.sh), start `keyhole serve`, then:
//
//   node serve.mjs [port]      # default 8090, on 127.0.0.1
//
// and open http://127.0.0.1:8090/?server=http://127.0.0.1:8080
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { extname } from 'node:path';

const here = new URL('./', import.meta.url);
const signer = new URL('../../wasm/', import.meta.url);

/** The only files served: URL path → file. */
const files = new Map([
  ['/', new URL('index.html', here)],
  ['/index.html', new URL('index.html', here)],
  ['/app.js', new URL('app.js', here)],
  ['/signer/browser.js', new URL('browser.js', signer)],
  ['/signer/core.js', new URL('core.js', signer)],
  ['/signer/dist/wasm_exec.js', new URL('dist/wasm_exec.js', signer)],
  ['/signer/dist/keyhole.wasm', new URL('dist/keyhole.wasm', signer)],
]);

const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.wasm': 'application/wasm' };

/**
 * startStatic listens on 127.0.0.1:port (0 = any free port) and resolves to
 * { url, close }.
 */
export function startStatic(port = 0) {
  const server = createServer(async (req, res) => {
    const file = files.get(new URL(req.url, 'http://x').pathname);
    if (!file || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': types[extname(fileURLToPath(file))], 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch {
      res.writeHead(500, { 'content-type': 'text/plain' }).end('cannot read the file: is the signer built (wasm/build.sh)?\n');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      resolve({
        url: `http://127.0.0.1:${server.address().port}`,
        close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
      });
    });
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { url } = await startStatic(Number(process.argv[2] ?? 8090));
  console.log(`browser example: ${url}/?server=http://127.0.0.1:8080`);
}
