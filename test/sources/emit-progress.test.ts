import { describe, expect, it } from 'vitest';
import type { BridgeEvent } from '../../src/core/event.js';
import { EmitProgress } from '../../src/sources/emit-progress.js';
import { stallReason } from '../../src/sources/stall-check.js';

const ev = (n: number): BridgeEvent => ({ id: `s:moment:${n}`, source: 's', kind: 'moment', time: '2026-01-01T00:00:00.000Z', data: {} });

describe('EmitProgress: a source without progress() is tracked through its emit calls', () => {
  it('a refused batch stays pending (from its first refusal) until a later call succeeds', async () => {
    let now = 1_000_000;
    const tracker = new EmitProgress(() => now);
    let fail = true;
    const emitBatch = tracker.wrap(async (_events: BridgeEvent[]) => {
      if (fail) throw new Error('Redis down');
    });
    await expect(emitBatch([ev(1), ev(2), ev(3)])).rejects.toThrow();
    now += 95_000;
    await expect(emitBatch([ev(1), ev(2), ev(3)])).rejects.toThrow();
    expect(tracker.progress()).toEqual({ pending: 3, oldestPendingSince: 1_000_000 });
    expect(stallReason('moments', tracker.progress(), now, 60_000)).toBe('source moments: no progress for 95 s with 3 items waiting');
    fail = false;
    await emitBatch([ev(1), ev(2), ev(3)]);
    expect(tracker.progress()).toEqual({ pending: 0, lastProgressAt: now });
    expect(stallReason('moments', tracker.progress(), now + 600_000, 60_000)).toBeUndefined();
  });
});
