import { describe, expect, it, vi } from 'vitest';
import type { BridgeEvent } from '../../../src/core/event.js';
import { TriggerOutbox, type PendingChange } from '../../../src/sources/moments/trigger-outbox.js';

const change = (i: number): PendingChange => ({
  event: {
    id: `moments:trigger.created:t${i}`,
    source: 'moments',
    kind: 'trigger.created',
    time: `2026-01-01T00:00:${String(i % 60).padStart(2, '0')}.000Z`,
    data: {},
  },
  updatedAt: `2026-01-01T00:00:${String(i % 60).padStart(2, '0')}.000Z`,
  since: Date.now(),
});

describe('TriggerOutbox', () => {
  it('holds at most maxPending changes, retries with growing delays until the pipeline takes them, in order, then asks for a back-fill of what it dropped', async () => {
    let down = true;
    const attempts: number[] = [];
    const delivered: string[] = [];
    const drained = vi.fn();
    const outbox = new TriggerOutbox({
      emit: async (events: BridgeEvent[]) => {
        attempts.push(Date.now());
        if (down) throw new Error('redis down');
        delivered.push(...events.map((e) => e.id));
      },
      accepted: () => undefined,
      failed: () => undefined,
      drainedAfterOverflow: drained,
      maxPending: 5,
      initialDelayMs: 20,
      maxDelayMs: 80,
      random: () => 1,
    });
    for (let i = 0; i < 8; i++) outbox.hold(change(i), i === 0 ? new Error('refused') : undefined);
    expect(outbox.size).toBe(5);
    expect(outbox.dropped).toBe(true);
    expect(outbox.oldestUpdatedAt()).toBe(change(0).updatedAt);
    await vi.waitFor(() => expect(attempts.length).toBeGreaterThanOrEqual(4), { timeout: 2000 });
    expect(outbox.failure()).toMatchObject({ lastError: 'redis down' });
    // Backoff: 20, 40, 80, 80 … ms (random pinned to 1), never a busy loop.
    const gaps = attempts.slice(1).map((t, i) => t - attempts[i]!);
    expect(gaps.every((g) => g >= 15)).toBe(true);
    down = false;
    await vi.waitFor(() => expect(delivered).toEqual([0, 1, 2, 3, 4].map((i) => change(i).event.id)), { timeout: 2000 });
    expect(outbox.size).toBe(0);
    expect(outbox.failure()).toBeUndefined();
    expect(drained).toHaveBeenCalledTimes(1);
    outbox.stop();
  });
});
