import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkLayers } from '../lib/layers.mjs';

/** A scratch workspace with one package whose manifest and source we control. */
function workspace(name, { dependencies = {}, source = '' } = {}) {
  const root = mkdtempSync(join(tmpdir(), 'goes-layers-'));
  const dir = join(root, 'packages', name.replace('@goes/', ''));
  mkdirSync(join(dir, 'src'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, dependencies }));
  writeFileSync(join(dir, 'src', 'index.ts'), source);
  return root;
}

describe('layer check', () => {
  const roots = [];
  after(() => {
    for (const root of roots) rmSync(root, { recursive: true, force: true });
  });
  const make = (...args) => {
    const root = workspace(...args);
    roots.push(root);
    return root;
  };

  it('passes on the real workspace', () => {
    assert.deepEqual(checkLayers(fileURLToPath(new URL('../..', import.meta.url))), []);
  });

  it('fails on a forbidden import of a higher layer', () => {
    const root = make('@goes/event', {
      dependencies: { '@goes/codec': '*' },
      source: "import { createRepository } from '@goes/repository';\n",
    });
    const violations = checkLayers(root);
    assert.equal(violations.length, 1);
    assert.match(violations[0], /@goes\/event imports @goes\/repository/);
  });

  it('fails on a forbidden dependency in package.json', () => {
    const root = make('@goes/command', { dependencies: { '@goes/projection': '*' } });
    assert.match(checkLayers(root)[0], /depends on @goes\/projection/);
  });

  it('fails when a core layer imports a node:* module', () => {
    const root = make('@goes/streams', {
      source: "import { setTimeout } from 'node:timers/promises';\n",
    });
    assert.match(checkLayers(root)[0], /core layer @goes\/streams imports node:timers\/promises/);
  });

  it('fails on an undeclared external import, also as a type-only or dynamic import', () => {
    const root = make('@goes/postgres', {
      source: "import type { Pool } from 'pg';\nconst m = await import('mongodb');\n",
    });
    const violations = checkLayers(root);
    assert.equal(violations.length, 2);
    assert.match(violations[0], /imports pg/);
    assert.match(violations[1], /imports mongodb/);
  });

  it('allows a backend to import core layers and node:*', () => {
    const root = make('@goes/postgres', {
      dependencies: { '@goes/event': '*' },
      source:
        "import { createEvent } from '@goes/event';\nimport { setTimeout } from 'node:timers/promises';\n",
    });
    assert.deepEqual(checkLayers(root), []);
  });

  it('fails for a package missing from the layer table', () => {
    assert.match(checkLayers(make('@goes/unknown'))[0], /not in the layer table/);
  });
});
