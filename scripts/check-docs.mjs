#!/usr/bin/env node
// CI gate: every export of every published package has TSDoc with a ```ts example.
import { fileURLToPath } from 'node:url';
import { checkDocs } from './lib/docs.mjs';

const problems = checkDocs(fileURLToPath(new URL('..', import.meta.url)));
if (problems.length > 0) {
  console.error(`docs check: ${problems.length} export(s) without TSDoc and an example`);
  for (const problem of problems) console.error(`  - ${problem}`);
  process.exit(1);
}
console.log('docs check: every export has TSDoc with an example');
