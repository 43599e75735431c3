import { createDefaultEsmPreset } from 'ts-jest';

/**
 * Shared jest config: ESM mode, tests run against the TypeScript sources of every workspace
 * package through the `@goes/source` export condition (no build needed before testing).
 */
export function jestConfig(overrides = {}) {
  return {
    ...createDefaultEsmPreset({ tsconfig: '<rootDir>/tsconfig.json' }),
    testEnvironment: 'node',
    testEnvironmentOptions: { customExportConditions: ['@goes/source', 'node', 'node-addons'] },
    roots: ['<rootDir>/test'],
    moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
    testTimeout: 30_000,
    ...overrides,
  };
}
