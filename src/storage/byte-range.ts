import type { ByteRange } from './storage.interface.js';

/**
 * Checks `range` against a file of `size` bytes and returns it with `end` filled in. Every
 * storage applies this same rule, so callers (an HTTP layer answering 416) see one behaviour:
 * a range must lie entirely within the file, otherwise RangeError.
 */
export function resolveByteRange(range: ByteRange, size: number): { start: number; end: number } {
  const { start } = range;
  const end = range.end ?? size - 1;
  if (!Number.isSafeInteger(start) || start < 0) {
    throw new RangeError(`Range start must be a non-negative integer, got ${start}`);
  }
  if (!Number.isSafeInteger(end)) {
    throw new RangeError(`Range end must be an integer, got ${range.end}`);
  }
  if (start > end) {
    throw new RangeError(
      range.end === undefined
        ? `Range start ${start} is beyond the end of a ${size}-byte file`
        : `Range start ${start} is after range end ${end}`,
    );
  }
  if (end >= size) {
    throw new RangeError(`Range ${start}-${end} goes beyond the end of a ${size}-byte file`);
  }
  return { start, end };
}
