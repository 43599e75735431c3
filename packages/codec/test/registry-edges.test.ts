import { describe, expect, it } from '@jest/globals';
import { createRegistry, isCodecError, type StandardSchemaV1 } from '../src/index.js';

const throwing: StandardSchemaV1<unknown, unknown> = {
  '~standard': {
    version: 1,
    vendor: 'test',
    validate: () => {
      throw new TypeError('schema bug');
    },
  },
};

// Found in review: each failed before its fix.
describe('registry edge cases', () => {
  it('a schema that throws yields a codec error naming the name', () => {
    const registry = createRegistry().register('order.placed', { schema: throwing });
    let error: unknown;
    try {
      registry.encode('order.placed', {});
    } catch (e) {
      error = e;
    }
    expect(isCodecError(error) && error.code).toBe('CODEC_VALIDATION_FAILED');
    expect(String((error as Error).message)).toContain('order.placed');
    expect((error as Error).cause).toBeInstanceOf(TypeError);
  });

  it('an encoder that returns no text fails encode naming the name', () => {
    const registry = createRegistry().register('x', {
      encode: () => undefined as unknown as string,
    });
    let error: unknown;
    try {
      registry.encode('x', 1);
    } catch (e) {
      error = e;
    }
    expect(isCodecError(error) && error.code).toBe('CODEC_ENCODE_FAILED');
    expect(isCodecError(error) && error.dataName).toBe('x');
  });
});
