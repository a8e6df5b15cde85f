import { describe, expect, it } from 'vitest';
import { report } from './chaos-rig.js';
import { daemonKill } from './scenarios.js';

describe('chaos 1: daemon SIGKILL during load, restarted', () => {
  it('delivers every event; duplicates stay within the jobs in flight at the kill', async () => {
    const r = await daemonKill({ events: 600, perSecond: 150, killAfterMs: 2000, settleMs: 40_000 });
    report('daemon-kill', r);
    expect(r.deliveredAtKill).toBeGreaterThan(0);
    expect(r.lost).toBe(0);
    expect(r.duplicated).toBeLessThanOrEqual(Math.max(r.inFlightAtFault, r.openRequestsAtKill as number));
  }, 90_000);
});
