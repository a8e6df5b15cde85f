import { describe, expect, it } from 'vitest';
import { report } from './chaos-rig.js';
import { replicaKill } from './scenarios.js';

describe('chaos 5: two replicas, one SIGKILLed mid-run', () => {
  it('the survivor delivers everything; duplicates stay within the jobs in flight at the kill', async () => {
    const r = await replicaKill({ events: 600, perSecond: 150, killAfterMs: 2000, settleMs: 40_000 });
    report('replica-kill', r);
    expect(r.lost).toBe(0);
    expect(r.duplicated).toBeLessThanOrEqual(r.inFlightAtFault);
  }, 90_000);
});
