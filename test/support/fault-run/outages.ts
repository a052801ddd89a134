/**
 * A Redis outage: Redis killed, a web app booted while it is down, and every web app made to
 * acknowledge operations before Redis is started again.
 */
import type { RedisServer } from '../processes.js';
import type { Random } from '../random.js';
import { until, within } from './bounds.js';
import type { Lanes } from './lanes.js';
import { recordOf, type Ledger, type Outage } from './ledger.js';
import {
  LANES,
  OUTAGE_ACKS,
  OUTAGE_BOUND_MS,
  OUTAGE_SETTLE_BOUND_MS,
  WEB_BOOT_BOUND_MS,
} from './settings.js';
import type { Web, Webs } from './webs.js';

export class Outages {
  private readonly random: Random;

  constructor(
    private readonly ledger: Ledger,
    private readonly redis: RedisServer,
    private readonly webs: Webs,
    private readonly lanes: Lanes,
    random: Random,
  ) {
    this.random = random.derive('outages');
  }

  /** Outage number `index` (from 1), from Redis killed to Redis back. */
  async run(index: number): Promise<void> {
    const { ledger, lanes } = this;
    const current: Outage = {
      index,
      startedAt: Date.now(),
      durationMs: 0,
      acks: new Map(),
      lateWeb: null,
      blocked: [],
    };
    ledger.figures.outages.push(current);
    await this.redis.kill();
    ledger.outage = current;
    const minimum = this.random.int(3000, 6000);
    // A web app that boots while Redis is down must boot, and save, all the same.
    const name = `late-${index}`;
    const booting = this.webs.boot(name);
    const booted = await within(booting, WEB_BOOT_BOUND_MS);
    // It gets a lane of its own, so that if its operations hang, the others go on.
    const startLane = (web: Web) => lanes.start(LANES + index - 1, web);
    if (booted) {
      current.lateWeb = name;
      startLane(booted);
    } else {
      ledger.problem('redis outages', `outage ${index}: ${name} did not boot while Redis was down`);
      booting.then(startLane).catch(() => undefined);
    }
    const acked = (webName: string) => (current.acks.get(webName) ?? 0) >= OUTAGE_ACKS;
    await until(
      () =>
        Date.now() - current.startedAt >= minimum &&
        acked('main') &&
        (!current.lateWeb || acked(current.lateWeb)),
      OUTAGE_BOUND_MS,
    );
    // No new operations; those under way must finish while Redis is still down.
    lanes.pause();
    await until(() => ledger.inflight.size === 0, OUTAGE_SETTLE_BOUND_MS);
    for (const operation of ledger.inflight) {
      if (operation.outage !== index) continue;
      current.blocked.push(
        `${operation.kind} via ${operation.web} (photo ${recordOf(operation)}), ` +
          `waiting ${Date.now() - operation.startedAt} ms`,
      );
    }
    for (const webName of ['main', ...(current.lateWeb ? [current.lateWeb] : [])]) {
      if (!acked(webName)) {
        ledger.problem(
          'redis outages',
          `outage ${index}: ${webName} acknowledged ${current.acks.get(webName) ?? 0} ` +
            `operations while Redis was down (wanted ${OUTAGE_ACKS})`,
        );
      }
    }
    if (current.blocked.length > 0) {
      ledger.problem(
        'redis outages',
        `outage ${index}: ${current.blocked.length} operation(s) did not finish while Redis ` +
          `was down:\n    ${current.blocked.join('\n    ')}`,
      );
    }
    await this.redis.start();
    current.durationMs = Date.now() - current.startedAt;
    ledger.outage = null;
    lanes.resume();
  }
}
