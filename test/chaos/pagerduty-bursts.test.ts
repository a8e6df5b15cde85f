import { describe, it } from 'vitest';
import { report } from './chaos-rig.js';
import { expectOneAlertPerEvent } from './expectations.js';
import { pagerdutyBursts } from './sink-scenarios.js';

describe('chaos 10: PagerDuty 503 bursts, then 429 bursts', () => {
  it('every event accepted once, each under its own dedup_key', async () => {
    const r = await pagerdutyBursts({ events: 300, perSecond: 100, faultAfterMs: 500, bursts: 2, burstSize: 20, gapMs: 400, settleMs: 30_000 });
    report('pagerduty-bursts', r);
    expectOneAlertPerEvent(r);
  }, 90_000);
});
