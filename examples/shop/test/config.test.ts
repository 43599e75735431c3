import { describe, expect, it } from '@jest/globals';
import { ConfigError, readConfig } from '../src/config.js';

describe('readConfig', () => {
  it('defaults to the in-memory backends and the local servers', () => {
    expect(readConfig({})).toEqual({
      store: 'memory',
      bus: 'memory',
      postgresUrl: 'postgres://postgres@127.0.0.1:5432/postgres',
      mongodbUrl: 'mongodb://127.0.0.1:27017/',
      natsUrl: 'nats://127.0.0.1:4222',
      namespace: 'shop',
    });
  });

  it('reads every backend combination', () => {
    for (const store of ['memory', 'postgres', 'mongodb']) {
      for (const bus of ['memory', 'nats']) {
        expect(readConfig({ GOES_STORE: store, GOES_BUS: bus })).toMatchObject({ store, bus });
      }
    }
  });

  it('refuses unknown backends and bad namespaces, naming the variable and the value', () => {
    expect(() => readConfig({ GOES_STORE: 'redis' })).toThrow(
      new ConfigError('GOES_STORE="redis": expected one of memory, postgres, mongodb'),
    );
    expect(() => readConfig({ GOES_BUS: 'kafka' })).toThrow(/GOES_BUS="kafka"/);
    expect(() => readConfig({ GOES_SHOP_NAMESPACE: 'Shop; DROP' })).toThrow(
      /GOES_SHOP_NAMESPACE="Shop; DROP"/,
    );
  });
});
