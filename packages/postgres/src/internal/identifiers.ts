import { InvalidArgumentError } from '@goes/event';

/** PostgreSQL truncates identifiers longer than this many bytes (NAMEDATALEN − 1). */
const MAX_IDENTIFIER_BYTES = 63;

/** The longest suffix the store appends to the table name (index and counter names). */
export const LONGEST_TABLE_SUFFIX = '_name_time_idx';

const SAFE_IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

/**
 * Checks a schema or table name: lowercase letters, digits and underscores, not starting with a
 * digit, short enough that the names derived from it stay within PostgreSQL's 63-byte limit
 * (longer names would be silently truncated and could collide). The names are quoted in SQL as
 * well; the check keeps them predictable in `psql` and in error messages.
 *
 * @throws InvalidArgumentError naming the value.
 */
export function checkIdentifier(kind: 'schema' | 'table', value: unknown): string {
  if (typeof value !== 'string' || !SAFE_IDENTIFIER.test(value)) {
    throw new InvalidArgumentError(
      `@goes/postgres: ${kind} name ${JSON.stringify(value)} is not a safe SQL identifier: use lowercase letters, digits and underscores, starting with a letter or underscore`,
    );
  }
  const limit =
    kind === 'table' ? MAX_IDENTIFIER_BYTES - LONGEST_TABLE_SUFFIX.length : MAX_IDENTIFIER_BYTES;
  if (value.length > limit) {
    throw new InvalidArgumentError(
      `@goes/postgres: ${kind} name ${JSON.stringify(value)} is ${value.length} characters long; at most ${limit} are allowed`,
    );
  }
  return value;
}

/** Quotes an identifier for SQL text (doubling embedded quotes), as PostgreSQL's quote_ident does. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
