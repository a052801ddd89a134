import { randomBytes } from 'node:crypto';

const COUNTER_MAX = 0xfff;
/** A new millisecond's counter starts in the lower half, leaving room for a burst after it. */
const COUNTER_SEED_RANGE = 0x800;
/**
 * How far the last id may lie ahead of the clock and still be continued from. A burst of more
 * than ~2,048 ids in one millisecond moves the time of the next ids a millisecond ahead; a
 * clock set back by more than this starts again from the clock instead of running ahead of it.
 */
const MAX_LEAD_MS = 10;

let last = { ms: -1, counter: 0 };

/**
 * A UUID of version 7 (RFC 9562): the 48-bit Unix time in milliseconds `createdAt`, then a
 * 12-bit counter (rand_a), then 62 random bits (rand_b). Within one process, ids made one after
 * another sort in the order they were made, as strings too (unless the clock is set back); to
 * keep that order, the time carried may be a few milliseconds after `createdAt`, never before.
 */
export function uuidV7(createdAt: number): string {
  const ms = Math.floor(createdAt);
  if (!Number.isSafeInteger(ms) || ms < 0 || ms >= 2 ** 48) {
    throw new RangeError(`A UUIDv7 cannot carry the time ${createdAt}`);
  }
  const random = randomBytes(10);
  last = nextStamp(ms, random.readUInt16BE(0) % COUNTER_SEED_RANGE);
  const bytes = Buffer.alloc(16);
  bytes.writeUIntBE(last.ms, 0, 6);
  bytes.writeUInt16BE(0x7000 | last.counter, 6); // version 7, then the counter
  random.copy(bytes, 8, 2);
  bytes[8] = 0x80 | (bytes[8]! & 0x3f); // variant 0b10
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function nextStamp(ms: number, seed: number): { ms: number; counter: number } {
  const continues = ms <= last.ms && last.ms - ms <= MAX_LEAD_MS;
  if (!continues) return { ms, counter: seed };
  if (last.counter < COUNTER_MAX) return { ms: last.ms, counter: last.counter + 1 };
  return { ms: last.ms + 1, counter: seed };
}

/** The millisecond time of a version 7 UUID in lowercase hex, else undefined. */
export function uuidV7Time(uuid: string): number | undefined {
  if (uuid[14] !== '7' || !'89ab'.includes(uuid[19] ?? '-')) return undefined;
  return Number.parseInt(`${uuid.slice(0, 8)}${uuid.slice(9, 13)}`, 16);
}
