#!/usr/bin/env node
// sign.mjs signs image paths with @keyhole/signer and writes an HTML page
// that shows them:
//
//   KEYHOLE_SECRET=topsecret node sign.mjs --base https://img.example.com \
//     --expires-in 3600 --out gallery.html /private/a.jpg /private/b.jpg
//
// The key comes from the environment (KEYHOLE_SECRET, or KEYHOLE_SECRET_BASE64
// for a secret_base64 key), never from the command line, where other users
// of the machine can read it. The options are in USAGE (node sign.mjs --help).
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { load } from '@keyhole/signer';

/** escapeHTML makes text safe inside HTML text and double-quoted attributes. */
export function escapeHTML(s) {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * galleryHTML signs every path with signer in one signMany call and returns
 * the page. Each image links to its own signed URL.
 */
export function galleryHTML(signer, paths, { baseUrl, expiresIn = 3600, width, title = 'Keyhole gallery' } = {}) {
  const query = width === undefined ? undefined : { w: width };
  const signed = signer.signMany(paths.map((path) => ({ path, expiresIn, baseUrl, query })));
  const items = signed.map(({ url, expiresAt }, i) => [
    '    <figure>',
    `      <a href="${escapeHTML(url)}"><img src="${escapeHTML(url)}" alt="${escapeHTML(paths[i])}" loading="lazy"></a>`,
    `      <figcaption>${escapeHTML(paths[i])} <time datetime="${expiresAt.toISOString()}">valid until ${expiresAt.toISOString()}</time></figcaption>`,
    '    </figure>',
  ].join('\n'));
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '  <meta charset="utf-8">',
    '  <meta name="referrer" content="no-referrer">',
    `  <title>${escapeHTML(title)}</title>`,
    '</head>',
    '<body>',
    `  <h1>${escapeHTML(title)}</h1>`,
    '  <main>',
    ...items,
    '  </main>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** USAGE is what --help prints. */
export const USAGE = `Usage: node sign.mjs [options] PATH...

Signs each image PATH (e.g. /private/a.jpg) with @keyhole/signer and writes
an HTML page that shows them. The key comes from the environment:
KEYHOLE_SECRET (a key's secret), or KEYHOLE_SECRET_BASE64 (its
secret_base64), never from the command line.

Options:
  --base URL        the Keyhole server's base URL (default: none, root-relative URLs)
  --key-id ID       the key id, written as the token's kid (default: none)
  --expires-in S    seconds the URLs stay valid (default 3600)
  --width W         adds w=W to every URL as an insecure parameter
  --out FILE        where to write the page (default: standard output)
  --title TEXT      the page's title
  -h, --help        print this help and exit

Example:
  KEYHOLE_SECRET=topsecret node sign.mjs --base http://127.0.0.1:8080 \\
    --key-id main --out gallery.html /private/a.jpg /private/b.jpg
`;

/** UsageError is a command line that does not parse: exit status 2. */
class UsageError extends Error {}

/**
 * main runs the command line; it returns the process exit code. out
 * receives the page (without --out) and the help.
 */
export async function main(argv, env, out = process.stdout) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        base: { type: 'string' },
        'key-id': { type: 'string' },
        'expires-in': { type: 'string', default: '3600' },
        width: { type: 'string' },
        out: { type: 'string' },
        title: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError(`${err.message} (see node sign.mjs --help)`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    out.write(USAGE);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('give at least one image path, e.g. /private/a.jpg (see node sign.mjs --help)');
  const expiresIn = Number(values['expires-in']);
  const keyOpts = env.KEYHOLE_SECRET_BASE64 ? { keyBase64: env.KEYHOLE_SECRET_BASE64 } : { key: env.KEYHOLE_SECRET };
  if (keyOpts.key === undefined && keyOpts.keyBase64 === undefined) throw new Error('set KEYHOLE_SECRET (or KEYHOLE_SECRET_BASE64) in the environment');
  const m = await load();
  const signer = m.createSigner({ ...keyOpts, keyId: values['key-id'] });
  const html = galleryHTML(signer, positionals, { baseUrl: values.base, expiresIn, width: values.width, title: values.title });
  if (values.out) await writeFile(values.out, html);
  else out.write(html);
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2), process.env).then((code) => { process.exitCode = code; }, (err) => {
    console.error(`keyhole-gallery: ${err.code ? `${err.code}: ` : ''}${err.message}`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  });
}
