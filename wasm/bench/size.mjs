// size.mjs reports what the bytes of keyhole.wasm are: the module's
// sections, and the code and the names of the functions by Go package,
// read from a build that keeps the name section (the shipped build strips
// it with -ldflags='-s -w'; the code is the same). From wasm/:
//
//   node bench/size.mjs [top N packages, default 25]
//
// It builds that module into a temporary directory with GOOS=js
// GOARCH=wasm go build -tags keyhole_nofmt -trimpath, as build.sh does but
// without -s -w (GO overrides the go command), and prints
// markdown tables. gzip sizes are gzip -9 (zlib level 9), as bench.mjs and
// bench/wasm.go measure the shipped file.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync, constants } from 'node:zlib';

const SECTION_NAMES = ['custom', 'type', 'import', 'function', 'table', 'memory', 'global', 'export', 'start', 'element', 'code', 'data', 'data count'];

/** parse returns the module's sections and its functions' names and code sizes. */
export function parse(b) {
  let p = 8;
  const leb = () => {
    let r = 0;
    let s = 0;
    let x;
    do {
      x = b[p++];
      r += (x & 0x7f) * 2 ** s;
      s += 7;
    } while (x & 0x80);
    return r;
  };
  const name = () => {
    const n = leb();
    const s = b.subarray(p, p + n).toString();
    p += n;
    return s;
  };
  const sections = [];
  let imported = 0;
  let code;
  let names;
  while (p < b.length) {
    const id = b[p++];
    const len = leb();
    const start = p;
    let label = SECTION_NAMES[id] ?? `section ${id}`;
    if (id === 0) {
      label = `custom "${name()}"`;
      if (label === 'custom "name"') names = [p, start + len];
    } else if (id === 2) {
      for (let n = leb(); n > 0; n--) {
        name();
        name();
        const kind = b[p++];
        if (kind === 0) {
          leb();
          imported++;
        } else if (kind === 1 || kind === 2) {
          if (kind === 1) p++;
          const flags = leb();
          leb();
          if (flags & 1) leb();
        } else {
          p += 2;
        }
      }
    } else if (id === 10) {
      code = [start, start + len];
    }
    sections.push({ name: label, bytes: len, data: b.subarray(start, start + len) });
    p = start + len;
  }
  const fnNames = new Map();
  if (names) {
    p = names[0];
    while (p < names[1]) {
      const sub = b[p++];
      const len = leb();
      const end = p + len;
      if (sub === 1) {
        for (let n = leb(); n > 0; n--) {
          const i = leb();
          fnNames.set(i, name());
        }
      }
      p = end;
    }
  }
  const functions = [];
  p = code[0];
  for (let n = leb(), i = 0; i < n; i++) {
    const len = leb();
    functions.push({ name: fnNames.get(imported + i) ?? `function ${imported + i}`, bytes: len, data: b.subarray(p, p + len) });
    p += len;
  }
  return { sections, functions };
}

/**
 * goPackage returns the Go package of a function's name in the name
 * section, where Go writes the path with "_" for "/" and "-"
 * ("github.com_keyhole_dev_keyhole_token.__Signer_.Sign"): the text
 * before the first "." after the host. This module's packages are shown
 * as keyhole/….
 */
export function goPackage(fn) {
  let s = fn;
  let host = '';
  const m = /^([a-z0-9-]+\.[a-z]+)_/.exec(s);
  if (m) {
    host = `${m[1]}/`;
    s = s.slice(m[0].length);
  }
  const i = s.indexOf('.');
  if (i < 0) return '(other)';
  return (host + s.slice(0, i).replace(/_/g, '/')).replace(/^github\.com\/keyhole\/dev\/keyhole\//, 'keyhole/').replace(/^github\.com\/keyhole\/dev\/keyhole$/, 'keyhole');
}

const gz = (data) => gzipSync(data, { level: constants.Z_BEST_COMPRESSION }).length;

/** report builds the module with names and returns markdown lines. */
export function report(top = 25) {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const tmp = mkdtempSync(join(tmpdir(), 'keyhole-size-'));
  try {
    const named = join(tmp, 'named.wasm');
    execFileSync(process.env.GO || 'go', ['build', '-tags', 'keyhole_nofmt', '-trimpath', '-o', named, './wasm'], { cwd: root, env: { ...process.env, GOOS: 'js', GOARCH: 'wasm' }, stdio: ['ignore', 'ignore', 'inherit'] });
    const shipped = readFileSync(new URL('../dist/keyhole.wasm', import.meta.url));
    const { sections, functions } = parse(readFileSync(named));
    const lines = [
      `keyhole.wasm: ${shipped.length.toLocaleString('en-US')} bytes, gzip -9 ${gz(shipped).toLocaleString('en-US')} bytes. By section (a build with the name section; gzip of each section alone):`,
      '',
      '| section | bytes | gzip -9 |',
      '|---|--:|--:|',
    ];
    for (const s of sections.filter((x) => x.bytes > 1000)) lines.push(`| ${s.name} | ${s.bytes.toLocaleString('en-US')} | ${gz(s.data).toLocaleString('en-US')} |`);
    const byPkg = new Map();
    for (const f of functions) {
      const k = goPackage(f.name);
      const e = byPkg.get(k) ?? { bytes: 0, n: 0, parts: [] };
      e.bytes += f.bytes;
      e.n++;
      e.parts.push(f.data);
      byPkg.set(k, e);
    }
    const total = functions.reduce((a, f) => a + f.bytes, 0);
    lines.push('', `Code by Go package, the ${top} largest of ${byPkg.size} (${functions.length.toLocaleString('en-US')} functions, ${total.toLocaleString('en-US')} bytes; gzip of each package's code alone):`, '', '| package | functions | code bytes | share | gzip -9 |', '|---|--:|--:|--:|--:|');
    for (const [k, e] of [...byPkg].sort((a, c) => c[1].bytes - a[1].bytes).slice(0, top)) {
      lines.push(`| ${k} | ${e.n} | ${e.bytes.toLocaleString('en-US')} | ${(100 * e.bytes / total).toFixed(1)} % | ${gz(Buffer.concat(e.parts)).toLocaleString('en-US')} |`);
    }
    lines.push('', 'The largest functions:', '', '| function | code bytes |', '|---|--:|');
    for (const f of [...functions].sort((a, c) => c.bytes - a.bytes).slice(0, 10)) lines.push(`| ${f.name} | ${f.bytes.toLocaleString('en-US')} |`);
    return lines;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(report(Number(process.argv[2] ?? 25)).join('\n'));
}
