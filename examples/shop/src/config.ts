/**
 * The shop's configuration, read from the environment. Which backends run is configuration
 * only: the same code runs in memory, on PostgreSQL or MongoDB, with an in-memory or NATS bus.
 */

/** Where events, snapshots and read models are kept. */
export type StoreKind = 'memory' | 'postgres' | 'mongodb';
/** How events (and the command bus' messages) travel. */
export type BusKind = 'memory' | 'nats';

/** Everything {@link createShop} needs to know about its surroundings. */
export interface ShopConfig {
  readonly store: StoreKind;
  readonly bus: BusKind;
  readonly postgresUrl: string;
  readonly mongodbUrl: string;
  readonly natsUrl: string;
  /**
   * Keeps one shop's data apart from another's on shared servers: the PostgreSQL schema, the
   * MongoDB database and the NATS subject prefix. Lowercase letters, digits and `_`.
   */
  readonly namespace: string;
}

/** A configuration value that cannot be used. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const STORES: readonly StoreKind[] = ['memory', 'postgres', 'mongodb'];
const BUSES: readonly BusKind[] = ['memory', 'nats'];

/**
 * Reads the configuration:
 *
 * | variable              | values                            | default                                      |
 * | --------------------- | --------------------------------- | -------------------------------------------- |
 * | `GOES_STORE`          | `memory`, `postgres`, `mongodb`   | `memory`                                     |
 * | `GOES_BUS`            | `memory`, `nats`                  | `memory`                                     |
 * | `GOES_POSTGRES_URL`   | a connection string               | `postgres://postgres@127.0.0.1:5432/postgres` |
 * | `GOES_MONGODB_URL`    | a connection string               | `mongodb://127.0.0.1:27017/`                 |
 * | `GOES_NATS_URL`       | a server URL                      | `nats://127.0.0.1:4222`                      |
 * | `GOES_SHOP_NAMESPACE` | `[a-z][a-z0-9_]*`                 | `shop`                                       |
 *
 * @throws {@link ConfigError} naming the variable and the value it refuses.
 */
export function readConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
): ShopConfig {
  const store = choice('GOES_STORE', env.GOES_STORE, STORES);
  const bus = choice('GOES_BUS', env.GOES_BUS, BUSES);
  const namespace = env.GOES_SHOP_NAMESPACE || 'shop';
  if (!/^[a-z][a-z0-9_]{0,39}$/.test(namespace)) {
    throw new ConfigError(
      `GOES_SHOP_NAMESPACE=${JSON.stringify(namespace)}: use lowercase letters, digits and _ (at most 40, starting with a letter)`,
    );
  }
  return {
    store,
    bus,
    postgresUrl: env.GOES_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/postgres',
    mongodbUrl: env.GOES_MONGODB_URL || 'mongodb://127.0.0.1:27017/',
    natsUrl: env.GOES_NATS_URL || 'nats://127.0.0.1:4222',
    namespace,
  };
}

function choice<T extends string>(
  name: string,
  value: string | undefined,
  allowed: readonly T[],
): T {
  if (value === undefined || value === '') return allowed[0] as T;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new ConfigError(`${name}=${JSON.stringify(value)}: expected one of ${allowed.join(', ')}`);
}
