/**
 * Chaos 7. (a) runs in `npm test`. (a′) and (b) are known gaps and run only with
 * CHAOS_KNOWN_GAPS=1: nothing tells the moments source that Redis came back without its last
 * writes, so the jobs Redis lost are re-created only if a hand-over happened to fail while Redis
 * was down (a back-fill then reads the old cursor); otherwise they are lost (docs/reliability.md,
 * "Known gaps"). Drop the `runIf` once the source back-fills after every Redis reconnect.
 */
import { describe, expect, it } from 'vitest';
import { report } from './chaos-rig.js';
import { expectNoLossWithinBound } from './expectations.js';
import { KNOWN_GAPS, redisKill } from './redis-kill-scenario.js';

const load = { events: 600, perSecond: 150, killAfterMs: 2000, downMs: 1000, settleMs: 30_000 };

describe('chaos 7: Redis SIGKILLed during load with a backlog queued, restarted on the same port and data dir', () => {
  it('(a) AOF everysec, process crash (the kernel keeps every write): every event delivered', async () => {
    const r = await redisKill({ persistence: 'aof', ...load });
    report('redis-kill (aof)', r);
    expectNoLossWithinBound(r);
  }, 90_000);

  it.runIf(KNOWN_GAPS)('(a′) AOF everysec, the last second of the AOF lost (machine crash): the back-fill re-creates the lost jobs — KNOWN GAP', async () => {
    const r = await redisKill({ persistence: 'aof', loseLastMs: 1000, ...load });
    report('redis-kill (aof, last 1 s lost)', r);
    expect(r.aofBytesDropped).toBeGreaterThan(0);
    expectNoLossWithinBound(r);
  }, 90_000);

  it.runIf(KNOWN_GAPS)('(b) no persistence, Redis restarts empty: the back-fill window re-creates every event not delivered — KNOWN GAP', async () => {
    const r = await redisKill({ persistence: 'none', ...load });
    report('redis-kill (no persistence)', r);
    // Cursor and seen set are gone too: the back-fill may re-send what was delivered before the crash.
    expectNoLossWithinBound(r);
  }, 90_000);
});
