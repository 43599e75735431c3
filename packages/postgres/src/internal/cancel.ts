import pg from 'pg';

/** The backend process id of a connection (pg sets it from BackendKeyData; it is not typed). */
function backendPid(client: pg.PoolClient): number | undefined {
  const pid = (client as unknown as { processID?: unknown }).processID;
  return typeof pid === 'number' ? pid : undefined;
}

/**
 * Asks PostgreSQL to cancel the statement `client` is running, with `pg_cancel_backend` on a
 * connection of its own: a connection of the pool might never come (the pool may be exhausted,
 * e.g. by the very reads being aborted). It needs the same role as the pool's connections (or
 * pg_signal_backend), which a store's own connections have. Best effort: when it fails, the
 * statement runs to its end, as it would without a cancel. Resolves when the request was made.
 *
 * A connection whose statement was cancelled must not be reused: the cancel may arrive after
 * the statement ended and hit the next one. Callers destroy it.
 */
export async function cancelStatement(pool: pg.Pool, client: pg.PoolClient): Promise<void> {
  const pid = backendPid(client);
  if (pid === undefined) return;
  // pg-pool keeps the password out of the enumerable options; pass it on explicitly.
  const canceller = new pg.Client({ ...pool.options, password: pool.options.password });
  canceller.on('error', () => {});
  try {
    await canceller.connect();
    await canceller.query('SELECT pg_cancel_backend($1)', [pid]);
  } catch {
    // Best effort, see above.
  } finally {
    canceller.end().catch(() => {});
  }
}
