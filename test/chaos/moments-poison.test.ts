import { describe, expect, it } from 'vitest';
import { report } from './chaos-rig.js';
import { momentsPoison } from './moments-scenarios.js';

describe('chaos (moments): poison objects mixed into a stream', () => {
  for (const schema of ['vendor', 'amplify'] as const) {
    it(`each poison object is quarantined alone, every valid moment is delivered once, the cursor moves, /readyz stays 200 (${schema})`, async () => {
      const r = await momentsPoison({ schema, rounds: 3, validPerRound: 20, settleMs: 10_000 });
      report(`moments-poison-${schema}`, r);
      expect(r.lost).toBe(0);
      expect(r.duplicated).toBe(0);
      expect(r.quarantined).toBe(r.poisonSent);
      expect(r.cursorAtLast).toBe(true);
      expect(r.readyAlways200).toBe(true);
      // Only the invalid-UTF-8 frame may cost a reconnect.
      expect(r.extraConnections).toBeLessThanOrEqual(1);
    }, 30_000);
  }
});
