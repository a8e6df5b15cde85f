import { createHash } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { delivered, permanent, retryable, type Connector } from '../../connectors/connector.js';
import { decideRetry, fullJitterBackoff } from '../../src/queue/backoff.js';
import { boundedResult, MAX_REASON_CHARS } from '../../src/queue/bounded-reason.js';
import { deliveryId } from '../../src/queue/delivery-id.js';
import { connectorOfQueue, queueName } from '../../src/queue/queue-names.js';
import { resolveDeliveryOptions } from '../../src/queue/queue-options.js';
import { clearSecrets, registerSecret } from '../../src/core/secret-redaction.js';

describe('deliveryId', () => {
  it('is stable 32-hex and differs when any part differs, including separator shifts', () => {
    const id = deliveryId('moments:moment:1', 'r1', 'slack');
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(deliveryId('moments:moment:1', 'r1', 'slack')).toBe(id);
    const others = [
      deliveryId('moments:moment:2', 'r1', 'slack'),
      deliveryId('moments:moment:1', 'r2', 'slack'),
      deliveryId('moments:moment:1', 'r1', 'pd'),
      deliveryId('a:b', 'c', 'd'),
      deliveryId('a', 'b:c', 'd'),
    ];
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

  it.each([
    [0, 0.5, 500], // attempt 0 (never happens, but must not shrink the base)
    [4, 0.5, 4000],
    [5, 0.5, 5000], // 8 s, under the 10 s cap
    [6, 0.5, 5000], // 16 s, capped at 10 s
    [2, 0.9999, 1999], // floor, not round
  ])('attempt %i with random %f → %i ms (exponent and cap edges)', (attempt, r, expected) => {
    expect(fullJitterBackoff(attempt, 1000, 10_000, () => r)).toBe(expected);
  });

  it('draws its jitter from Math.random by default', () => {
    const delays = Array.from({ length: 50 }, () => fullJitterBackoff(3, 1000, 10_000));
    for (const d of delays) expect(d).toBeGreaterThanOrEqual(0);
    for (const d of delays) expect(d).toBeLessThan(4000);
    expect(new Set(delays).size).toBeGreaterThan(1);
  });

  it.each([
    ['one attempt left', 2, 0, 0, { retry: true, delayMs: 1000 }],
    ['the last attempt', 3, 0, 0, { retry: false, reason: 'gave up after 3 attempt(s) (retry.maxAttempts 3)' }],
    ['past the last attempt', 4, 0, 0, { retry: false, reason: 'gave up after 4 attempt(s) (retry.maxAttempts 3)' }],
    ['exactly maxAge old when retried', 1, 0, 9_500, { retry: true, delayMs: 500 }],
    [
      'one ms past maxAge when retried',
      1,
      0,
      9_501,
      { retry: false, reason: 'gave up after 1 attempt(s): the delivery would be older than retry.maxAge (10000 ms)' },
    ],
    ['age counted from createdAt', 1, 5_000, 14_500, { retry: true, delayMs: 500 }],
  ] as const)('%s → %j', (_name, attempt, createdAt, now, expected) => {
    expect(decideRetry(policy, attempt, createdAt, now, () => 0.5)).toEqual(expected);
  });
});

describe('deliveryId: the exact hash', () => {
  it('is 32 hex characters of sha256(event, route, connector) with NUL separators', () => {
    const id = deliveryId('moments:moment:1', 'r1', 'sink');
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(id).toBe(createHash('sha256').update('moments:moment:1\u0000r1\u0000sink').digest('hex').slice(0, 32));
  });

  it.each([
    [
      ['a:b', 'c', 'd'],
      ['a', 'b:c', 'd'],
    ],
    [
      ['e', 'r1', 'sink'],
      ['e', 'r2', 'sink'],
    ],
    [
      ['e', 'r', 'sink-a'],
      ['e', 'r', 'sink-b'],
    ],
    [
      ['e1', 'r', 's'],
      ['e2', 'r', 's'],
    ],
  ] as [string, string, string][][])('%j and %j differ', (a, b) => {
    expect(deliveryId(...a)).not.toBe(deliveryId(...b));
  });
});

describe('bounded failure reasons', () => {
  beforeEach(() => clearSecrets());

  it('passes a delivered result through untouched', () => {
    const ok = delivered({ status: 200 });
    expect(boundedResult(ok)).toBe(ok);
  });

  it('keeps the same object when nothing changes', () => {
    const r = retryable('HTTP 503', 1000);
    expect(boundedResult(r)).toBe(r);
    const exact = permanent('x'.repeat(MAX_REASON_CHARS));
    expect(boundedResult(exact)).toBe(exact);
  });

  it('cuts a long reason to MAX_REASON_CHARS and says how much it dropped', () => {
    const long = permanent(`${'x'.repeat(MAX_REASON_CHARS)}12345`, { body: 'kept' });
    expect(boundedResult(long)).toEqual({ status: 'permanent', reason: `${'x'.repeat(MAX_REASON_CHARS)}… (5 more characters)`, detail: { body: 'kept' } });
  });

  it('redacts known secrets before the cut, keeping retryAfterMs', () => {
    registerSecret('tok-123456');
    expect(boundedResult(retryable('HTTP 429 for tok-123456', 2000))).toEqual({ status: 'retry', reason: 'HTTP 429 for <secret>', retryAfterMs: 2000 });
    const straddling = permanent(`${'x'.repeat(MAX_REASON_CHARS - 3)}tok-123456`);
    expect(boundedResult(straddling)).toEqual({ status: 'permanent', reason: `${'x'.repeat(MAX_REASON_CHARS - 3)}<se… (5 more characters)` });
  });
});

describe('resolveDeliveryOptions', () => {
  const plain: Pick<Connector, 'defaults' | 'deliverBatch'> = {};
  it('applies bridge defaults', () => {
    expect(resolveDeliveryOptions(plain)).toEqual({
      concurrency: 10,
      partitions: 1,
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
  it('keeps each connector default the user config does not set', () => {
    const r = resolveDeliveryOptions({ defaults: { concurrency: 3, timeout: '5s', rateLimit: { max: 2, duration: '1s' } } }, { retry: { maxAttempts: 2 } });
    expect(r).toEqual({
      concurrency: 3,
      partitions: 1,
      timeoutMs: 5000,
      rateLimit: { max: 2, durationMs: 1000 },
      retry: { maxAttempts: 2, backoffMs: 1000, maxBackoffMs: 300_000, maxAgeMs: 86_400_000 },
    });
    expect(resolveDeliveryOptions({ defaults: { rateLimit: { max: 2, duration: '1s' } } }, { rateLimit: { max: 9, duration: '2s' } }).rateLimit).toEqual({
      max: 9,
      durationMs: 2000,
    });
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
