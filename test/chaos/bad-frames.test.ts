import { describe, expect, it } from 'vitest';
import { report } from './chaos-rig.js';
import { badFrames } from './scenarios.js';

describe('chaos 6: malformed, schema-invalid and oversized upstream frames mixed into valid traffic', () => {
  it('the daemon stays up, every valid event is delivered once, every invalid moment has exactly one quarantine record', async () => {
    const r = await badFrames({ events: 200, badFrames: 1000, settleMs: 30_000 });
    report('bad-frames', r);
    expect(r.daemonAlive).toBe(true);
    expect(r.lost).toBe(0);
    expect(r.duplicated).toBe(0);
    const kinds = r.kinds as Record<string, number>;
    expect(r.invalidMoments).toBe(kinds.schemaInvalid);
    expect(r.invalidMoments).toBeGreaterThan(0);
    expect(r.invalidWithoutRecord).toEqual([]);
    // Once each: a back-fill after a reconnect re-reads invalid moments, and must not quarantine them again.
    expect(r.invalidRecordedMoreThanOnce).toEqual([]);
    expect(r.otherQuarantinedMoments).toEqual([]);
    expect(r.quarantined).toBeGreaterThanOrEqual(kinds.schemaInvalid!);
    expect(r.protocolErrors).toBeGreaterThanOrEqual(kinds.malformedJson! + kinds.unknownType!);
  }, 90_000);
});
