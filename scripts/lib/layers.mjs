// The layer rule of design.md §1 and a checker for it. Each package may depend on (and import)
// only the layers listed for it; core layers import no `node:*` module and no driver.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';

const CORE = ['streams', 'codec', 'event', 'command', 'aggregate', 'repository', 'projection'];

/** Which @goes packages each published package may depend on. `*core` means every core layer. */
export const LAYERS = {
  '@goes/streams': [],
  '@goes/codec': [],
  '@goes/event': ['@goes/codec', '@goes/streams'],
  '@goes/command': ['@goes/event', '@goes/codec', '@goes/streams'],
  '@goes/aggregate': ['@goes/event', '@goes/command', '@goes/codec', '@goes/streams'],
  '@goes/repository': [
    '@goes/aggregate',
    '@goes/command',
    '@goes/event',
    '@goes/codec',
    '@goes/streams',
  ],
  '@goes/projection': [
    '@goes/repository',
    '@goes/aggregate',
    '@goes/event',
    '@goes/codec',
    '@goes/streams',
  ],
  '@goes/testing': CORE.map((name) => `@goes/${name}`),
  '@goes/postgres': CORE.map((name) => `@goes/${name}`),
  '@goes/mongodb': CORE.map((name) => `@goes/${name}`),
  '@goes/nats': ['@goes/event', '@goes/codec', '@goes/streams'],
};

/** Packages that must run on any JS runtime: no node:* imports, no drivers. */
export const RUNTIME_NEUTRAL = new Set(CORE.map((name) => `@goes/${name}`));

const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));
const IMPORT =
  /(?:^|[^\w$.])(?:import|export)\s+(?:type\s+)?(?:[^'"`;]*?\sfrom\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function sourceFiles(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(c|m)?tsx?$/.test(entry) && !/\.test\.(c|m)?tsx?$/.test(entry) ? [path] : [];
  });
}

/** The bare package name of an import specifier (`@scope/name/sub` → `@scope/name`). */
function packageOf(specifier) {
  if (specifier.startsWith('.') || specifier.startsWith('/')) return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/**
 * Checks every package under `<root>/packages`. Returns a list of violations (strings); an empty
 * list means the workspace follows the layer rule.
 */
export function checkLayers(root) {
  const violations = [];
  const packagesDir = join(root, 'packages');
  for (const folder of readdirSync(packagesDir)) {
    const manifestPath = join(packagesDir, folder, 'package.json');
    if (!existsSync(manifestPath)) continue;
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    const name = manifest.name;
    if (manifest.private) continue;
    const allowed = LAYERS[name];
    if (!allowed) {
      violations.push(
        `${name}: not in the layer table (scripts/lib/layers.mjs); add it with the layers it may use`,
      );
      continue;
    }
    const declared = { ...manifest.dependencies, ...manifest.peerDependencies };
    for (const dependency of Object.keys(declared)) {
      if (dependency.startsWith('@goes/') && !allowed.includes(dependency)) {
        violations.push(`${name}: depends on ${dependency}, which its layer may not use`);
      }
    }
    for (const file of sourceFiles(join(packagesDir, folder, 'src'))) {
      // Comments hold TSDoc examples with imports the package does not make.
      const text = readFileSync(file, 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/^\s*\/\/.*$/gm, '');
      for (const match of text.matchAll(IMPORT)) {
        const specifier = match[1] ?? match[2];
        const where = `${relative(root, file)}`;
        if (builtins.has(specifier) || specifier.startsWith('node:')) {
          if (RUNTIME_NEUTRAL.has(name))
            violations.push(`${where}: core layer ${name} imports ${specifier}`);
          continue;
        }
        const pkg = packageOf(specifier);
        if (!pkg || pkg === name) continue;
        if (pkg.startsWith('@goes/') && !allowed.includes(pkg)) {
          violations.push(`${where}: ${name} imports ${pkg}, which its layer may not use`);
        } else if (!(pkg in declared)) {
          violations.push(
            `${where}: imports ${pkg}, which ${name} does not declare in dependencies or peerDependencies`,
          );
        }
      }
    }
  }
  return violations;
}
