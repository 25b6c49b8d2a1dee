// The plugin's hooks, called directly, and a real `vite build` with it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, readFile, readdir, rm } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { load } from '@keyhole/signer';
import keyhole from '../keyhole-plugin.mjs';

const NOW = 1_700_000_000;
const here = fileURLToPath(new URL('..', import.meta.url));
const m = await load();

/** exportsOf runs resolveId and load for an import specifier and returns the module's exports. */
async function exportsOf(plugin, spec) {
  const id = plugin.resolveId(spec, '/src/main.js');
  assert.ok(id && id.startsWith('\0'), `resolveId(${spec}) = ${id}`);
  const { code } = await plugin.load(id);
  const match = /^export default (".*");\nexport const urls = (\[.*\]);\n$/.exec(code);
  assert.ok(match, code);
  return { value: JSON.parse(match[1]), urls: JSON.parse(match[2]) };
}

/** urlOf returns the URL a plain keyhole: import exports. */
async function urlOf(plugin, spec) {
  const { value, urls } = await exportsOf(plugin, spec);
  assert.deepEqual(urls, []);
  return new URL(value, 'http://relative.invalid'); // a base for root-relative URLs
}

test('keyhole: imports become signed URLs with the parameters as secure args', async () => {
  const plugin = keyhole({ key: 'topsecret', keyId: 'main', baseUrl: 'https://img.example.com', expiresIn: 3600, now: () => NOW });
  assert.equal(plugin.name, 'keyhole');
  await plugin.buildStart();
  const url = await urlOf(plugin, 'keyhole:/private/a.jpg?w=300&text=Hi%20there');
  assert.equal(url.origin + url.pathname, 'https://img.example.com/private/a.jpg');
  assert.deepEqual([...url.searchParams.keys()], ['jwt']);
  const { header, payload } = m.decode(url.searchParams.get('jwt'));
  assert.equal(header.kid, 'main');
  assert.deepEqual(payload, { aud: '/private/a.jpg', exp: NOW + 3600, iat: NOW, args: { w: '300', text: 'Hi there' } });
  // Without parameters there are no args.
  const plain = await urlOf(plugin, 'keyhole:/private/b.jpg');
  assert.equal(m.decode(plain.searchParams.get('jwt')).payload.args, undefined);
});

test('params: "query" puts the parameters in the URL unsigned', async () => {
  const plugin = keyhole({ key: 'topsecret', params: 'query', expiresAt: new Date((NOW + 60) * 1000), now: () => NOW });
  const url = await urlOf(plugin, 'keyhole:/private/a.jpg?w=300&h=10%25');
  assert.equal(url.pathname, '/private/a.jpg');
  assert.equal(url.searchParams.get('w'), '300');
  assert.equal(url.searchParams.get('h'), '10%');
  assert.deepEqual(m.decode(url.searchParams.get('jwt')).payload, { aud: '/private/a.jpg', exp: NOW + 60, iat: NOW });
});

test('?srcset= exports the srcset text and one URL per width, w locked in each token', async () => {
  const plugin = keyhole({ key: 'topsecret', keyId: 'main', baseUrl: 'https://img.example.com', expiresIn: 3600, now: () => NOW });
  const { value, urls } = await exportsOf(plugin, 'keyhole:/private/hero.jpg?srcset=320,640,1280&q=80&text=Hi');
  assert.deepEqual(urls.map((u) => u.width), [320, 640, 1280]);
  assert.equal(value, urls.map((u) => `${u.url} ${u.width}w`).join(', '));
  for (const { width, url } of urls) {
    const u = new URL(url);
    assert.equal(u.origin + u.pathname, 'https://img.example.com/private/hero.jpg');
    assert.deepEqual([...u.searchParams.keys()], ['jwt']);
    assert.deepEqual(m.decode(u.searchParams.get('jwt')).payload, { aud: '/private/hero.jpg', exp: NOW + 3600, iat: NOW, args: { q: '80', text: 'Hi', w: width } });
  }
  // params: 'query': the widths are still secure args; the rest is in the URL.
  const query = keyhole({ key: 'topsecret', params: 'query', expiresIn: 60, now: () => NOW });
  const q = await exportsOf(query, 'keyhole:/private/hero.jpg?srcset=480&q=70');
  const u = new URL(q.urls[0].url, 'http://relative.invalid');
  assert.equal(u.searchParams.get('q'), '70');
  assert.deepEqual(m.decode(u.searchParams.get('jwt')).payload.args, { w: 480 });
});

