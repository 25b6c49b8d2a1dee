// vite.config.js of the example page (index.html, main.js): `npm run build`
// signs every `keyhole:` import with the key in KEYHOLE_SECRET and writes
// the site to dist/. The key is read here, at build time, and never reaches
// the bundle.
//
//   KEYHOLE_SECRET=topsecret KEYHOLE_BASE_URL=http://127.0.0.1:8080 npm run build
import keyhole from './keyhole-plugin.mjs';

const key = process.env.KEYHOLE_SECRET;
const keyBase64 = process.env.KEYHOLE_SECRET_BASE64;
if (!key && !keyBase64) {
  throw new Error('set KEYHOLE_SECRET (a key\'s secret) or KEYHOLE_SECRET_BASE64 (its secret_base64) to build');
}

export default {
  plugins: [
    keyhole({
      ...(keyBase64 ? { keyBase64 } : { key }),
      keyId: process.env.KEYHOLE_KEY_ID || 'main',
      baseUrl: process.env.KEYHOLE_BASE_URL || 'http://127.0.0.1:8080',
      expiresIn: 7 * 86400, // the built site's images load for a week
    }),
  ],
};
