import { describe, expect, it } from 'vitest';
import { report } from './chaos-rig.js';
import { clusterMasterKill } from './scenarios.js';

describe('chaos 13: Redis Cluster, the master holding the queue SIGKILLed mid-stream, its replica promoted', () => {
  it('every event is delivered after the fail-over: nothing lost, nothing dead-lettered, duplicates within the jobs in flight', async () => {
    const r = await clusterMasterKill({ events: 600, perSecond: 150, killAfterMs: 1500, settleMs: 40_000 });
    report('cluster-master-kill', r);
    expect(r.deliveredAtKill).toBeGreaterThan(0);
    // The kill fell mid-stream: events were still being published and delivered after it.
    expect(r.deliveredAtKill).toBeLessThan(600);
    expect(r.failedReasons).toEqual([]);
    expect(r.deadLetters).toBe(0);
    expect(r.lost).toBe(0);
    expect(r.duplicated).toBeLessThanOrEqual(r.inFlightAtFault);
  }, 150_000);
});
