// Compiled by test/types.test.mjs with tsc --noEmit: the CommonJS entry.
import signer = require('@keyhole/signer');

async function main(): Promise<void> {
  const m: signer.KeyholeModule = await signer.load();
  const r: signer.SignResult = m.createSigner({ key: new Uint8Array([1, 2, 3]) }).sign({ path: '/a.jpg', expiresIn: 60 });
  const errs: signer.ParamError[] = m.validateParams({ w: 1 });
  console.log(r.token, errs);
  try {
    m.decode('x');
  } catch (e) {
    if (e instanceof signer.KeyholeError) console.log(e.code);
  }
}
void main();
