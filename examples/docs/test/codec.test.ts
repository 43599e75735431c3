import { describe, expect, it } from '@jest/globals';
import { refusals, registered } from '../src/codec.js';

describe('docs/guides/codec.md', () => {
  it('decodes validated, typed data', () => {
    expect(registered).toEqual({ email: 'ada@example.com', name: 'Ada' });
  });

  it('refuses bad data with typed errors naming the name', () => {
    expect(refusals()).toEqual([
      'CODEC_VALIDATION_FAILED (customer.registered)',
      'CODEC_DECODE_FAILED (customer.renamed)',
      'CODEC_UNKNOWN_NAME (customer.deleted)',
    ]);
  });
});
