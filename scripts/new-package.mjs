#!/usr/bin/env node
// Scaffolds the config files of a workspace package: package.json (only if missing),
// tsconfig.json, tsconfig.build.json and jest.config.js. Usage:
//   node scripts/new-package.mjs <folder under packages/> "<description>"
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [folder, description = ''] = process.argv.slice(2);
if (!folder) {
  console.error('usage: node scripts/new-package.mjs <folder> "<description>"');
  process.exit(2);
}
const dir = join('packages', folder);
mkdirSync(join(dir, 'src'), { recursive: true });
mkdirSync(join(dir, 'test'), { recursive: true });

const write = (file, content) => {
  const path = join(dir, file);
  if (!existsSync(path)) writeFileSync(path, content);
};
const json = (value) => `${JSON.stringify(value, null, 2)}\n`;

const entry = { types: './dist/index.d.ts', default: './dist/index.js' };
write(
  'package.json',
  json({
    name: `@goes/${folder}`,
    version: '0.1.0',
    description,
    license: 'Apache-2.0',
    type: 'module',
    sideEffects: false,
    engines: { node: '>=20.19' },
    exports: {
      '.': { '@goes/source': './src/index.ts', ...entry },
      './package.json': './package.json',
    },
    publishConfig: {
      access: 'public',
      exports: { '.': entry, './package.json': './package.json' },
    },
    files: ['dist', 'README.md'],
    scripts: {
      build: 'tsc -p tsconfig.build.json',
      typecheck: 'tsc -p tsconfig.json',
      test: 'node ../../scripts/jest.mjs',
    },
  }),
);
write(
  'tsconfig.json',
  json({
    extends: '../../tsconfig.base.json',
    compilerOptions: { noEmit: true, types: ['node', 'jest'], customConditions: ['@goes/source'] },
    include: ['src', 'test'],
  }),
);
write(
  'tsconfig.build.json',
  json({
    extends: '../../tsconfig.base.json',
    compilerOptions: { rootDir: 'src', outDir: 'dist', types: ['node'] },
    include: ['src'],
  }),
);
write(
  'jest.config.js',
  "import { jestConfig } from '../../jest.config.base.js';\n\nexport default jestConfig();\n",
);
console.log(`scaffolded ${dir}`);
