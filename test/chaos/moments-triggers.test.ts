import { describe, expect, it } from 'vitest';
import { report } from './chaos-rig.js';
import { momentsTriggerOutage } from './moments-scenarios.js';

describe('chaos (moments): trigger changes during a Redis outage, upstream otherwise idle', () => {
  it('every trigger.created / trigger.updated reaches the sink once Redis is back, none twice', async () => {
    const r = await momentsTriggerOutage({ created: 10, updated: 10, downMs: 2000, settleMs: 10_000 });
    report('moments-trigger-outage', r);
    expect(r.expected).toBe(20);
    expect(r.lost).toBe(0);
    expect(r.duplicated).toBe(0);
    // They were held (not dropped) while Redis was down.
    expect(r.inFlightAtFault).toBe(20);
  }, 30_000);
});
