/**
 * `pnpm bench [filter]`: runs every scenario in src/scenarios, or those the filter names (exact
 * ids, comma-separated, e.g. `M1b,R2`; otherwise any part of an id, backend or title), and prints one row per scenario: framework figure, raw baseline
 * measured in the same run, and their ratio. Writes the results as JSON to bench-results.json.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { cpus } from 'node:os';
import { runScenario, type Scenario, type ScenarioResult } from './harness.js';

const filter = process.argv[2]?.toLowerCase();
const dir = new URL('./scenarios/', import.meta.url);
const scenarios: Scenario[] = [];
for (const file of readdirSync(dir)
  .filter((f) => f.endsWith('.ts'))
  .sort()) {
  const module = (await import(new URL(file, dir).href)) as { scenarios?: Scenario[] };
  scenarios.push(...(module.scenarios ?? []));
}

const servers: Record<string, string> = {
  postgres: process.env.GOES_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  nats: process.env.GOES_NATS_URL ?? 'nats://127.0.0.1:4222',
  mongodb: process.env.GOES_MONGODB_URL ?? 'mongodb://127.0.0.1:27017/',
};
const reachable = new Map<string, boolean>();
async function isReachable(server: string): Promise<boolean> {
  if (!reachable.has(server)) {
    const { hostname, port } = new URL(servers[server] as string);
    const defaults: Record<string, number> = { postgres: 5432, nats: 4222, mongodb: 27017 };
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: hostname, port: Number(port || defaults[server]) });
      socket.setTimeout(500, () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    reachable.set(server, ok);
  }
  return reachable.get(server) as boolean;
}

const fmt = (n: number) =>
  n >= 100 ? Math.round(n).toLocaleString('en-US') : n >= 1 ? n.toFixed(1) : n.toFixed(3);

// A filter that names scenario ids exactly (comma-separated) selects those; otherwise it matches
// any part of an id, backend or title.
const ids = new Set(filter?.split(',').map((part) => part.trim()));
const exact = scenarios.filter((s) => ids.has(s.id.toLowerCase()));
const selected =
  exact.length > 0
    ? exact
    : scenarios.filter(
        (s) =>
          !filter ||
          [s.id, s.backend, s.title].some((field) => field.toLowerCase().includes(filter)),
      );
console.log(
  `goes benchmarks — ${cpus()[0]?.model ?? 'cpu'} × ${cpus().length}, Node ${process.version}`,
);
console.log(
  `${selected.length} scenario(s); ratio = framework ÷ raw (median of interleaved pairs, [min–max])\n`,
);
console.log('| id | backend | scenario | framework | raw | unit | ratio | goal |');
console.log('|---|---|---|---|---|---|---|---|');
const results: ScenarioResult[] = [];
for (const scenario of selected) {
  const missing = [];
  for (const server of scenario.requires ?? [])
    if (!(await isReachable(server))) missing.push(server);
  if (missing.length > 0) {
    console.log(
      `| ${scenario.id} | ${scenario.backend} | ${scenario.title} | skipped: ${missing.join(', ')} not reachable | | | | |`,
    );
    continue;
  }
  const result = await runScenario(scenario);
  results.push(result);
  const unit = scenario.lowerIsBetter ? `${scenario.unit}` : `${scenario.unit}/s`;
  const lat = (side: ScenarioResult['framework']) =>
    side.p50Micros === undefined
      ? ''
      : ` (p50 ${fmt(side.p50Micros)} µs, p99 ${fmt(side.p99Micros ?? 0)} µs)`;
  console.log(
    `| ${result.id} | ${result.backend} | ${result.title} | ${fmt(result.framework.median)}${lat(result.framework)} | ${fmt(result.raw.median)}${lat(result.raw)} | ${unit} | ${result.ratio.median.toFixed(2)} [${result.ratio.min.toFixed(2)}–${result.ratio.max.toFixed(2)}] | ${result.goal ?? ''} |`,
  );
}
writeFileSync(
  new URL('../bench-results.json', import.meta.url),
  `${JSON.stringify(results, null, 2)}\n`,
);
process.exit(0);
