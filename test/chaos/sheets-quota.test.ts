import { describe, expect, it } from 'vitest';
import { report } from './chaos-rig.js';
import { expectEveryEventOnce } from './expectations.js';
import { sheetsQuota } from './sink-scenarios.js';

describe('chaos 11: Google Sheets 429 RESOURCE_EXHAUSTED bursts and answers lost after the write (append and upsert sheets)', () => {
  it('exactly one row per event in each sheet', async () => {
    const r = await sheetsQuota({
      events: 300,
      perSecond: 100,
      faultAfterMs: 500,
      bursts: 3,
      burstSize: 2,
      gapMs: 1500,
      lostAnswersPerBurst: 2,
      settleMs: 40_000,
    });
    report('sheets-quota', r);
    expect(r.answered429).toBe(r.injectedQuotaErrors);
    // Appends did land without an answer (a connection reset or a 503 after the write), and were retried.
    expect(r.answersLostOnAppend).toBeGreaterThanOrEqual(1);
    expectEveryEventOnce(r);
  }, 90_000);
});
