// chromium.mjs opens a page that imports @keyhole/signer in headless
// Chromium ($CHROMIUM, default /usr/bin/chromium, driven by playwright-core
// with no downloaded browser), for test/runtimes.test.mjs and
// bench/runtimes.mjs.
import { createServer } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const pkgDir = new URL('../', import.meta.url);

/**
 * withSignerPage serves, on 127.0.0.1, the package's "browser" entry (as
 * package.json "exports" names it), core.js, dist/wasm_exec.js and
 * dist/keyhole.wasm (as application/wasm), the package files listed in
 * extra, and at / a page whose import map points '@keyhole/signer' at the
 * entry and which runs the module script `script`. It opens the page, waits
 * until `script` has set window[ready], calls use(tab, entry) and closes
 * everything, returning what use returned.
 */
export async function withSignerPage({ extra = [], script, ready }, use) {
  const pkg = JSON.parse(await readFile(new URL('package.json', pkgDir), 'utf8'));
  const entry = pkg.exports['.'].browser.replace(/^\.\//, '');
  const files = new Set([entry, 'core.js', 'dist/wasm_exec.js', 'dist/keyhole.wasm', ...extra]);
  const page = `<!doctype html><meta charset="utf-8"><title>@keyhole/signer</title>
<script type="importmap">${JSON.stringify({ imports: { '@keyhole/signer': `/${entry}` } })}</script>
<script type="module">${script}</script>`;
  const site = createServer(async (req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
      return;
    }
    const file = path.slice(1);
    if (!files.has(file)) {
      res.writeHead(404).end();
      return;
    }
    const type = file.endsWith('.wasm') ? 'application/wasm' : 'text/javascript; charset=utf-8';
    res.writeHead(200, { 'content-type': type }).end(await readFile(new URL(file, pkgDir)));
  });
  await new Promise((r) => site.listen(0, '127.0.0.1', r));
  const profile = await mkdtemp(join(tmpdir(), 'keyhole-chromium-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      timeout: 60_000,
    });
    const tab = await context.newPage();
    const errors = [];
    tab.on('pageerror', (err) => errors.push(err.message));
    await tab.goto(`http://127.0.0.1:${site.address().port}/`, { timeout: 30_000 });
    await tab.waitForFunction((name) => window[name] !== undefined, ready, { timeout: 30_000 }).catch((err) => {
      throw new Error(`${err.message}; page errors: ${errors.join('; ')}`);
    });
    return await use(tab, entry);
  } finally {
    await context?.close();
    site.closeAllConnections();
    await new Promise((r) => site.close(r));
    await rm(profile, { recursive: true, force: true });
  }
}
