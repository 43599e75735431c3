#!/usr/bin/env node
// CI gate for the layer rule (design.md §1): exits 1 and lists every violation.
import { fileURLToPath } from 'node:url';
import { checkLayers } from './lib/layers.mjs';

const violations = checkLayers(fileURLToPath(new URL('..', import.meta.url)));
if (violations.length > 0) {
  console.error(`layer check: ${violations.length} violation(s)`);
  for (const violation of violations) console.error(`  - ${violation}`);
  process.exit(1);
}
console.log('layer check: every package uses only the layers below it');
