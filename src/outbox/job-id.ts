/** BullMQ job id for a work row: deterministic, and free of `:` as BullMQ requires. */
export function jobIdFor(workId: string): string {
  return `work-${workId}`;
}
