/**
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"):
 * delay = random(0, min(cap, base · 2^(attempt-1))). Full jitter spreads retries of many jobs that
 * failed together (a sink outage) instead of retrying them in waves.
 */
export function fullJitterBackoff(attempt: number, baseMs: number, capMs: number, random: () => number = Math.random): number {
  const exp = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * exp);
}

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
