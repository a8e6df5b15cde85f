import { describe, expect, it } from 'vitest';
import { report } from './chaos-rig.js';
import { pagerdutyBursts } from './sink-scenarios.js';

describe('chaos 10: PagerDuty 503 bursts, then 429 bursts', () => {
  it('every event accepted once, each under its own dedup_key', async () => {
    const r = await pagerdutyBursts({ events: 300, perSecond: 100, faultAfterMs: 500, bursts: 2, burstSize: 20, gapMs: 400, settleMs: 30_000 });
    report('pagerduty-bursts', r);
    expect(r.failedAttempts).toBe(r.injectedFailures);
    expect(r.lost).toBe(0);
    expect(r.duplicated).toBe(0);
    expect(r.uniqueDedupKeys).toBe(r.expected);
    expect(r.acceptedEvents).toBe(r.expected);
    expect(r.alertsWithMoreThanOneTrigger).toBe(0);
    expect(r.deadLetters).toBe(0);
  }, 90_000);
});
