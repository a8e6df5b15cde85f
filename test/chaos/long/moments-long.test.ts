import { describe, expect, it } from 'vitest';
import { report } from '../chaos-rig.js';
import { momentsHostilePeer, momentsPoison, momentsTriggerOutage } from '../moments-scenarios.js';

// `npm run chaos:long`: the moments scenarios at a larger scale (minutes, not seconds).
describe('chaos long (moments): poison, triggers, hostile peer', () => {
  for (const schema of ['vendor', 'amplify'] as const) {
    it(`poison objects mixed into a stream (${schema}): 30 rounds`, async () => {
      const r = await momentsPoison({ schema, rounds: 30, validPerRound: 100, settleMs: 120_000 });
      report(`long-moments-poison-${schema}`, r);
      expect(r.lost).toBe(0);
      expect(r.duplicated).toBe(0);
      expect(r.quarantined).toBe(r.poisonSent);
      expect(r.readyAlways200).toBe(true);
    });
  }

  it('trigger changes during a 20 s Redis outage', async () => {
    const r = await momentsTriggerOutage({ created: 200, updated: 300, downMs: 20_000, settleMs: 120_000 });
    report('long-moments-trigger-outage', r);
    expect(r.lost).toBe(0);
    expect(r.duplicated).toBe(0);
  });

  it('a hostile real-time peer over 5,000 moments and 100,000 hostile frames', async () => {
    const r = await momentsHostilePeer({ moments: 5000, hostilePerMoment: 20, settleMs: 120_000 });
    report('long-moments-hostile-peer', r);
    expect(r.lost).toBe(0);
    expect(r.duplicated).toBe(0);
    expect(r.newConnections).toBe(r.drops);
  });
});
