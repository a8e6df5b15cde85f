import { describe, expect, it } from 'vitest';
import { report } from './chaos-rig.js';
import { sinkFaults } from './scenarios.js';

describe('chaos 4: sink answering 500 for a while, then 429 + Retry-After to every second call', () => {
  it('delivers every event once, nothing dead-lettered', async () => {
    const r = await sinkFaults({ events: 400, perSecond: 100, failMs: 3000, settleMs: 30_000 });
    report('sink-faults', r);
    expect(r.answered500).toBeGreaterThan(0);
    expect(r.answered429).toBeGreaterThan(0);
    expect(r.lostAfterOutage).toBe(0);
    expect(r.lost).toBe(0);
    expect(r.duplicated).toBe(0);
    expect(r.deadLetters).toBe(0);
  }, 90_000);
});
