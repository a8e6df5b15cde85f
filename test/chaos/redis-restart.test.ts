import { describe, expect, it } from 'vitest';
import { report } from './chaos-rig.js';
import { redisRestart } from './scenarios.js';

describe('chaos 3: Redis (AOF on) restarted during load', () => {
  it('the restart falls mid-load; every event is delivered, nothing dead-lettered, duplicates within the jobs in flight at the restart', async () => {
    const events = 600;
    const r = await redisRestart({ events, perSecond: 150, restartAfterMs: 2000, downMs: 1000, settleMs: 40_000 });
    report('redis-restart', r);
    // Under load: moments were published before the stop, and more after the restart.
    expect(r.publishedAtStop).toBeGreaterThan(0);
    expect(r.publishedAtStop).toBeLessThan(events);
    expect(r.publishedAfterStart).toBeGreaterThan(0);
    expect(r.lost).toBe(0);
    expect(r.failedReasons).toEqual([]);
    expect(r.deadLetters).toBe(0);
    expect(r.duplicated).toBeLessThanOrEqual(r.inFlightAtFault);
  }, 90_000);
});
