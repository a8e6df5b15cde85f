import { describe, expect, it } from 'vitest';
import { report } from './chaos-rig.js';
import { observerChaos } from './observer-scenarios.js';

describe.each([{ client: 'built-in' as const }, { client: 'sdk' as const }])(
  'chaos: Observer source ($client client) under socket drops and a service restart',
  ({ client }) => {
    it('every row the simulator produced for the followed frames reaches the sink once', async () => {
      const r = await observerChaos({ client, calls: 3, loadMs: 5000, tickMs: 50, dropEveryMs: 1200, restartDownMs: 1000, settleMs: 20_000 });
      report(`observer-${client}`, r);
      expect(r.drops).toBeGreaterThanOrEqual(3);
      expect(r.restarts).toBe(1);
      expect(r.callsEnded).toBeGreaterThanOrEqual(2);
      expect(r.reconnects).toBeGreaterThanOrEqual(r.drops);
      expect(r.lost).toBe(0);
      // Rows are marked seen in Redis once taken, and deliveries are deduplicated by id: no fault
      // here (no daemon kill, Redis up) can make one row two deliveries.
      expect(r.duplicated).toBe(0);
      expect(r.quarantined).toBe(0);
    }, 90_000);
  },
);
