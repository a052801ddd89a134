import type { ValueTransformer } from 'typeorm';

/**
 * Times kept as milliseconds since the epoch in `bigint` columns, which drivers hand back as
 * strings: read back as numbers.
 */
export const epochMillis: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null ? null : Number(value)),
};
