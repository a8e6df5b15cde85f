import { describe, expect, it } from 'vitest';
import { report } from './chaos-rig.js';
import { expectSlackStormHandled } from './expectations.js';
import { slackStorm } from './sink-scenarios.js';

describe('chaos 9: Slack 429 + Retry-After storm across three channels', () => {
  it('every message posted once per channel; Retry-After waited out without spending an attempt', async () => {
    const r = await slackStorm({ events: 60, perSecond: 30, faultAfterMs: 500, stormCalls: 24, settleMs: 30_000 });
    report('slack-storm', r);
    expect(r.answered429).toBe(12);
    expectSlackStormHandled(r);
  }, 90_000);
});
