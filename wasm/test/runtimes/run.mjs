// run.mjs runs the conformance set (../conformance.mjs) in the runtime that
// runs this file: Node.js, Deno or Bun. The input is JSON in the first
// argument; the report is printed as one line of JSON. '@keyhole/signer'
// resolves to the package itself through its own "exports", so each
// runtime gets the entry of its condition (index.js, deno.js, bun.js).
import { load } from '@keyhole/signer';
import { run } from '../conformance.mjs';

const args = globalThis.Deno ? globalThis.Deno.args : process.argv.slice(2);
const report = await run(load, JSON.parse(args[0]));
report.entry = import.meta.resolve('@keyhole/signer');
console.log(JSON.stringify(report));
