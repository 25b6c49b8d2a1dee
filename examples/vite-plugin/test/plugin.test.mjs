// The plugin's hooks, called directly, and a real `vite build` with it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load } from '@keyhole/signer';
import keyhole from '../keyhole-plugin.mjs';

const NOW = 1_700_000_000;
const m = await load();

/** urlOf runs resolveId and load for an import specifier and returns the exported URL. */
async function urlOf(plugin, spec) {
  const id = plugin.resolveId(spec, '/src/main.js');
  assert.ok(id && id.startsWith('\0'), `resolveId(${spec}) = ${id}`);
  const { code } = await plugin.load(id);
  const match = /^export default (".*");\n$/.exec(code);
  assert.ok(match, code);
  return new URL(JSON.parse(match[1]), 'http://relative.invalid'); // a base for root-relative URLs
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
