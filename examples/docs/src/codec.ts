/** Code of docs/guides/codec.md, run by ../test/codec.test.ts. */
// #region schema
import { createRegistry, isCodecError } from '@goes/codec';
import { z } from 'zod';

export const customerEvents = createRegistry({ strict: true })
  .register('customer.registered', {
    schema: z.object({ email: z.string().email(), name: z.string().min(1) }),
  })
  .register('customer.renamed', { schema: z.object({ name: z.string().min(1) }) });

// The data type is inferred from the schema: { email: string; name: string }.
export const registered = customerEvents.decode(
  'customer.registered',
  '{"email":"ada@example.com","name":"Ada"}',
);
// #endregion schema

export function refusals(): string[] {
  const codes: string[] = [];
  // #region errors
  for (const attempt of [
    () => customerEvents.decode('customer.registered', '{"email":"nope","name":"Ada"}'),
    () => customerEvents.decode('customer.renamed', '{not json'),
    () => customerEvents.encode('customer.deleted' as 'customer.renamed', { name: 'x' }),
  ]) {
    try {
      attempt();
    } catch (error) {
      if (isCodecError(error)) codes.push(`${error.code} (${error.dataName})`);
    }
  }
  // codes: CODEC_VALIDATION_FAILED (customer.registered), CODEC_DECODE_FAILED (customer.renamed),
  //        CODEC_UNKNOWN_NAME (customer.deleted)
  // #endregion errors
  return codes;
}
