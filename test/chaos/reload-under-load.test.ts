import { describe, expect, it } from 'vitest';
import { report } from './chaos-rig.js';
import { reloadUnderLoad } from './reload-scenario.js';

describe('chaos 8: SIGHUP reload under load (a connector changed, a route and a connector added)', () => {
  it('every event reaches the connectors its routes matched at routing time, once', async () => {
    const r = await reloadUnderLoad({ events: 600, perSecond: 150, reloadAfterMs: 2000, settleMs: 30_000 });
    report('reload-under-load', r);
    expect(r.lost).toBe(0);
    expect(r.duplicated).toBe(0);
    // The new route took over mid-stream, no later than the reload was applied, and lost nothing from there on.
    expect(r.firstCopied).toBeGreaterThan(0);
    expect(r.firstCopied).toBeLessThanOrEqual(r.publishedAtApplied as number);
    const copy = r.copy as { lost: number; duplicated: number };
    expect(copy.lost).toBe(0);
    expect(copy.duplicated).toBe(0);
    // Both the old and the changed settings of the first connector delivered.
    expect(r.viaOldSettings).toBeGreaterThan(0);
    expect(r.viaNewSettings).toBeGreaterThan(0);
  }, 90_000);
});
