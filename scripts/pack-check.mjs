#!/usr/bin/env node
// "Install only the layers you need", tested: builds and packs @goes/event and the packages it
// depends on (pnpm pack rewrites workspace:* ranges and drops the @goes/source condition), installs
// the tarballs alone into a scratch ESM project and a scratch CommonJS project, and runs a script
// in each that creates, stores, queries and subscribes to events. The scratch projects get nothing
// else: no devDependencies, no other layer, no registry access.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const TARGET = '@goes/event';
const run = (command, args, cwd) =>
  execFileSync(command, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'] }).toString();

/** The workspace packages `name` needs at runtime, itself included. */
function closure(name, manifests, seen = new Set()) {
  if (seen.has(name)) return seen;
  seen.add(name);
  for (const dependency of Object.keys(manifests.get(name).manifest.dependencies ?? {})) {
    if (manifests.has(dependency)) closure(dependency, manifests, seen);
  }
  return seen;
}

const manifests = new Map(
  readdirSync(join(root, 'packages')).map((folder) => {
    const manifest = JSON.parse(
      readFileSync(join(root, 'packages', folder, 'package.json'), 'utf8'),
    );
    return [manifest.name, { folder: join(root, 'packages', folder), manifest }];
  }),
);
const needed = [...closure(TARGET, manifests)];
console.log(`[pack-check] ${TARGET} needs: ${needed.join(', ')}`);

run(
  'pnpm',
  ['exec', 'turbo', 'run', 'build', ...needed.flatMap((name) => ['--filter', name])],
  root,
);
const scratch = mkdtempSync(join(tmpdir(), 'goes-pack-'));
const tarballs = join(scratch, 'tarballs');
mkdirSync(tarballs);
for (const name of needed)
  run('pnpm', ['pack', '--pack-destination', tarballs], manifests.get(name).folder);
const files = readdirSync(tarballs).map((file) => join(tarballs, file));

const usage = (importLine) => `${importLine}
const bus = createMemoryEventBus();
const store = withBus(createMemoryEventStore(), bus);
const subscription = await bus.subscribe(['greeting.sent']);
const id = uuidv7();
await store.insert([createEvent('greeting.sent', { text: 'hello' }, { aggregate: { name: 'greeter', id, version: 1 } })]);
const events = [];
for await (const event of store.query(query().aggregate('greeter', id))) events.push(event);
const published = await first(subscription);
if (events.length !== 1 || events[0].data.text !== 'hello' || published.id !== events[0].id) {
  throw new Error('unexpected result: ' + JSON.stringify(events.map((e) => e.name)));
}
console.log('ok: stored, queried and received', events[0].name, 'at position', events[0].position);
`;
const projects = {
  esm: {
    type: 'module',
    file: 'index.js',
    source: `${usage("import { createEvent, createMemoryEventBus, createMemoryEventStore, query, uuidv7, withBus } from '@goes/event';\nimport { first } from '@goes/streams';")}`,
  },
  cjs: {
    type: 'commonjs',
    file: 'index.cjs',
    source: `(async () => {\n${usage("const { createEvent, createMemoryEventBus, createMemoryEventStore, query, uuidv7, withBus } = require('@goes/event');\nconst { first } = require('@goes/streams');")}\n})().catch((error) => { console.error(error); process.exit(1); });\n`,
  },
};

let failed = false;
for (const [kind, project] of Object.entries(projects)) {
  const dir = join(scratch, kind);
  mkdirSync(dir);
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: `scratch-${kind}`, private: true, type: project.type }),
  );
  // --offline: the tarballs are all a layer needs; anything else would be a hidden dependency.
  run(
    'npm',
    ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', ...files],
    dir,
  );
  const installed = readdirSync(join(dir, 'node_modules', '@goes'))
    .map((folder) => `@goes/${folder}`)
    .sort();
  const others = readdirSync(join(dir, 'node_modules')).filter(
    (folder) => !folder.startsWith('.') && folder !== '@goes',
  );
  if (others.length > 0) {
    console.error(`[pack-check] ${kind}: unexpected packages installed: ${others.join(', ')}`);
    failed = true;
  }
  writeFileSync(join(dir, project.file), project.source);
  try {
    const output = run(process.execPath, [project.file], dir).trim();
    console.log(`[pack-check] ${kind} (${installed.join(', ')}): ${output}`);
  } catch {
    console.error(`[pack-check] ${kind}: the script failed`);
    failed = true;
  }
}
rmSync(scratch, { recursive: true, force: true });
if (failed) process.exit(1);
console.log('[pack-check] @goes/event installs and works alone in ESM and CommonJS projects');
