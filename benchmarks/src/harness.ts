/**
 * The benchmark harness: every scenario has a framework side and a raw side doing the same work
 * with the bare driver (or a plain loop). Repetitions alternate framework and raw (ABAB…) after a
 * warm-up, and the ratio is taken per pair, so a noisy shared machine moves both sides alike
 * (see ../shared/reference/perf.md §3).
 */

/** What one repetition of one side measured. */
export interface Measurement {
  /** Units of work done (events, commands, rows…). */
  readonly count: number;
  /** Wall time of the measured part, in seconds. */
  readonly seconds: number;
  /** Per-operation latencies in microseconds, for latency scenarios. */
  readonly latenciesMicros?: readonly number[];
}

/** A scenario: a framework figure and its raw twin. */
export interface Scenario {
  /** Short id, e.g. `M1`, `R1`, `P1`. */
  readonly id: string;
  readonly title: string;
  /** Backend name for the report: `memory`, `postgres`, `nats`, `mongodb`. */
  readonly backend: string;
  /** Unit of `count`, e.g. `events`. */
  readonly unit: string;
  /** Servers the scenario needs; it is skipped (and says so) when one is not reachable. */
  readonly requires?: readonly ('postgres' | 'nats' | 'mongodb')[];
  /** Repetition pairs (after the warm-up pairs). Default 5. */
  readonly pairs?: number;
  /**
   * Warm-up pairs before the measured ones. Default 1. CPU-bound in-memory scenarios need more:
   * V8 takes several runs to optimise the longer framework path, and a median over pairs that
   * are still warming up measures the JIT, not the steady state both sides reach.
   */
  readonly warmups?: number;
  /** Higher is better (throughput) unless `lowerIsBetter` (latency in µs as the figure). */
  readonly lowerIsBetter?: boolean;
  /** Goal for the ratio framework ÷ raw, printed beside the result. */
  readonly goal?: string;
  /** Runs once before the repetitions. */
  setup?(): Promise<void>;
  framework(): Promise<Measurement>;
  raw(): Promise<Measurement>;
  /** Runs once after the repetitions. */
  teardown?(): Promise<void>;
}

/** Times `fn` and reports `count` units. */
export async function measure(count: number, fn: () => Promise<void> | void): Promise<Measurement> {
  const start = process.hrtime.bigint();
  await fn();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { count, seconds };
}

/** Times each of `count` operations and reports their latencies too. */
export async function measureEach(
  count: number,
  op: (i: number) => Promise<void>,
): Promise<Measurement> {
  const latenciesMicros: number[] = [];
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    const t0 = process.hrtime.bigint();
    await op(i);
    latenciesMicros.push(Number(process.hrtime.bigint() - t0) / 1e3);
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { count, seconds, latenciesMicros };
}

/** The median of a list of numbers. */
export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

/** The q-quantile (0..1) of a list of numbers. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index] as number;
}

/** The result of one scenario, as printed and written to JSON. */
export interface ScenarioResult {
  readonly id: string;
  readonly title: string;
  readonly backend: string;
  readonly unit: string;
  readonly pairs: number;
  readonly framework: {
    median: number;
    min: number;
    max: number;
    p50Micros?: number;
    p99Micros?: number;
  };
  readonly raw: {
    median: number;
    min: number;
    max: number;
    p50Micros?: number;
    p99Micros?: number;
  };
  readonly ratio: { median: number; min: number; max: number };
  readonly goal?: string;
  readonly skipped?: string;
}

const rate = (m: Measurement) => m.count / m.seconds;

function summarize(ms: readonly Measurement[]) {
  const rates = ms.map(rate);
  const latencies = ms.flatMap((m) => m.latenciesMicros ?? []);
  return {
    median: median(rates),
    min: Math.min(...rates),
    max: Math.max(...rates),
    ...(latencies.length > 0
      ? { p50Micros: quantile(latencies, 0.5), p99Micros: quantile(latencies, 0.99) }
      : {}),
  };
}

/** Runs one scenario: `warmups` pairs, then `pairs` alternating pairs. */
export async function runScenario(scenario: Scenario): Promise<ScenarioResult> {
  const pairs = scenario.pairs ?? 5;
  const warmups = scenario.warmups ?? 1;
  await scenario.setup?.();
  try {
    for (let i = 0; i < warmups; i++) {
      await scenario.framework();
      await scenario.raw();
    }
    const fw: Measurement[] = [];
    const raw: Measurement[] = [];
    const ratios: number[] = [];
    for (let i = 0; i < pairs; i++) {
      // Alternate which side goes first so neither always runs on a warmer cache.
      const [a, b] =
        i % 2 === 0 ? [scenario.framework, scenario.raw] : [scenario.raw, scenario.framework];
      const first = await a.call(scenario);
      const second = await b.call(scenario);
      const [f, r] = i % 2 === 0 ? [first, second] : [second, first];
      fw.push(f);
      raw.push(r);
      ratios.push(rate(f) / rate(r));
    }
    return {
      id: scenario.id,
      title: scenario.title,
      backend: scenario.backend,
      unit: scenario.unit,
      pairs,
      framework: summarize(fw),
      raw: summarize(raw),
      ratio: { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) },
      ...(scenario.goal ? { goal: scenario.goal } : {}),
    };
  } finally {
    await scenario.teardown?.();
  }
}
