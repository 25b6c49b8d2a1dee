// workerd.mjs runs a Worker in workerd, the Cloudflare Workers runtime, on
// loopback for the tests (test/runtimes.test.mjs and
// examples/edge-worker). The binary is $WORKERD, which wasm/test.sh
// installs from the pinned npm package `workerd`.
import { spawn } from 'node:child_process';
import { mkdtemp, copyFile, writeFile, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkgDir = new URL('../', import.meta.url);

/**
 * signerModules returns the modules of @keyhole/signer as a bundler would
 * resolve `import … from '@keyhole/signer'` with the "workerd" condition,
 * for Worker modules in folder dir ('' for the top, else ending in '/'):
 * workerd resolves a bare specifier against the importing module's folder.
 * They are the entry package.json names for that condition, core.js, Go's
 * wasm_exec.js and keyhole.wasm as a WebAssembly module, each named
 * "<dir>@keyhole/signer/<file>" so their relative imports resolve, and a
 * module "<dir>@keyhole/signer" that re-exports the entry.
 */
export async function signerModules(dir = '') {
  const pkg = JSON.parse(await readFile(new URL('package.json', pkgDir), 'utf8'));
  const entry = pkg.exports['.'].workerd;
  if (typeof entry !== 'string') throw new Error('package.json has no "workerd" export');
  const file = (f) => fileURLToPath(new URL(f, pkgDir));
  const name = (f) => `${dir}@keyhole/signer/${f.replace(/^\.\//, '')}`;
  return [
    { name: `${dir}@keyhole/signer`, source: `export * from ${JSON.stringify(`./signer/${entry.replace(/^\.\//, '')}`)};\n` },
    { name: name(entry), file: file(entry) },
    { name: name('core.js'), file: file('core.js') },
    { name: name('dist/wasm_exec.js'), file: file('dist/wasm_exec.js') },
    { name: name('dist/keyhole.wasm'), file: file('dist/keyhole.wasm'), type: 'wasm' },
  ];
}

/**
 * startWorkerd serves one Worker on 127.0.0.1 (a port the OS picks) and
 * resolves to { url, stop } once workerd listens (within 30 s).
 *
 *   modules   [{ name, file | source, type? }]: the Worker's modules, the
 *             first being the main one; type is 'esModule' (default),
 *             'wasm', 'json' or 'text'
 *   bindings  { NAME: text }: text bindings (env.NAME in the Worker)
 *
 * No nodejs_compat flag is set: the Worker gets only the Workers APIs.
 */
export async function startWorkerd({ modules, bindings = {} }) {
  const bin = process.env.WORKERD;
  if (!bin) throw new Error('WORKERD is not set: run wasm/test.sh, which installs workerd and sets it');
  const dir = await mkdtemp(join(tmpdir(), 'keyhole-workerd-'));
  const entries = [];
  for (const [i, m] of modules.entries()) {
    const local = `m${i}`; // embed paths are relative to the config
    if (m.file) await copyFile(m.file, join(dir, local));
    else await writeFile(join(dir, local), m.source);
    entries.push(`    (name = ${JSON.stringify(m.name)}, ${m.type ?? 'esModule'} = embed ${JSON.stringify(local)}),`);
  }
  const binds = Object.entries(bindings).map(([k, v]) => `    (name = ${JSON.stringify(k)}, text = ${JSON.stringify(String(v))}),`);
  const config = join(dir, 'config.capnp');
  await writeFile(config, [
    'using Workerd = import "/workerd/workerd.capnp";',
    'const config :Workerd.Config = (',
    '  services = [ (name = "main", worker = .worker) ],',
    '  sockets = [ (name = "http", address = "127.0.0.1:0", http = (), service = "main") ],',
    ');',
    'const worker :Workerd.Worker = (',
    '  modules = [',
    ...entries,
    '  ],',
    '  bindings = [',
    ...binds,
    '  ],',
    '  compatibilityDate = "2025-09-01",',
    ');',
    '',
  ].join('\n'));
  // --control-fd: workerd writes {"event":"listen","socket":"http","port":N}
  // to file descriptor 3 once the socket listens.
  const child = spawn(bin, ['serve', config, '--control-fd=3'], { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  const port = await new Promise((resolve, reject) => {
    let control = '';
    const timer = setTimeout(() => fail(new Error('workerd did not listen within 30 s')), 30_000);
    function fail(err) {
      clearTimeout(timer);
      child.kill();
      reject(new Error(`${err.message}\n${log}`));
    }
    child.on('error', fail);
    child.on('exit', (code) => fail(new Error(`workerd exited with ${code}`)));
    child.stdio[3].on('data', (d) => {
      control += d;
      for (const line of control.split('\n')) {
        try {
          const ev = JSON.parse(line);
          if (ev.event === 'listen' && ev.socket === 'http') {
            clearTimeout(timer);
            child.removeAllListeners('exit');
            resolve(ev.port);
            return;
          }
        } catch {
          // an incomplete line: wait for the rest
        }
      }
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    log: () => log,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill();
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
