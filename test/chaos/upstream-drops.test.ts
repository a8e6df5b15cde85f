import { describe, expect, it } from 'vitest';
import { report } from './chaos-rig.js';
import { upstreamDrops } from './scenarios.js';

describe('chaos 2: upstream socket dropped every second, plus one outage', () => {
  it('back-fill closes every gap: all events delivered, none twice', async () => {
    const r = await upstreamDrops({ events: 600, perSecond: 150, dropEveryMs: 1000, outageMs: 2000, settleMs: 30_000 });
    report('upstream-drops', r);
    expect(r.drops).toBeGreaterThanOrEqual(3);
    expect(r.realtimeConnections).toBeGreaterThanOrEqual(2);
    expect(r.lost).toBe(0);
    expect(r.duplicated).toBe(0);
  }, 90_000);
});
