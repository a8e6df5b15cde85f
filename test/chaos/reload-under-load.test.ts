import { describe, it } from 'vitest';
import { report } from './chaos-rig.js';
import { expectReloadRouted } from './expectations.js';
import { reloadUnderLoad } from './reload-scenario.js';

describe('chaos 8: SIGHUP reload under load (a connector changed, a route and a connector added)', () => {
  it('every event reaches the connectors its routes matched at routing time, once', async () => {
    const r = await reloadUnderLoad({ events: 600, perSecond: 150, reloadAfterMs: 2000, settleMs: 30_000 });
    report('reload-under-load', r);
    expectReloadRouted(r);
  }, 90_000);
});
