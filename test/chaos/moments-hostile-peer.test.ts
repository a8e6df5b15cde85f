import { describe, expect, it } from 'vitest';
import { report } from './chaos-rig.js';
import { momentsHostilePeer } from './moments-scenarios.js';

describe('chaos (moments): a hostile real-time peer', () => {
  it('absurd keep-alive timeouts, unknown types, frames for unknown subscriptions: no reconnect storm, nothing lost', async () => {
    const r = await momentsHostilePeer({ moments: 200, hostilePerMoment: 10, settleMs: 10_000 });
    report('moments-hostile-peer', r);
    expect(r.lost).toBe(0);
    expect(r.duplicated).toBe(0);
    // One new connection per drop the scenario made itself, none from the hostile frames.
    expect(r.newConnections).toBe(r.drops);
    expect(r.ghostsDelivered).toBe(0);
    expect(r.ready).toBe(200);
  }, 30_000);
});
