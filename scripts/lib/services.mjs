// Makes sure the servers the integration tests need are reachable, starting them when they are
// local and missing: PostgreSQL, NATS with JetStream, and FerretDB (the MongoDB-wire test server).
// Each ensure function resolves to the URL to use, or throws an Error whose message says exactly
// what to install. Servers started here keep running after the tests (they are cheap to reuse).
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** True when something accepts TCP connections on host:port within `ms`. */
export function probe(host, port, ms = 500) {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(ms, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function waitFor(host, port, seconds, what) {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (await probe(host, port)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not start listening on ${host}:${port} within ${seconds} s`);
}

function hasCommand(command) {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const isLocal = (host) => host === '127.0.0.1' || host === 'localhost';

/** PostgreSQL: GOES_POSTGRES_URL, or the local server on 127.0.0.1:5432 (started if needed). */
export async function ensurePostgres(log) {
  const url = process.env.GOES_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const { hostname, port } = new URL(url);
  const portNumber = Number(port || 5432);
  if (await probe(hostname, portNumber)) return url;
  if (!isLocal(hostname))
    throw new Error(`PostgreSQL at ${hostname}:${portNumber} (GOES_POSTGRES_URL) is not reachable`);
  if (existsSync('/etc/postgresql') && hasCommand('pg_ctlcluster')) {
    const versions = readdirSync('/etc/postgresql');
    for (const version of versions) {
      log(`starting PostgreSQL ${version} (pg_ctlcluster ${version} main start)`);
      try {
        execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start'], {
          stdio: 'inherit',
        });
      } catch {
        // a cluster that is already starting or broken: the probe below decides
      }
    }
    await waitFor(hostname, portNumber, 30, 'PostgreSQL');
    return url;
  }
  throw new Error(
    'PostgreSQL is not running on 127.0.0.1:5432 and is not installed. Install it (Debian: apt-get install -y postgresql) ' +
      'with trust authentication for local connections, or point GOES_POSTGRES_URL at a server.',
  );
}

/** NATS with JetStream: GOES_NATS_URL, or a local nats-server on 127.0.0.1:4222 (started if needed). */
export async function ensureNats(log) {
  const url = process.env.GOES_NATS_URL ?? 'nats://127.0.0.1:4222';
  const { hostname, port } = new URL(url);
  const portNumber = Number(port || 4222);
  if (await probe(hostname, portNumber)) return url;
  if (!isLocal(hostname))
    throw new Error(`NATS at ${hostname}:${portNumber} (GOES_NATS_URL) is not reachable`);
  const binary = [
    '/usr/sbin/nats-server',
    '/usr/bin/nats-server',
    '/usr/local/bin/nats-server',
  ].find(existsSync);
  if (!binary) {
    throw new Error(
      'NATS is not running on 127.0.0.1:4222 and nats-server is not installed. Install it (Debian: apt-get install -y nats-server) ' +
        'or point GOES_NATS_URL at a server with JetStream enabled.',
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'goes-nats-'));
  log(`starting ${binary} with JetStream on 127.0.0.1:${portNumber} (data in ${dir})`);
  const out = openSync(join(dir, 'nats.log'), 'a');
  spawn(binary, ['-a', '127.0.0.1', '-p', String(portNumber), '-js', '-sd', dir], {
    detached: true,
    stdio: ['ignore', out, out],
  }).unref();
  await waitFor(hostname, portNumber, 20, 'nats-server');
  return url;
}

/** The FerretDB runner binary, built from tools/ferretdb-runner and cached by its sources' hash. */
export function ferretRunnerBinary(log) {
  const sources = join(root, 'tools', 'ferretdb-runner');
  const hash = createHash('sha256');
  for (const file of ['go.mod', 'go.sum', 'main.go'])
    hash.update(readFileSync(join(sources, file)));
  const cache = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'goes');
  const binary = join(cache, `ferretdb-runner-${hash.digest('hex').slice(0, 16)}`);
  if (existsSync(binary)) return binary;
  if (!hasCommand('go')) {
    throw new Error(
      'The MongoDB adapter tests need FerretDB, which is built from the Go module proxy, but Go is not installed. ' +
        'Install Go >= 1.24 (https://go.dev/dl), or point GOES_MONGODB_URL at a MongoDB server.',
    );
  }
  mkdirSync(cache, { recursive: true });
  log(
    `building FerretDB v1.24.2 (tools/ferretdb-runner) into ${binary}; the first build takes a few minutes`,
  );
  execFileSync('go', ['build', '-o', binary, '.'], {
    cwd: sources,
    stdio: 'inherit',
    env: { ...process.env, CGO_ENABLED: '0' },
  });
  return binary;
}

/** MongoDB wire server: GOES_MONGODB_URL, or FerretDB on 127.0.0.1:27017 (built and started if needed). */
export async function ensureMongo(log) {
  if (process.env.GOES_MONGODB_URL) {
    const { hostname, port } = new URL(process.env.GOES_MONGODB_URL);
    if (!(await probe(hostname, Number(port || 27017)))) {
      throw new Error(
        `MongoDB at ${process.env.GOES_MONGODB_URL} (GOES_MONGODB_URL) is not reachable`,
      );
    }
    return {
      url: process.env.GOES_MONGODB_URL,
      server: process.env.GOES_MONGODB_SERVER ?? 'mongodb',
    };
  }
  const url = 'mongodb://127.0.0.1:27017/';
  if (await probe('127.0.0.1', 27017))
    return { url, server: process.env.GOES_MONGODB_SERVER ?? 'ferretdb' };
  const binary = ferretRunnerBinary(log);
  const dir = mkdtempSync(join(tmpdir(), 'goes-ferretdb-'));
  log(`starting FerretDB on 127.0.0.1:27017 (SQLite data in ${dir})`);
  const out = openSync(join(dir, 'ferretdb.log'), 'a');
  spawn(
    binary,
    ['-listen', '127.0.0.1:27017', '-sqlite-dir', join(dir, 'data'), '-log-level', 'error'],
    {
      detached: true,
      stdio: ['ignore', out, out],
    },
  ).unref();
  await waitFor('127.0.0.1', 27017, 30, 'FerretDB');
  return { url, server: 'ferretdb' };
}
