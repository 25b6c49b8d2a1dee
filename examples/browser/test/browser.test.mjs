// The browser example in Debian's chromium (driven by playwright-core, no
// downloaded browsers): the page loads the WebAssembly signer, signs a URL
// for a real `keyhole serve` on loopback, and the image loads.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startKeyhole, png } from '../../../wasm/test/helpers.mjs';
import { startStatic } from '../serve.mjs';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const WAIT = 20_000; // every wait in the page is bounded by this

let keyhole;
let site;
let context;
let profile;
const consoleLines = [];

before(async () => {
  await access(CHROMIUM).catch(() => {
    throw new Error(`${CHROMIUM} not found: apt-get install -y chromium (or set CHROMIUM)`);
  });
  keyhole = await startKeyhole({ files: { 'private/a.png': png(16, 12) } });
  site = await startStatic(0);
  profile = await mkdtemp(join(tmpdir(), 'keyhole-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: 60_000,
  });
  context.setDefaultTimeout(WAIT);
}, { timeout: 240_000 });

after(async () => {
  await context?.close();
  await site?.close();
  await keyhole?.stop();
  if (profile) await rm(profile, { recursive: true, force: true });
});

/** open loads the example page with the given query and returns the page. */
async function open(query) {
  const page = await context.newPage();
  page.on('console', (msg) => consoleLines.push(`${msg.type()}: ${msg.text()}`));
  page.on('pageerror', (err) => consoleLines.push(`pageerror: ${err.message}`));
  await page.goto(`${site.url}/?${new URLSearchParams(query)}`, { timeout: WAIT });
  return page;
}

function diagnostics() {
  return `\nbrowser console:\n${consoleLines.join('\n')}`;
}

test('the page signs a URL and the image loads from keyhole serve', { timeout: 60_000 }, async () => {
  const page = await open({ server: keyhole.base, key: 'topsecret', keyId: 'main', path: '/private/a.png', expiresIn: '60', autosign: '1' });
  try {
    await page.waitForFunction(() => document.getElementById('preview').naturalWidth > 0, null, { timeout: WAIT });
  } catch (err) {
    const status = await page.textContent('#status');
    assert.fail(`image did not load: ${err.message}; status: ${status}${diagnostics()}`);
  }
  assert.equal(await page.evaluate(() => document.getElementById('preview').naturalWidth), 16);
  assert.equal(await page.getAttribute('#status', 'data-state'), 'loaded');
  const url = await page.getAttribute('#url', 'href');
  assert.ok(url.startsWith(`${keyhole.base}/private/a.png?jwt=`), url);
  // The same URL outside the browser: 200 with the auth result "ok".
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-keyhole-auth-result'), 'ok');
  await page.close();
});

test('the page shows the error code for a bad path and a wrong key fails to load', { timeout: 60_000 }, async () => {
  const page = await open({ server: keyhole.base, key: 'topsecret', path: '/private/../a.png', autosign: '1' });
  await page.waitForFunction(() => document.getElementById('status').dataset.state === 'error', null, { timeout: WAIT });
  assert.match(await page.textContent('#status'), /^ERR_KEYHOLE_BAD_PATH: /);

  // A wrong key signs fine in the page, but the server refuses the image.
  await page.fill('input[name=key]', 'wrong');
  await page.fill('input[name=path]', '/private/a.png');
  await page.click('button[type=submit]');
  await page.waitForFunction(() => document.getElementById('status').textContent.startsWith('The image did not load'), null, { timeout: WAIT });
  assert.equal(await page.evaluate(() => document.getElementById('preview').naturalWidth), 0);
  await page.close();
});
