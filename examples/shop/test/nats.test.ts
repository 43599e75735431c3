import { shopScenarioSuite, testConfig } from './support.js';

// The NATS server of the tests (`pnpm test` starts it); a missing server fails, never skips.
shopScenarioSuite('the shop on the in-memory store and the NATS bus', () =>
  testConfig({
    GOES_STORE: 'memory',
    GOES_BUS: 'nats',
    GOES_NATS_URL: process.env.GOES_NATS_URL ?? 'nats://127.0.0.1:4222',
  }),
);
