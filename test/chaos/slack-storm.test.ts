import { describe, expect, it } from 'vitest';
import { report } from './chaos-rig.js';
import { slackStorm } from './sink-scenarios.js';

describe('chaos 9: Slack 429 + Retry-After storm across three channels', () => {
  it('every message posted once per channel; Retry-After waited out without spending an attempt', async () => {
    const r = await slackStorm({ events: 60, perSecond: 30, faultAfterMs: 500, stormCalls: 24, settleMs: 30_000 });
    report('slack-storm', r);
    expect(r.answered429).toBe(12);
    expect(r.lost).toBe(0);
    expect(r.duplicated).toBe(0);
    // maxAttempts is 1: a 429 that spent an attempt would have dead-lettered its message.
    expect(r.deadLetters).toBe(0);
    expect(r.rateLimitedWithoutAttempt).toBe(12);
    expect(r.minGapAfter429Ms).toBeGreaterThanOrEqual(1000);
  }, 90_000);
});
