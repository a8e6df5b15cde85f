import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { delivered, permanent, type Delivery, type DeliveryResult } from '../../connectors/connector.js';
import { Batcher } from '../../src/queue/batcher.js';

const delivery = (n: number): Delivery => ({
  id: `d${n}`,
  event: { id: `s:moment:${n}`, source: 's', kind: 'moment', time: '2026-01-01T00:00:00.000Z', data: { n } },
  route: 'r',
  connector: 'c',
  payload: { n },
  attempt: 1,
});

/** A deliverBatch that records its calls and answers with `answer` (default: each delivered). */
function recorder(answer?: (batch: Delivery[], signal: AbortSignal) => Promise<DeliveryResult[]>) {
  const calls: { ids: string[]; signal: AbortSignal }[] = [];
  const send = (batch: Delivery[], signal: AbortSignal): Promise<DeliveryResult[]> => {
    calls.push({ ids: batch.map((d) => d.id), signal });
    return answer ? answer(batch, signal) : Promise.resolve(batch.map((d) => delivered({ id: d.id })));
  };
  return { calls, send };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Batcher', () => {
  it('sends a full batch at once, without waiting for the window, and each caller gets its own result', async () => {
    const { calls, send } = recorder();
    const b = new Batcher(send, { maxSize: 3, windowMs: 1000, timeoutMs: 5000 });
    const results = Promise.all([1, 2, 3].map((n) => b.deliver(delivery(n))));
    expect(calls.map((c) => c.ids)).toEqual([['d1', 'd2', 'd3']]);
    expect(await results).toEqual([delivered({ id: 'd1' }), delivered({ id: 'd2' }), delivered({ id: 'd3' })]);
  });

  it('sends a partial batch windowMs after its first delivery, not before, and starts a new window after', async () => {
    const { calls, send } = recorder();
    const b = new Batcher(send, { maxSize: 10, windowMs: 200, timeoutMs: 5000 });
    const first = b.deliver(delivery(1));
    await vi.advanceTimersByTimeAsync(150);
    const second = b.deliver(delivery(2)); // joins the open window: does not restart it
    await vi.advanceTimersByTimeAsync(49);
    expect(calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls.map((c) => c.ids)).toEqual([['d1', 'd2']]);
    expect(await first).toEqual(delivered({ id: 'd1' }));
    expect(await second).toEqual(delivered({ id: 'd2' }));

    const third = b.deliver(delivery(3));
    await vi.advanceTimersByTimeAsync(199);
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls.map((c) => c.ids)).toEqual([['d1', 'd2'], ['d3']]);
    expect(await third).toEqual(delivered({ id: 'd3' }));
  });

  it('a full batch cancels its window: the next delivery gets a whole window of its own', async () => {
    const { calls, send } = recorder();
    const b = new Batcher(send, { maxSize: 2, windowMs: 100, timeoutMs: 5000 });
    const results = Promise.all([b.deliver(delivery(1)), b.deliver(delivery(2))]);
    expect((await results).map((r) => r.status)).toEqual(['delivered', 'delivered']);
    await vi.advanceTimersByTimeAsync(50);
    const third = b.deliver(delivery(3));
    await vi.advanceTimersByTimeAsync(99); // past the first window's end (100), not its own (150)
    expect(calls.map((c) => c.ids)).toEqual([['d1', 'd2']]);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls.map((c) => c.ids)).toEqual([['d1', 'd2'], ['d3']]);
    expect((await third).status).toBe('delivered');
  });

  it('leaves no timer behind once its batches are answered (nothing keeps a stopping process alive)', async () => {
    const { send } = recorder();
    const b = new Batcher(send, { maxSize: 2, windowMs: 100, timeoutMs: 60_000 });
    await Promise.all([b.deliver(delivery(1)), b.deliver(delivery(2))]);
    expect(vi.getTimerCount()).toBe(0);
    const partial = b.deliver(delivery(3));
    await vi.advanceTimersByTimeAsync(100);
    await partial;
    expect(vi.getTimerCount()).toBe(0);
  });

  it('keeps permanent and retry answers per delivery, in order', async () => {
    const { send } = recorder(async (batch) => batch.map((d) => (d.id === 'd2' ? permanent('bad row') : delivered())));
    const b = new Batcher(send, { maxSize: 3, windowMs: 100, timeoutMs: 5000 });
    const results = await Promise.all([1, 2, 3].map((n) => b.deliver(delivery(n))));
    expect(results.map((r) => r.status)).toEqual(['delivered', 'permanent', 'delivered']);
  });

  it('a connector that answers the wrong number of results gets every delivery retried, naming the bug', async () => {
    const { send } = recorder(async () => [delivered()]);
    const b = new Batcher(send, { maxSize: 2, windowMs: 100, timeoutMs: 5000 });
    const results = await Promise.all([b.deliver(delivery(1)), b.deliver(delivery(2))]);
    expect(results).toEqual([
      { status: 'retry', reason: 'deliverBatch returned 1 results for 2 deliveries (connector bug)' },
      { status: 'retry', reason: 'deliverBatch returned 1 results for 2 deliveries (connector bug)' },
    ]);
  });

  it('a throwing deliverBatch makes every delivery of the batch retryable, with the error', async () => {
    const { send } = recorder(async () => {
      throw new Error('socket hang up');
    });
    const b = new Batcher(send, { maxSize: 2, windowMs: 100, timeoutMs: 5000 });
    const results = await Promise.all([b.deliver(delivery(1)), b.deliver(delivery(2))]);
    expect(results).toEqual([
      { status: 'retry', reason: 'deliverBatch threw: socket hang up' },
      { status: 'retry', reason: 'deliverBatch threw: socket hang up' },
    ]);
  });

  /** A deliverBatch that only ends when its signal aborts. */
  const hanging = recorder(
    (_batch, signal) => new Promise<DeliveryResult[]>((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true })),
  );

  it('aborts a batch call that outlives timeoutMs and retries its deliveries', async () => {
    const b = new Batcher(hanging.send, { maxSize: 1, windowMs: 100, timeoutMs: 300 });
    const result = b.deliver(delivery(1));
    await vi.advanceTimersByTimeAsync(299);
    expect(hanging.calls.at(-1)!.signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await result).toEqual({ status: 'retry', reason: 'batch timed out after 300 ms' });
  });

  it('abortAll ends every batch in flight with the given reason; a finished batch is no longer in flight', async () => {
    const b = new Batcher(hanging.send, { maxSize: 1, windowMs: 100, timeoutMs: 60_000 });
    const results = Promise.all([b.deliver(delivery(1)), b.deliver(delivery(2))]);
    const signals = hanging.calls.slice(-2).map((c) => c.signal);
    b.abortAll(new Error('shutting down'));
    expect(signals.map((s) => s.aborted)).toEqual([true, true]);
    expect(await results).toEqual([
      { status: 'retry', reason: 'shutting down' },
      { status: 'retry', reason: 'shutting down' },
    ]);
    const { calls, send } = recorder();
    const done = new Batcher(send, { maxSize: 1, windowMs: 100, timeoutMs: 60_000 });
    await done.deliver(delivery(3));
    done.abortAll(new Error('late'));
    expect(calls[0]!.signal.aborted).toBe(false);
  });
});
