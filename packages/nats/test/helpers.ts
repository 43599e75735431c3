import { randomUUID } from 'node:crypto';
import { afterAll } from '@jest/globals';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';

/** The NATS server of the tests (with JetStream), as `pnpm test` exports it. */
export const NATS_URL = process.env.GOES_NATS_URL ?? 'nats://127.0.0.1:4222';

/** A short unique token for subjects, stream and consumer names, so runs never collide. */
export function unique(): string {
  return randomUUID().replaceAll('-', '').slice(0, 12);
}

let admin: Promise<NatsConnection> | undefined;

/**
 * A connection for test set-up and inspection (never the bus under test's). Fails with a message
 * that says what to start when the server is missing: backend tests never skip.
 */
export function adminConnection(): Promise<NatsConnection> {
  admin ??= connect({ servers: NATS_URL, name: 'goes-nats-tests' }).catch((error: unknown) => {
    throw new Error(
      `NATS with JetStream is not reachable at ${NATS_URL} (${String(error)}). ` +
        'Start it with `nats-server -js` or run the tests through `pnpm test`, which starts it.',
    );
  });
  return admin;
}

afterAll(async () => {
  const nc = await admin?.catch(() => undefined);
  admin = undefined;
  await nc?.drain();
});

/** Deletes a test stream (ignores one that does not exist). */
export async function deleteStream(name: string): Promise<void> {
  const jsm = await jetstreamManager(await adminConnection());
  await jsm.streams.delete(name).catch(() => false);
}

/** Resolves when `check()` holds, polling; rejects with `what` after `ms`. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  ms: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
