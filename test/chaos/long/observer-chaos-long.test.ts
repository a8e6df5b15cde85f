/**
 * The long Observer chaos runs (`npm run chaos:long -- test/chaos/long/observer-chaos-long.test.ts`,
 * about 3 minutes): 60 s of load over 5 calls, every socket dropped every 5 s, the service down
 * 10 s once, with the built-in client and the stand-in SDK.
 */
import { describe, expect, it } from 'vitest';
import { report } from '../chaos-rig.js';
import { observerChaos } from '../observer-scenarios.js';

describe.each([{ client: 'built-in' as const }, { client: 'sdk' as const }])('chaos (long): Observer source ($client client)', ({ client }) => {
  it('60 s of load, sockets dropped every 5 s, the service restarted after 10 s down: no row lost', async () => {
    const r = await observerChaos({ client, calls: 5, loadMs: 60_000, tickMs: 50, dropEveryMs: 5000, restartDownMs: 10_000, settleMs: 120_000 });
    report(`observer-${client} (long)`, r);
    expect(r.drops).toBeGreaterThanOrEqual(8);
    expect(r.restarts).toBe(1);
    expect(r.lost).toBe(0);
    expect(r.duplicated).toBe(0);
    expect(r.quarantined).toBe(0);
  }, 300_000);
});
