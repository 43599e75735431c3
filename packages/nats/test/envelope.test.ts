import { createRegistry } from '@goes/codec';
import { createEvent, eventsEqual, isGoesError, uuidv7 } from '@goes/event';
import { describe, expect, it } from '@jest/globals';
import { decodeEnvelope, ENVELOPE_VERSION, encodeEnvelope } from '../src/index.js';

const codec = createRegistry();
const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const decodeError = (value: unknown) => {
  try {
    const raw = typeof value === 'string' ? new TextEncoder().encode(value) : bytes(value);
    decodeEnvelope(raw, 'goes.events.x', codec);
  } catch (error) {
    return error;
  }
  throw new Error('decodeEnvelope accepted an invalid envelope');
};

describe('envelope', () => {
  it('writes the documented JSON: v, id, name, time as decimal ns, data as the codec text, aggregate, position', () => {
    const aggregateId = uuidv7();
    const event = {
      ...createEvent(
        'order.placed',
        { total: 10, note: 'a "quoted" ü' },
        {
          time: 1_732_728_000_123_456_789n,
          aggregate: { name: 'order', id: aggregateId, version: 3 },
        },
      ),
      position: 42,
    };
    const json = JSON.parse(new TextDecoder().decode(encodeEnvelope(event, codec)));
    expect(json).toEqual({
      v: ENVELOPE_VERSION,
      id: event.id,
      name: 'order.placed',
      time: '1732728000123456789',
      data: '{"total":10,"note":"a \\"quoted\\" ü"}',
      aggregate: { name: 'order', id: aggregateId, version: 3 },
      position: 42,
    });
    const decoded = decodeEnvelope(encodeEnvelope(event, codec), 'goes.events.order.placed', codec);
    expect(eventsEqual(decoded, event)).toBe(true);
    expect(decoded.position).toBe(42);
  });

  it('leaves out aggregate and position when the event has none', () => {
    const event = createEvent('ping', null);
    const json = JSON.parse(new TextDecoder().decode(encodeEnvelope(event, codec)));
    expect(Object.keys(json).sort()).toEqual(['data', 'id', 'name', 'time', 'v']);
    expect(json.data).toBe('null');
    expect(decodeEnvelope(encodeEnvelope(event, codec), 's', codec).aggregate).toBeUndefined();
  });

  it('reads an envelope written by another runtime, ignoring fields it does not know', () => {
    const id = uuidv7();
    const event = decodeEnvelope(
      bytes({ v: 1, id, name: 'x', time: '-5', data: '[1,2]', trace: 'abc' }),
      'goes.events.x',
      codec,
    );
    expect(event).toEqual({ id, name: 'x', time: -5n, data: [1, 2] });
  });

  it.each([
    ['not JSON', 'nope', 'not UTF-8 JSON'],
    ['an array', [1], 'not a JSON object'],
    ['another version', { v: 2 }, 'envelope version 2 is not supported'],
    [
      'a bad id',
      { v: 1, id: 'x', name: 'n', time: '1', data: '1' },
      'id "x" is not a lowercase UUID',
    ],
    ['an empty name', { v: 1, id: uuidv7(), name: '', time: '1', data: '1' }, 'name must be'],
    [
      'a numeric time',
      { v: 1, id: uuidv7(), name: 'n', time: 1, data: '1' },
      'time 1 must be a decimal string',
    ],
    [
      'data that is not a string',
      { v: 1, id: uuidv7(), name: 'n', time: '1', data: { a: 1 } },
      "data must be the codec's text",
    ],
    [
      'data the codec cannot decode',
      { v: 1, id: uuidv7(), name: 'n', time: '1', data: '{' },
      'cannot decode',
    ],
    [
      'a bad aggregate id',
      {
        v: 1,
        id: uuidv7(),
        name: 'n',
        time: '1',
        data: '1',
        aggregate: { name: 'a', id: 'y', version: 1 },
      },
      'aggregate.id "y"',
    ],
    [
      'a negative version',
      {
        v: 1,
        id: uuidv7(),
        name: 'n',
        time: '1',
        data: '1',
        aggregate: { name: 'a', id: uuidv7(), version: -1 },
      },
      'aggregate.version -1',
    ],
    [
      'a fractional position',
      { v: 1, id: uuidv7(), name: 'n', time: '1', data: '1', position: 1.5 },
      'position 1.5',
    ],
  ])('refuses %s with INVALID_ENVELOPE naming the problem', (_, value, message) => {
    const error = decodeError(value);
    expect(isGoesError(error, 'INVALID_ENVELOPE')).toBe(true);
    expect((error as Error).message).toContain('goes.events.x');
    expect((error as Error).message).toContain(message);
  });
});
