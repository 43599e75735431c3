import { shopScenarioSuite, testConfig } from './support.js';

shopScenarioSuite('the shop on the in-memory store and bus', () =>
  testConfig({ GOES_STORE: 'memory', GOES_BUS: 'memory' }),
);
