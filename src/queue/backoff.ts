import { fullJitterBackoff } from '../core/full-jitter.js';

export { fullJitterBackoff };

export type RetryDecision = { retry: true; delayMs: number } | { retry: false; reason: string };

export interface RetryPolicy {
  maxAttempts: number;
  backoffMs: number;
  maxBackoffMs: number;
  maxAgeMs: number;
}

/**
 * What to do after failed attempt number `attempt` (1-based) of a delivery first enqueued at
 * `createdAt`: retry after a delay, or give up (dead-letter) because attempts or age ran out.
 */
export function decideRetry(policy: RetryPolicy, attempt: number, createdAt: number, now: number, random?: () => number): RetryDecision {
  if (attempt >= policy.maxAttempts) return { retry: false, reason: `gave up after ${attempt} attempt(s) (retry.maxAttempts ${policy.maxAttempts})` };
  const delayMs = fullJitterBackoff(attempt, policy.backoffMs, policy.maxBackoffMs, random);
  if (now + delayMs - createdAt > policy.maxAgeMs) {
    return { retry: false, reason: `gave up after ${attempt} attempt(s): the delivery would be older than retry.maxAge (${policy.maxAgeMs} ms)` };
  }
  return { retry: true, delayMs };
}
