/**
 * Resident memory of a process from /proc (Linux): its RSS now, and its peak since the peak was
 * last reset. Writing "5" to /proc/<pid>/clear_refs resets the peak (VmHWM) to the RSS of the
 * moment, so the peak of one step can be told from the peak of everything before it.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { MB } from '../lib/stats.js';

async function statusField(pid: number | 'self', field: 'VmRSS' | 'VmHWM'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
  if (!match) throw new Error(`/proc/${pid}/status has no ${field}`);
  return (Number(match[1]) * 1024) / MB;
}

/** Resets the process's peak to its RSS now and returns that RSS, in MB. */
export async function resetPeakRss(pid: number | 'self'): Promise<number> {
  await writeFile(`/proc/${pid}/clear_refs`, '5');
  return statusField(pid, 'VmRSS');
}

/** The process's peak RSS since the last reset (or its start), in MB. */
export function peakRss(pid: number | 'self'): Promise<number> {
  return statusField(pid, 'VmHWM');
}

/** How far above `rest` (MB) the process's memory went while `work` ran, in MB. */
export async function rssGrowthDuring(
  pid: number | 'self',
  work: () => Promise<unknown>,
): Promise<number> {
  const rest = await resetPeakRss(pid);
  await work();
  return (await peakRss(pid)) - rest;
}
