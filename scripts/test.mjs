#!/usr/bin/env node
// The README's test command (`pnpm test`): makes sure PostgreSQL, NATS (JetStream) and the
// MongoDB-wire test server are up (starting local ones when they are missing), then runs every
// package's tests through turbo, and the tests of the repository's own scripts.
// Extra arguments go to turbo, e.g. `pnpm test --filter @goes/event`.
import { spawnSync } from 'node:child_process';
import { ensureMongo, ensureNats, ensurePostgres } from './lib/services.mjs';

const log = (message) => console.log(`[goes test] ${message}`);

async function main() {
  const env = { ...process.env, TURBO_TELEMETRY_DISABLED: '1' };
  try {
    env.GOES_POSTGRES_URL = await ensurePostgres(log);
    env.GOES_NATS_URL = await ensureNats(log);
    const mongo = await ensureMongo(log);
    env.GOES_MONGODB_URL = mongo.url;
    env.GOES_MONGODB_SERVER = mongo.server;
  } catch (error) {
    console.error(`[goes test] ${error.message}`);
    process.exit(1);
  }
  log(
    `PostgreSQL ${env.GOES_POSTGRES_URL}, NATS ${env.GOES_NATS_URL}, MongoDB ${env.GOES_MONGODB_URL} (${env.GOES_MONGODB_SERVER})`,
  );

  const scripts = spawnSync(process.execPath, ['--test', 'scripts/test/'], {
    stdio: 'inherit',
    env,
  });
  if (scripts.status !== 0) process.exit(scripts.status ?? 1);

  const turbo = spawnSync(
    'pnpm',
    ['exec', 'turbo', 'run', 'test', '--concurrency=2', ...process.argv.slice(2)],
    {
      stdio: 'inherit',
      env,
    },
  );
  process.exit(turbo.status ?? 1);
}

await main();
