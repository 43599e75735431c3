import { createEvent, isGoesError } from '@goes/event';
import { describe, expect, it } from '@jest/globals';
import { createNatsEventBus, subjectProblem } from '../src/index.js';

describe('subjects', () => {
  it('maps event names below the prefix, dots staying token separators', () => {
    const bus = createNatsEventBus({ subjectPrefix: 'shop.events' });
    expect(bus.subjectOf('order.placed')).toBe('shop.events.order.placed');
    expect(bus.subjectPrefix).toBe('shop.events');
    expect(createNatsEventBus().subjectOf('x')).toBe('goes.events.x');
  });

  it.each([
    ['', 'it is empty'],
    ['order placed', 'whitespace or control character U+0020'],
    ['order\tplaced', 'U+0009'],
    ['order\u0000placed', 'U+0000'],
    ['order\u2028placed', 'U+2028'],
    ['order.*', 'the wildcard "*"'],
    ['order.>', 'the wildcard ">"'],
    ['a*b', 'the wildcard "*"'],
    ['.order', 'empty token'],
    ['order.', 'empty token'],
    ['order..placed', 'empty token'],
  ])('finds %j invalid: %s', (subject, reason) => {
    expect(subjectProblem(subject)).toContain(reason);
  });

  it('accepts any other UTF-8 token', () => {
    expect(subjectProblem('bestellung.aufgegeben-ü_1$')).toBeUndefined();
  });

  it('refuses a bad name on subscribe and publish with INVALID_SUBJECT, before touching the server', async () => {
    // No server behind this URL: the names are refused before any connection is attempted.
    const bus = createNatsEventBus({ url: 'nats://127.0.0.1:1' });
    for (const name of ['order placed', 'order.*', '>', 'a..b']) {
      const error = await bus.subscribe(['ok', name]).catch((e: unknown) => e);
      expect(isGoesError(error, 'INVALID_SUBJECT')).toBe(true);
      expect((error as Error).message).toContain('names[1]');
      expect((error as Error).message).toContain(JSON.stringify(name));
    }
    const error = await bus
      .publish([createEvent('fine', 1), createEvent('not fine', 2)])
      .catch((e: unknown) => e);
    expect(isGoesError(error, 'INVALID_SUBJECT')).toBe(true);
    expect((error as Error).message).toContain('events[1]');
    const star = await bus.publish([createEvent('*', 1)]).catch((e: unknown) => e);
    expect((star as Error).message).toContain('only valid for subscribing');
    await bus.close();
  });

  it('lets a subject function escape names, and validates what it returns', () => {
    const bus = createNatsEventBus({ subject: (name) => name.replaceAll(' ', '_') });
    expect(bus.subjectOf('order placed')).toBe('goes.events.order_placed');
    const strict = createNatsEventBus({ subject: (name) => `${name}.>` });
    expect(() => strict.subjectOf('x')).toThrow('(mapped to "x.>")');
  });

  it('refuses a bad prefix and bad options at creation', () => {
    expect(() => createNatsEventBus({ subjectPrefix: 'a.>' })).toThrow('subjectPrefix');
    expect(() => createNatsEventBus({ bufferSize: 0 })).toThrow('bufferSize 0');
    expect(() => createNatsEventBus({ jetstream: {} })).toThrow('driver: "jetstream"');
    expect(() => createNatsEventBus({ driver: 'jetstream', jetstream: { stream: 'a.b' } })).toThrow(
      'jetstream.stream "a.b"',
    );
    expect(() =>
      createNatsEventBus({
        driver: 'jetstream',
        jetstream: { deadLetterSubject: 'goes.events.dead' },
      }),
    ).toThrow("inside the bus' prefix");
    expect(() => createNatsEventBus({ driver: 'jetstream', jetstream: { ackWait: 10 } })).toThrow(
      'jetstream.ackWait 10',
    );
  });
});
