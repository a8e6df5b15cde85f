/**
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"):
 * delay = random(0, min(cap, base · 2^(attempt-1))). Full jitter spreads retries of many jobs, items
 * or replicas that failed together (a sink outage, a Redis restart) instead of retrying them in
 * waves. The one formula for every retry and reconnect delay in the bridge.
 */
export function fullJitterBackoff(attempt: number, baseMs: number, capMs: number, random: () => number = Math.random): number {
  const exp = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * exp);
}
