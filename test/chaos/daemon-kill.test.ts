import { describe, expect, it } from 'vitest';
import { report } from './chaos-rig.js';
import { daemonKill } from './scenarios.js';

// On one redis-server, and on a Redis Cluster (redis.cluster: [seeds], 3 masters + 3 replicas).
describe.each(['redis', 'cluster'] as const)('chaos 1: daemon SIGKILL during load, restarted (%s)', (backend) => {
  it('the jobs the killed daemon held come back and are delivered: nothing lost, nothing dead-lettered, duplicates within them', async () => {
    const r = await daemonKill({ events: 600, perSecond: 150, killAfterMs: 2000, settleMs: 40_000, backend });
    report(backend === 'redis' ? 'daemon-kill' : 'daemon-kill-cluster', r);
    expect(r.deliveredAtKill).toBeGreaterThan(0);
    // The kill interrupted work: the dead daemon held jobs, and each came back through stall recovery.
    expect(r.inFlightAtFault).toBeGreaterThan(0);
    expect(r.recoveredFromStall).toBe(r.inFlightAtFault);
    // Retried, not dead-lettered (a dead letter whose request had reached the sink would not show as lost).
    expect(r.failedReasons).toEqual([]);
    expect(r.deadLetters).toBe(0);
    expect(r.lost).toBe(0);
    expect(r.duplicated).toBeLessThanOrEqual(r.recoveredFromStall);
  }, 150_000);
});
