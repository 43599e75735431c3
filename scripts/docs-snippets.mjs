#!/usr/bin/env node
// `pnpm docs-snippets` checks that every marked code block in the docs equals its source region;
// `pnpm docs-snippets --write` updates the blocks from the sources.
import { fileURLToPath } from 'node:url';
import { checkSnippets, writeSnippets } from './lib/snippets.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const write = process.argv.includes('--write');
const { problems, count } = write ? writeSnippets(root) : checkSnippets(root);
const failures = write ? problems.filter((p) => !p.includes('differs')) : problems;
if (failures.length > 0) {
  console.error(`docs snippets: ${failures.length} problem(s)`);
  for (const problem of failures) console.error(`  - ${problem}`);
  if (!write) console.error('run `pnpm docs-snippets --write` to copy the sources into the docs');
  process.exit(1);
}
console.log(
  `docs snippets: ${count} code block(s) ${write ? 'written from' : 'equal to'} compiled, tested sources`,
);
