/**
 * The nil UUID. goes uses it for "no aggregate"; here events without an aggregate have none, and
 * stores refuse it nowhere special: it is just a UUID.
 *
 * @example
 * ```ts
 * isUuid(NIL_UUID); // true
 * ```
 */
export const NIL_UUID = '00000000-0000-0000-0000-000000000000';

const CANONICAL = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const HEX: string[] = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

// Random bytes are drawn in pools: one getRandomValues call per 512 ids instead of one per id.
const POOL_SIZE = 8 * 512;
let pool = new Uint8Array(0);
let poolOffset = POOL_SIZE;
function randomBytes8(): number {
  if (poolOffset >= pool.length) {
    pool = new Uint8Array(POOL_SIZE);
    globalThis.crypto.getRandomValues(pool);
    poolOffset = 0;
  }
  const offset = poolOffset;
  poolOffset += 8;
  return offset;
}

let lastMillis = 0;
let counter = 0;

/**
 * A new UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then a 12-bit counter and random bits.
 * Ids made by one process are strictly increasing, also within one millisecond (the counter;
 * when it runs out the timestamp moves on by 1 ms), so they index well and sort by creation.
 *
 * @example
 * ```ts
 * const id = uuidv7(); // '0190a6f1-7c2b-7b3a-8d4e-1234567890ab'
 * ```
 */
export function uuidv7(): string {
  let millis = Date.now();
  if (millis > lastMillis) {
    lastMillis = millis;
    counter = Math.floor(Math.random() * 0x400); // leave room for 3,000+ ids in the same ms
  } else {
    millis = lastMillis;
    counter++;
    if (counter > 0xfff) {
      lastMillis = ++millis;
      counter = 0;
    }
  }
  const r = randomBytes8();
  const high = Math.floor(millis / 0x10000);
  const low = millis % 0x10000;
  return (
    HEX[(high >>> 24) & 0xff]! +
    HEX[(high >>> 16) & 0xff]! +
    HEX[(high >>> 8) & 0xff]! +
    HEX[high & 0xff]! +
    '-' +
    HEX[(low >>> 8) & 0xff]! +
    HEX[low & 0xff]! +
    '-' +
    HEX[0x70 | (counter >>> 8)]! +
    HEX[counter & 0xff]! +
    '-' +
    HEX[0x80 | (pool[r]! & 0x3f)]! +
    HEX[pool[r + 1]!]! +
    '-' +
    HEX[pool[r + 2]!]! +
    HEX[pool[r + 3]!]! +
    HEX[pool[r + 4]!]! +
    HEX[pool[r + 5]!]! +
    HEX[pool[r + 6]!]! +
    HEX[pool[r + 7]!]!
  );
}

/**
 * True for a UUID in canonical form: 36 characters, lowercase hex, dashes at 8-4-4-4-12.
 * goes' stores compare ids as strings, so upper-case ids are not accepted.
 *
 * @example
 * ```ts
 * isUuid(uuidv7()); // true
 * isUuid('ABC'); // false
 * ```
 */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && value.length === 36 && CANONICAL.test(value);
}
