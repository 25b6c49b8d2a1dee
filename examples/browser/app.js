// app.js signs a URL with @keyhole/signer (WebAssembly) and shows the
// image. The form can be filled from the page's query string (server, key,
// keyId, path, expiresIn, w); with autosign=1 it signs at once.
import { load } from '@keyhole/signer';

const form = document.getElementById('sign');
const status = document.getElementById('status');
const link = document.getElementById('url');
const preview = document.getElementById('preview');

function show(state, text) {
  status.dataset.state = state;
  status.textContent = text;
}

const params = new URLSearchParams(location.search);
for (const name of ['server', 'key', 'keyId', 'path', 'expiresIn', 'w']) {
  if (params.has(name)) form.elements[name].value = params.get(name);
}

const started = performance.now();
const ready = load().then((m) => {
  show('ready', `Signer loaded in ${Math.round(performance.now() - started)} ms.`);
  return m;
}, (err) => {
  show('error', `${err.code || 'Error'}: ${err.message}`);
  throw err;
});

preview.addEventListener('load', () => show('loaded', `Image loaded: ${preview.naturalWidth}×${preview.naturalHeight}.`));
preview.addEventListener('error', () => show('error', 'The image did not load (expired, wrong key or missing file?).'));

async function sign() {
  const m = await ready;
  const f = form.elements;
  try {
    const signer = m.createSigner({ key: f.key.value, keyId: f.keyId.value || undefined });
    const { url, expiresAt } = signer.sign({
      path: f.path.value,
      expiresIn: Number(f.expiresIn.value),
      baseUrl: f.server.value,
      query: f.w.value ? { w: f.w.value } : undefined,
    });
    link.href = url;
    link.textContent = url;
    show('signed', `Signed; valid until ${expiresAt.toLocaleString()}. Loading the image…`);
    preview.src = url;
  } catch (err) {
    preview.removeAttribute('src');
    link.removeAttribute('href');
    link.textContent = '';
    show('error', `${err.code || 'Error'}: ${err.message}`);
  }
}

form.addEventListener('submit', (e) => {
  e.preventDefault();
  sign();
});
if (params.get('autosign') === '1') sign();
