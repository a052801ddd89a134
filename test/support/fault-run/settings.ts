/** The fault run's knobs (from the environment) and bounds. */
import { seedFrom } from '../random.js';

export const SEED = seedFrom('FAULT_SEED');
export const KILLS = Number(process.env.FAULT_KILLS ?? 40);
/** Connections of each worker's pool; unset, TypeORM's default (10, the worker's concurrency). */
export const WORKER_POOL = process.env.FAULT_WORKER_POOL;
export const CONCURRENCY = 10;
export const LANES = 2;
export const OUTAGES = 2;
/** Steps of the jobs a strike can aim at (the worker announces them). */
export const STEPS = ['promote:before-copy', 'promote:before-write', 'delete:before'] as const;
export type Step = (typeof STEPS)[number];
export const LOCK_MS = 1000;
// Bounds, so the run stops by itself. Only in that way do they decide the result: work, or an
// operation during an outage, still unfinished when its bound ends is reported as stuck.
export const CHAOS_CAP_MS = 140_000;
export const READY_BOUND_MS = 60_000;
export const WEB_BOOT_BOUND_MS = 15_000;
export const OUTAGE_BOUND_MS = 12_000;
export const OUTAGE_SETTLE_BOUND_MS = 8_000;
export const LANE_STOP_BOUND_MS = 20_000;
export const SETTLE_BOUND_MS = 90_000;
export const RETRY_SETTLE_BOUND_MS = 30_000;
/** Operations each web app must have acknowledged during an outage before Redis comes back. */
export const OUTAGE_ACKS = 3;
