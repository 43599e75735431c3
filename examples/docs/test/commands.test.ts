import { isUuid } from '@goes/event';
import { describe, expect, it, jest } from '@jest/globals';
import { cartCommands } from '../src/aggregate-commands.js';
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

describe('docs/guides/commands.md: aggregate-owned handlers', () => {
  it('runs the cart commands through the repository and deletes the cart', async () => {
    const log = jest.spyOn(console, 'log').mockImplementation(() => {});
    const { items, stored } = await cartCommands();
    expect(items).toBe(2);
    expect(log).toHaveBeenCalledWith('cart.add on cart v0');
    log.mockRestore();
    const names: string[] = [];
    for await (const event of stored) names.push(event.name);
    expect(names).toEqual(['goes.command.aggregate.deleted']);
  });
});
