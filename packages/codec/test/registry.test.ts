import { describe, expect, it } from '@jest/globals';
import * as v from 'valibot';
import { z } from 'zod';
import {
  type Codec,
  createRegistry,
  DecodeError,
  EncodeError,
  InvalidRegistrationError,
  isCodecError,
  type StandardSchemaV1,
  UnknownNameError,
  ValidationError,
} from '../src/index.js';

describe('default JSON encoding', () => {
  it('round-trips data of any name when not strict', () => {
    const codec = createRegistry();
    const data = { sku: 'A-1', price: 2999, tags: ['x'] };
    expect(codec.decode('anything', codec.encode('anything', data))).toEqual(data);
  });

  it('encodes undefined as null so every store can hold it', () => {
    expect(createRegistry().encode('x', undefined)).toBe('null');
  });

  it('names the name when data cannot be encoded', () => {
    const codec = createRegistry();
    const error = catchError(() => codec.encode('order.placed', { total: 10n }));
    expect(error).toBeInstanceOf(EncodeError);
    expect((error as EncodeError).code).toBe('CODEC_ENCODE_FAILED');
    expect((error as EncodeError).message).toContain('"order.placed"');
    expect((error as EncodeError).dataName).toBe('order.placed');
  });

  it('names the name when text cannot be decoded', () => {
    const error = catchError(() => createRegistry().decode('order.placed', '{oops'));
    expect(error).toBeInstanceOf(DecodeError);
    expect((error as DecodeError).message).toContain('"order.placed"');
    expect((error as DecodeError).cause).toBeInstanceOf(SyntaxError);
  });
});

describe('strict registries', () => {
  it('refuse unknown names on encode and decode', () => {
    const codec = createRegistry({ strict: true }).register('known');
    expect(() => codec.decode('known', '{}')).not.toThrow();
    const error = catchError(() => codec.decode('unknown.name', '{}'));
    expect(error).toBeInstanceOf(UnknownNameError);
    expect((error as UnknownNameError).code).toBe('CODEC_UNKNOWN_NAME');
    expect((error as UnknownNameError).message).toContain('"unknown.name"');
    expect(() => codec.encode('unknown.name', {})).toThrow(UnknownNameError);
  });

  it('lists its names', () => {
    const codec = createRegistry({ strict: true }).register('a').register('b');
    expect(codec.names()).toEqual(['a', 'b']);
    expect(codec.has('a')).toBe(true);
    expect(codec.has('c')).toBe(false);
  });
});

describe('custom encoders', () => {
  it('use the per-name encode and decode', () => {
    const codec = createRegistry().register<'money', { cents: bigint }>('money', {
      encode: (data) => data.cents.toString(),
      decode: (text) => ({ cents: BigInt(text) }),
    });
    expect(codec.encode('money', { cents: 12n })).toBe('12');
    expect(codec.decode('money', '12')).toEqual({ cents: 12n });
  });

  it('wrap a failing custom decoder in DecodeError', () => {
    const codec = createRegistry().register('broken', {
      decode: () => {
        throw new Error('nope');
      },
    });
    expect(() => codec.decode('broken', 'x')).toThrow(DecodeError);
  });
});

describe('Standard Schema validation', () => {
  const placedZod = z.object({ orderId: z.string().uuid(), total: z.number().nonnegative() });
  const placedValibot = v.object({ orderId: v.pipe(v.string(), v.uuid()), total: v.number() });
  const good = { orderId: '0190a6f1-7c2b-7b3a-8d4e-1234567890ab', total: 5 };

  it.each([
    ['zod', placedZod],
    ['valibot', placedValibot],
  ])('validates decoded data with %s', (_vendor, schema) => {
    const codec = createRegistry().register('order.placed', { schema });
    expect(codec.decode('order.placed', JSON.stringify(good))).toEqual(good);
    const error = catchError(() =>
      codec.decode('order.placed', JSON.stringify({ orderId: 'x', total: 5 })),
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).code).toBe('CODEC_VALIDATION_FAILED');
    expect((error as ValidationError).message).toContain('"order.placed"');
    expect((error as ValidationError).message).toContain('orderId');
    expect((error as ValidationError).issues.length).toBeGreaterThan(0);
  });

  it('validates data before encoding it', () => {
    const codec = createRegistry().register('order.placed', { schema: placedZod });
    expect(() => codec.encode('order.placed', { orderId: 'nope', total: -1 })).toThrow(
      ValidationError,
    );
  });

  it('returns the schema output (transforms apply)', () => {
    const codec = createRegistry().register('n', {
      schema: z.object({ n: z.string().transform(Number) }),
    });
    expect(codec.decode('n', '{"n":"42"}')).toEqual({ n: 42 });
  });

  it('infers the data type from the schema', () => {
    const codec = createRegistry().register('order.placed', { schema: placedZod });
    const decoded = codec.decode('order.placed', JSON.stringify(good));
    const total: number = decoded.total;
    expect(total).toBe(5);
  });

  it('refuses an asynchronous schema with a clear error', () => {
    const asyncSchema: StandardSchemaV1<unknown, unknown> = {
      '~standard': { version: 1, vendor: 'test', validate: async (value) => ({ value }) },
    };
    const codec = createRegistry().register('slow', { schema: asyncSchema });
    expect(() => codec.validate('slow', {})).toThrow(InvalidRegistrationError);
  });
});

describe('registration', () => {
  it('refuses an empty name', () => {
    expect(() => createRegistry().register('')).toThrow(InvalidRegistrationError);
  });

  it('is a Codec that other layers can take', () => {
    const codec: Codec<{ a: { x: number } }> = createRegistry<{ a: { x: number } }>();
    expect(codec.decode('a', '{"x":1}').x).toBe(1);
  });

  it('marks its errors with codes that isCodecError recognises', () => {
    expect(isCodecError(new UnknownNameError('x'))).toBe(true);
    expect(isCodecError(new Error('x'))).toBe(false);
    expect(isCodecError({ code: 'CODEC_DECODE_FAILED' })).toBe(false); // an unbranded look-alike
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('typing', () => {
  it('a typed registry is assignable to the plain Codec that stores take', () => {
    const typed = createRegistry<{ 'a.b': { n: number } }>({ strict: true }).register('a.b');
    const plain: Codec = typed;
    expect(plain.decode('a.b', '{"n":1}')).toEqual({ n: 1 });
    const n: number = typed.decode('a.b', '{"n":2}').n;
    expect(n).toBe(2);
  });
});
