import { describe, expect, it } from 'vitest';
import type { Connector } from '../../connectors/connector.js';
import { decideRetry, fullJitterBackoff } from '../../src/queue/backoff.js';
import { deliveryId } from '../../src/queue/delivery-id.js';
import { connectorOfQueue, queueName } from '../../src/queue/queue-names.js';
import { resolveDeliveryOptions } from '../../src/queue/queue-options.js';

describe('deliveryId', () => {
  it('is stable 32-hex and differs when any part differs, including separator shifts', () => {
    const id = deliveryId('moments:moment:1', 'r1', 'slack');
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(deliveryId('moments:moment:1', 'r1', 'slack')).toBe(id);
    const others = [deliveryId('moments:moment:2', 'r1', 'slack'), deliveryId('moments:moment:1', 'r2', 'slack'), deliveryId('moments:moment:1', 'r1', 'pd'), deliveryId('a:b', 'c', 'd'), deliveryId('a', 'b:c', 'd')];
    expect(new Set([id, ...others]).size).toBe(6);
  });
});

describe('queueName', () => {
  it.each([
    ['ops-slack', false, 'delivery.ops-slack'],
    ['ops-slack', true, '{delivery.ops-slack}'],
    ['a:b{c}', false, 'delivery.a%3Ab%7Bc%7D'],
  ])('%s (cluster %s) → %s and back', (connector, cluster, expected) => {
    const name = queueName(connector, { cluster });
    expect(name).toBe(expected);
    expect(name).not.toContain(':');
    expect(connectorOfQueue(name)).toBe(connector);
  });
  it('is undefined for queues that are not delivery queues', () => {
    expect(connectorOfQueue('other')).toBeUndefined();
  });
});

describe('backoff', () => {
  it.each([
    [1, 0.5, 500],
    [2, 0.5, 1000],
    [3, 0.999, 3996],
    [10, 0.5, 5000],
    [10, 0, 0],
  ])('attempt %i with random %f → %i ms (base 1 s, cap 10 s)', (attempt, r, expected) => {
    expect(fullJitterBackoff(attempt, 1000, 10_000, () => r)).toBe(expected);
  });

  const policy = { maxAttempts: 3, backoffMs: 1000, maxBackoffMs: 60_000, maxAgeMs: 10_000 };
  it('retries below maxAttempts within maxAge, gives up otherwise', () => {
    expect(decideRetry(policy, 1, 0, 0, () => 0.5)).toEqual({ retry: true, delayMs: 500 });
    expect(decideRetry(policy, 3, 0, 0, () => 0.5)).toMatchObject({ retry: false, reason: expect.stringMatching(/maxAttempts 3/) });
    expect(decideRetry(policy, 2, 0, 9_500, () => 0.5)).toMatchObject({ retry: false, reason: expect.stringMatching(/maxAge/) });
  });
});

describe('resolveDeliveryOptions', () => {
  const plain: Pick<Connector, 'defaults' | 'deliverBatch'> = {};
  it('applies bridge defaults', () => {
    expect(resolveDeliveryOptions(plain)).toEqual({
      concurrency: 10,
      retry: { maxAttempts: 8, backoffMs: 1000, maxBackoffMs: 300_000, maxAgeMs: 86_400_000 },
      timeoutMs: 30_000,
    });
  });
  it('layers defaults < connector defaults < user config, field by field', () => {
    const slackLike = { defaults: { concurrency: 1, rateLimit: { max: 1, duration: '1s' }, retry: { maxAttempts: 5, backoff: '2s' } } };
    const r = resolveDeliveryOptions(slackLike, { retry: { backoff: '500ms' }, timeout: '10s' });
    expect(r.concurrency).toBe(1);
    expect(r.rateLimit).toEqual({ max: 1, durationMs: 1000 });
    expect(r.retry).toEqual({ maxAttempts: 5, backoffMs: 500, maxBackoffMs: 300_000, maxAgeMs: 86_400_000 });
    expect(r.timeoutMs).toBe(10_000);
    expect(r.batch).toBeUndefined();
  });
  it('enables batching only for connectors with deliverBatch', () => {
    const batcher = { deliverBatch: async () => [], defaults: { batch: { maxSize: 500 } } };
    expect(resolveDeliveryOptions(batcher, { batch: { window: '1s' } }).batch).toEqual({ maxSize: 500, windowMs: 1000 });
  });
  it('rejects bad user values', () => {
    expect(() => resolveDeliveryOptions(plain, { concurrency: 0 })).toThrow();
    expect(() => resolveDeliveryOptions(plain, { timeout: 'soon' })).toThrow();
  });
});
