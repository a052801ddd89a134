import { readFileSync } from 'node:fs';

/**
 * This process's own peak resident memory, in bytes (VmHWM). Not `resourceUsage().maxRSS`: on
 * Linux that value survives fork and exec, so a child started by a large parent would report
 * the parent's peak.
 */
export function peakRssBytes(): number {
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return match ? Number(match[1]) * 1024 : process.resourceUsage().maxRSS * 1024;
}
