import { describe, expect, it } from 'vitest';
import { report } from './chaos-rig.js';
import { replicaKill } from './scenarios.js';

// On one redis-server, and on a Redis Cluster (redis.cluster: [seeds], 3 masters + 3 replicas).
describe.each(['redis', 'cluster'] as const)('chaos 5: two replicas, one SIGKILLed mid-run (%s)', (backend) => {
  it('the survivor delivers everything, including the jobs the killed replica held: nothing dead-lettered, duplicates within those jobs', async () => {
    const r = await replicaKill({ events: 600, perSecond: 150, killAfterMs: 2000, settleMs: 40_000, backend });
    report(backend === 'redis' ? 'replica-kill' : 'replica-kill-cluster', r);
    // The killed replica held jobs at the kill (only a dead process's locks expire into a stall).
    expect(r.recoveredFromStall).toBeGreaterThan(0);
    expect(r.failedReasons).toEqual([]);
    expect(r.deadLetters).toBe(0);
    expect(r.lost).toBe(0);
    expect(r.duplicated).toBeLessThanOrEqual(r.inFlightAtFault);
  }, 150_000);
});
