import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from '@jest/globals';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { inMemory, natsCore, natsJetStream } from '../src/backends.js';

// The NATS server of the tests (`pnpm test` starts it); a missing server fails, never skips.
const url = process.env.GOES_NATS_URL ?? 'nats://127.0.0.1:4222';
const token = randomUUID().replaceAll('-', '').slice(0, 12);
const stream = `DOCS_${token}`;

afterAll(async () => {
  const nc = await connect({ servers: url });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.delete(stream).catch(() => false);
  await nc.drain();
});

describe('docs/backends', () => {
  it('in-memory: stores, publishes, keeps models', async () => {
    expect(await inMemory()).toEqual({ position: 1, models: 1 });
  });

  it('nats core: delivers what the store published', async () => {
    expect(await natsCore(url, `docs.${token}`)).toMatchObject({ totalCents: 4_200 });
  });

  it('nats JetStream: a durable consumer receives the event', async () => {
    expect(await natsJetStream(url, `docsjs.${token}`, stream)).toMatchObject({ totalCents: 990 });
  });
});
