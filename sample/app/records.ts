import { NotFoundException } from '@nestjs/common';

/**
 * The record with the id from a URL, or a 404 naming what is missing. Anything but a plain
 * positive number names no record; it never reaches the database.
 */
export async function findById<T>(
  id: string,
  what: string,
  load: (id: number) => Promise<T | null>,
): Promise<T> {
  const found = /^[1-9]\d{0,8}$/.test(id) ? await load(Number(id)) : null;
  if (!found) throw new NotFoundException(`No ${what} with id ${JSON.stringify(id)}`);
  return found;
}
