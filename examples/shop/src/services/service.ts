/**
 * What the three services of the multi-service mode share: reading the configuration, refusing
 * one that cannot work across processes, and stopping cleanly on SIGINT/SIGTERM.
 */
import { type ConfigError, readConfig, type ShopConfig } from '../config.js';

/**
 * The configuration of a service. Services share the event store and talk over NATS, so an
 * in-memory store (one per process) or an in-memory bus cannot connect them.
 */
export function serviceConfig(service: string): ShopConfig {
  let config: ShopConfig;
  try {
    config = readConfig();
  } catch (error) {
    fail(service, (error as ConfigError).message);
  }
  const problems: string[] = [];
  if (config.store === 'memory') {
    problems.push(
      'GOES_STORE=memory keeps events inside one process; the services need a shared store (postgres or mongodb)',
    );
  }
  if (config.bus !== 'nats') {
    problems.push('the services talk over NATS: set GOES_BUS=nats (and GOES_NATS_URL)');
  }
  if (problems.length > 0) fail(service, problems.join('\n'));
  return config;
}

/** Runs `stop` on SIGINT or SIGTERM, then exits. */
export function onShutdown(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping`);
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

function fail(service: string, message: string): never {
  console.error(`${service}: ${message}`);
  process.exit(2);
}
