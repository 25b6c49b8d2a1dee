// Shared helpers for the node tests of wasm/ and examples/: a real
// `keyhole serve` on loopback, and small generated files to serve.
import { spawn, execFile } from 'node:child_process';
import { mkdtemp, writeFile, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { deflateSync, crc32 as zlibCrc32 } from 'node:zlib';

/** The repository root (two levels up from wasm/test/). */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

let binary;

/**
 * keyholeBinary returns the path of a keyhole binary: $KEYHOLE_BIN when set
 * (wasm/test.sh builds one), else one built once from ./cmd/keyhole into a
 * temporary directory.
 */
export async function keyholeBinary() {
  if (process.env.KEYHOLE_BIN) return process.env.KEYHOLE_BIN;
  binary ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keyhole-bin-'));
    const out = join(dir, 'keyhole');
    await promisify(execFile)('go', ['build', '-o', out, './cmd/keyhole'], { cwd: repoRoot, timeout: 180_000 });
    return out;
  })();
  return binary;
}

/**
 * startKeyhole writes files (name → Buffer|string, relative to a new root)
 * and a config with a jwt protection on /private/ (key id "main", secret
 * `secret`, leeway 1 s), starts `keyhole serve` on 127.0.0.1:0 and waits
 * (at most 20 s) for its "listening on" line. stop() kills it and removes
 * the directory.
 */
export async function startKeyhole({ files, secret = 'topsecret' }) {
  const bin = await keyholeBinary();
  const dir = await mkdtemp(join(tmpdir(), 'keyhole-e2e-'));
  const root = join(dir, 'files');
  for (const [name, data] of Object.entries(files)) {
    const file = join(root, name);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, data);
  }
  const config = join(dir, 'keyhole.yaml');
  await writeFile(config, [
    `root: ${JSON.stringify(root)}`,
    'metrics_path: ""',
    'leeway: 1s',
    'protections:',
    '  - path: /private/',
    '    type: jwt',
    '    keys:',
    '      - id: main',
    `        secret: ${JSON.stringify(secret)}`,
    '',
  ].join('\n'));
  const child = spawn(bin, ['serve', '-config', config, '-addr', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const base = await new Promise((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => fail(new Error('keyhole serve did not start within 20 s')), 20_000);
    function fail(err) {
      clearTimeout(timer);
      child.kill();
      reject(new Error(`${err.message}\nstdout: ${stdout}\nstderr: ${stderr}`));
    }
    child.on('exit', (code) => fail(new Error(`keyhole serve exited with ${code}`)));
    child.stdout.on('data', (d) => {
      stdout += d;
      const m = /keyhole: listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
      if (m) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve(m[1]);
      }
    });
  });
  return {
    base,
    root,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill();
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** crc32 of a Buffer (zlib.crc32 exists from Node 20.15 on). */
function crc32(buf) {
  if (zlibCrc32) return zlibCrc32(buf);
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

/** png returns a width×height RGB PNG of one colour. */
export function png(width, height, [r, g, b] = [200, 40, 40]) {
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const row = Buffer.alloc(1 + 3 * width);
  for (let x = 0; x < width; x++) row.set([r, g, b], 1 + 3 * x);
  const raw = Buffer.concat(Array.from({ length: height }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * imageSize returns { width, height } of a PNG or JPEG in buf, read from
 * its header (PNG IHDR; JPEG's first start-of-frame marker).
 */
export function imageSize(buf) {
  if (buf.length >= 24 && buf.readUInt32BE(0) === 0x89504e47 && buf.toString('latin1', 12, 16) === 'IHDR') {
    return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
  }
  if (buf.length >= 4 && buf[0] === 0xff && buf[1] === 0xd8) {
    for (let i = 2; i + 9 < buf.length;) {
      if (buf[i] !== 0xff) break;
      const marker = buf[i + 1];
      const len = buf.readUInt16BE(i + 2);
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        return { width: buf.readUInt16BE(i + 7), height: buf.readUInt16BE(i + 5) };
      }
      i += 2 + len;
    }
  }
  throw new Error(`not a PNG or JPEG (first bytes ${buf.subarray(0, 8).toString('hex')})`);
}
