#!/usr/bin/env node
// Runs jest in ESM mode for the package in the current folder (the flags ts-jest's ESM preset
// needs on Node 20), passing through any extra arguments.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const jestPackage = require.resolve('jest/package.json', { paths: [process.cwd()] });
const jestBin = join(dirname(jestPackage), 'bin', 'jest.js');
const nodeOptions = [
  process.env.NODE_OPTIONS ?? '',
  '--experimental-vm-modules',
  '--disable-warning=ExperimentalWarning',
].join(' ');
const result = spawnSync(process.execPath, [jestBin, ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, NODE_OPTIONS: nodeOptions.trim() },
});
process.exit(result.status ?? 1);
