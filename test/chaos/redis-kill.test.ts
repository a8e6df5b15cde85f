import { describe, expect, it } from 'vitest';
import { report } from './chaos-rig.js';
import { redisKill } from './redis-kill-scenario.js';

describe('chaos 7: Redis SIGKILLed during load, restarted on the same port and data dir', () => {
  it('(a) AOF everysec, the last second of the AOF lost: every event delivered; duplicates only from the lost second', async () => {
    const r = await redisKill({ persistence: 'aof', events: 600, perSecond: 150, killAfterMs: 2000, downMs: 1000, loseLastMs: 1000, settleMs: 40_000 });
    report('redis-kill (aof, last 1 s lost)', r);
    expect(r.aofBytesDropped).toBeGreaterThan(0);
    expect(r.lost).toBe(0);
    expect(r.duplicated).toBeLessThanOrEqual(r.duplicateBound as number);
    expect(r.deadLetters).toBe(0);
  }, 90_000);

  it('(b) no persistence, Redis restarts empty: the back-fill window re-creates every event not delivered', async () => {
    const r = await redisKill({ persistence: 'none', events: 600, perSecond: 150, killAfterMs: 2000, downMs: 1000, settleMs: 40_000 });
    report('redis-kill (no persistence)', r);
    expect(r.lost).toBe(0);
    // The cursor and the seen set are gone: the back-fill re-sends what was delivered before the crash.
    expect(r.duplicated).toBeLessThanOrEqual(r.duplicateBound as number);
    expect(r.deadLetters).toBe(0);
  }, 90_000);
});
