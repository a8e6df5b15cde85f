import { describe, expect, it } from 'vitest';
import { report } from './chaos-rig.js';
import { redisRestart } from './scenarios.js';

describe('chaos 3: Redis (AOF on) restarted during load', () => {
  it('delivers every event; duplicates stay within the jobs in flight at the restart', async () => {
    const r = await redisRestart({ events: 600, perSecond: 150, restartAfterMs: 2000, downMs: 1000, settleMs: 40_000 });
    report('redis-restart', r);
    expect(r.lost).toBe(0);
    expect(r.duplicated).toBeLessThanOrEqual(Math.max(r.inFlightAtFault, 20));
  }, 90_000);
});