test('?srcset= refuses bad, repeated and conflicting widths', async () => {
  const plugin = keyhole({ key: 'k' });
  const cases = [
    ['keyhole:/a.jpg?srcset=320,320', /widths\[1\] repeats widths\[0\]/],
    ['keyhole:/a.jpg?srcset=320,,640', /widths\[1\] must be a whole number/],
    ['keyhole:/a.jpg?srcset=', /widths\[0\] must be a whole number/],
    ['keyhole:/a.jpg?srcset=100000', /widths\[0\] must be a whole number of pixels from 1 to 8192/],
    ['keyhole:/a.jpg?srcset=320&w=100', /args\.w conflicts with the widths/],
    ['keyhole:/a.jpg?srcset=320&h=100', /args\.h conflicts with the widths/],
  ];
  for (const [spec, re] of cases) {
    await assert.rejects(plugin.load(plugin.resolveId(spec)), (err) => {
      assert.equal(err.code, 'ERR_KEYHOLE_BAD_INPUT', err.message);
      assert.ok(err.message.startsWith(`keyhole plugin: ${spec}: `), err.message);
      assert.match(err.message, re);
      return true;
    });
  }
});

test('client.d.ts types both kinds of import (tsc --strict)', { timeout: 120_000 }, async () => {
  const dir = await mkdtemp(join(here, '.tsc-'));
  try {
    await writeFile(join(dir, 'app.ts'), [
      '/// <reference path="../client.d.ts" />',
      "import hero from 'keyhole:/private/hero.jpg?w=1200';",
      "import heroSet, { urls } from 'keyhole:/private/hero.jpg?srcset=320,640';",
      'const src: string = hero;',
      'const set: string = heroSet;',
      'const widest: number = urls[urls.length - 1].width;',
      'const first: string = urls[0].url;',
      '// @ts-expect-error urls is read-only',
      'urls.push({ width: 1, url: "" });',
      'console.log(src, set, widest, first);',
      '',
    ].join('\n'));
    const tsc = fileURLToPath(new URL('../../../wasm/node_modules/typescript/bin/tsc', import.meta.url));
    await promisify(execFile)(process.execPath, [tsc, '--noEmit', '--strict', '--target', 'es2022', '--module', 'es2022', '--moduleResolution', 'bundler', '--lib', 'es2022,dom', join(dir, 'app.ts')]).catch((err) => {
      assert.fail(`tsc failed:\n${err.stdout}${err.stderr}`);
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('other imports are left to other plugins', async () => {
  const plugin = keyhole({ key: 'k' });
  assert.equal(plugin.resolveId('./main.js', '/src/index.html'), null);
  assert.equal(plugin.resolveId('keyholes:/a.jpg'), null);
  assert.equal(await plugin.load('/src/main.js'), null);
});

test('invalid parameters, paths and keys fail the build with the reason', async () => {
  const plugin = keyhole({ key: 'k' });
  await assert.rejects(plugin.load(plugin.resolveId('keyhole:/a.jpg?w=huge')), (err) => err.code === 'ERR_KEYHOLE_INVALID_PARAMS' && /keyhole:\/a\.jpg\?w=huge: args: w=huge/.test(err.message));
  await assert.rejects(plugin.load(plugin.resolveId('keyhole:/a/../b.jpg')), (err) => err.code === 'ERR_KEYHOLE_BAD_PATH');
  const query = keyhole({ key: 'k', params: 'query' });
  await assert.rejects(query.load(query.resolveId('keyhole:/a.jpg?w=0')), /w=0: must be/);
  await assert.rejects(keyhole({}).buildStart(), (err) => err.code === 'ERR_KEYHOLE_BAD_KEY');
  assert.throws(() => keyhole({ key: 'k', params: 'both' }), /params must be/);
});

test('vite build bundles the signed URL', { timeout: 120_000 }, async () => {
  const { build } = await import('vite');
  const root = await mkdtemp(join(tmpdir(), 'keyhole-vite-'));
  try {
    await writeFile(join(root, 'index.html'), '<!doctype html><img id="hero"><script type="module" src="./main.js"></script>\n');
    await writeFile(join(root, 'main.js'), "import hero from 'keyhole:/private/hero.jpg?w=1200';\ndocument.getElementById('hero').src = hero;\n");
    await build({
      root,
      configFile: false,
      logLevel: 'silent',
      build: { outDir: join(root, 'dist'), minify: false },
      plugins: [keyhole({ key: 'topsecret', baseUrl: 'https://img.example.com', expiresIn: 600, now: () => NOW })],
    });
    const assets = join(root, 'dist', 'assets');
    const js = (await readdir(assets)).filter((f) => f.endsWith('.js'));
    assert.equal(js.length, 1);
    const code = await readFile(join(assets, js[0]), 'utf8');
    const match = /"(https:\/\/img\.example\.com\/private\/hero\.jpg\?jwt=[^"]+)"/.exec(code);
    assert.ok(match, code);
    const token = new URL(match[1]).searchParams.get('jwt');
    assert.deepEqual(m.decode(token).payload, { aud: '/private/hero.jpg', exp: NOW + 600, iat: NOW, args: { w: '1200' } });
    assert.ok(!code.includes('topsecret'), 'the key must not reach the bundle');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('a browser build of @keyhole/signer: the browser entry, no Node.js module, no warning, the wasm as an asset', { timeout: 120_000 }, async () => {
  const { build, createLogger } = await import('vite');
  // Inside the example, so '@keyhole/signer' resolves through node_modules
  // and its package.json "exports" as in an application.
  const root = await mkdtemp(join(here, '.build-'));
  const warnings = [];
  const logger = createLogger('warn');
  logger.warn = (msg) => warnings.push(msg);
  logger.warnOnce = (msg) => warnings.push(msg);
  try {
    await writeFile(join(root, 'index.html'), '<!doctype html><p id="out"></p><script type="module" src="./main.js"></script>\n');
    await writeFile(join(root, 'main.js'), "import { load } from '@keyhole/signer';\nconst m = await load();\ndocument.getElementById('out').textContent = JSON.stringify(m.validateParams({ w: 300 }));\n");
    await build({
      root,
      configFile: false,
      customLogger: logger,
      build: {
        outDir: join(root, 'dist'),
        minify: false,
        target: 'es2022',
        rollupOptions: { onwarn: (w) => warnings.push(`${w.code}: ${w.message}`) },
      },
    });
    assert.deepEqual(warnings, []);
    const assets = await readdir(join(root, 'dist', 'assets'));
    assert.ok(assets.some((f) => /^keyhole-.*\.wasm$/.test(f)), `no keyhole.wasm asset in ${assets}`);
    const js = assets.filter((f) => f.endsWith('.js'));
    const code = (await Promise.all(js.map((f) => readFile(join(root, 'dist', 'assets', f), 'utf8')))).join('\n');
    const node = /["'`]node:[a-z/]+["'`]/.exec(code);
    assert.equal(node, null, `the bundle imports ${node}`);
    assert.ok(code.includes('keyhole_abi'), 'the signer is not in the bundle');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('the example page builds with its vite.config.js', { timeout: 120_000 }, async () => {
  const { build } = await import('vite');
  const out = await mkdtemp(join(tmpdir(), 'keyhole-vite-example-'));
  const saved = { ...process.env };
  process.env.KEYHOLE_SECRET = 'example-secret-that-is-32-bytes!!';
  process.env.KEYHOLE_BASE_URL = 'https://img.example.com';
  delete process.env.KEYHOLE_SECRET_BASE64;
  delete process.env.KEYHOLE_KEY_ID;
  try {
    await build({ root: here, configFile: join(here, 'vite.config.js'), logLevel: 'silent', build: { outDir: out, emptyOutDir: true, minify: false } });
    const html = await readFile(join(out, 'index.html'), 'utf8');
    assert.match(html, /<img id="hero"/);
    const js = (await readdir(join(out, 'assets'))).filter((f) => f.endsWith('.js'));
    const code = (await Promise.all(js.map((f) => readFile(join(out, 'assets', f), 'utf8')))).join('\n');
    // w=1200, and 320, 640, 1280 of the srcset (each in the srcset text and in urls)
    const found = [...new Set([...code.matchAll(/https:\/\/img\.example\.com\/private\/hero\.jpg\?jwt=[\w.-]+/g)].map(([u]) => u))];
    assert.equal(found.length, 4, code);
    for (const u of found) {
      const { header, payload } = m.decode(new URL(u).searchParams.get('jwt'));
      assert.equal(header.kid, 'main');
      assert.equal(payload.aud, '/private/hero.jpg');
      assert.equal(payload.exp - payload.iat, 7 * 86400);
    }
    assert.ok(!code.includes(process.env.KEYHOLE_SECRET), 'the key must not reach the bundle');

    // Without a key the build stops and says what to set.
    delete process.env.KEYHOLE_SECRET;
    await assert.rejects(build({ root: here, configFile: join(here, 'vite.config.js'), logLevel: 'silent', build: { outDir: out, emptyOutDir: true } }), /set KEYHOLE_SECRET/);
  } finally {
    process.env = saved;
    await rm(out, { recursive: true, force: true });
  }
});
