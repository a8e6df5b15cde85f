/**
 * Chaos 7: Redis SIGKILLed and restarted (a) with every acknowledged write kept, (a′) without the
 * last second of its AOF, (b) empty. The moments source writes its cursor on a connection that
 * never carries a command over a reconnect and back-fills from the cursor Redis holds after every
 * reconnect, so whatever Redis lost is re-created (docs/reliability.md, chaos 7).
 */
import { describe, expect, it } from 'vitest';
import { report } from './chaos-rig.js';
import { expectNoLossWithinBound } from './expectations.js';
import { redisKill } from './redis-kill-scenario.js';

const load = { events: 600, perSecond: 150, killAfterMs: 2000, downMs: 1000, settleMs: 30_000 };

describe('chaos 7: Redis SIGKILLed during load with a backlog queued, restarted on the same port and data dir', () => {
  it('(a) AOF everysec, process crash (the kernel keeps every write): every event delivered', async () => {
    const r = await redisKill({ persistence: 'aof', ...load });
    report('redis-kill (aof)', r);
    expectNoLossWithinBound(r);
  }, 90_000);

  it('(a′) AOF everysec, the last second of the AOF lost (machine crash): the back-fill re-creates the lost jobs', async () => {
    const r = await redisKill({ persistence: 'aof', loseLastMs: 1000, ...load });
    report('redis-kill (aof, last 1 s lost)', r);
    expect(r.aofBytesDropped).toBeGreaterThan(0);
    expectNoLossWithinBound(r);
  }, 90_000);

  it('(b) no persistence, Redis restarts empty: the back-fill window re-creates every event not delivered', async () => {
    const r = await redisKill({ persistence: 'none', ...load });
    report('redis-kill (no persistence)', r);
    // Cursor and seen set are gone too: the back-fill may re-send what was delivered before the crash.
    expectNoLossWithinBound(r);
  }, 90_000);
});
