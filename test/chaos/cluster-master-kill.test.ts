import { describe, expect, it } from 'vitest';
import { report } from './chaos-rig.js';
import { clusterMasterKill } from './scenarios.js';

// `hook`'s queue shares a master with the source's slot (both go down together); `out`'s is on
// another master, so the source's cursor survives the kill of the queue's master.
describe.each([
  { connector: 'hook', sourceOnVictim: true },
  { connector: 'out', sourceOnVictim: false },
] as const)(
  'chaos 13: Redis Cluster, the master holding the queue ($connector) SIGKILLed mid-stream, its replica promoted',
  ({ connector, sourceOnVictim }) => {
    it('every event is delivered after the fail-over: nothing lost, nothing dead-lettered, duplicates within the jobs in flight', async () => {
      const r = await clusterMasterKill({ events: 600, perSecond: 150, killAfterMs: 1500, settleMs: 40_000, connector });
      report(`cluster-master-kill-${connector}`, r);
      expect(r.victimHeldSource).toBe(sourceOnVictim);
      expect(r.deliveredAtKill).toBeGreaterThan(0);
      // The kill fell mid-stream: events were still being published and delivered after it.
      expect(r.deliveredAtKill).toBeLessThan(600);
      expect(r.failedReasons).toEqual([]);
      expect(r.deadLetters).toBe(0);
      expect(r.lost).toBe(0);
      expect(r.duplicated).toBeLessThanOrEqual(r.inFlightAtFault);
    }, 150_000);
  },
);
