import { isUuid } from '@goes/event';
import { describe, expect, it } from '@jest/globals';
import { distributed, writePath } from '../src/commands.js';

describe('docs/guides/commands.md', () => {
  it('runs the write path through a local bus', async () => {
    const result = await writePath();
    expect(isUuid(result.created.id)).toBe(true);
    expect(result.refusal).toBe('COMMAND_HANDLER_FAILED: price -5 must be positive');
    expect(result.version).toBe(1);
  });

  it('dispatches between two instances of the distributed bus', async () => {
    const result = await distributed();
    expect(isUuid(result.id)).toBe(true);
    expect(result.outcome).toBe('succeeded');
    expect(result.handler).toBe(true);
  });
});
