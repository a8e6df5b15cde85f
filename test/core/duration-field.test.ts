import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { kinesisConnector } from '../../connectors/kinesis/index.js';
import { sheetsConnector } from '../../connectors/sheets/index.js';
import { slackConnector } from '../../connectors/slack/index.js';
import { durationMsField } from '../../src/core/duration-field.js';
import { serverSchema, shutdownSchema } from '../../src/config/schema.js';
import { routeSchema } from '../../src/routing/route-schema.js';
import { deliveryOptionsSchema } from '../../src/queue/delivery-options-schema.js';

// One duration convention: a config schema yields milliseconds, parsed at load, so nothing parses
// a duration from config at use.

describe('durationMsField', () => {
  const schema = z.object({ grace: durationMsField('Grace', '10s'), window: durationMsField('Window. @defaultValue 1s').optional() });

  it.each<[unknown, number]>([
    ['500ms', 500],
    ['30s', 30_000],
    [' 5m ', 300_000],
    ['1.5h', 5_400_000],
    ['1d', 86_400_000],
    [250, 250],
  ])('%j → %d ms', (written, ms) => {
    expect(schema.parse({ grace: written }).grace).toBe(ms);
  });

  it('takes its default parsed like a written value, and leaves an optional one out', () => {
    expect(schema.parse({})).toEqual({ grace: 10_000 });
  });

  it("refuses what is not a duration with parseDuration's message, at the field", () => {
    for (const bad of ['soon', '30 seconds', '', -1]) {
      const result = schema.safeParse({ grace: bad });
      expect(result.success, JSON.stringify(bad)).toBe(false);
      expect(result.error!.issues[0]!.path).toEqual(['grace']);
      if (typeof bad === 'string')
        expect(result.error!.issues[0]!.message).toBe(`"${bad}" is not a duration: use a number of milliseconds or e.g. 500ms, 30s, 5m, 1h, 1d`);
    }
  });

  it('documents the unit and the default, and gives editors the pattern', () => {
    const json = z.toJSONSchema(schema, { io: 'input' }) as { properties: Record<string, { description: string; anyOf: { pattern?: string }[] }> };
    expect(json.properties.grace!.description).toBe('Grace (duration, e.g. 500ms, 30s, 15m, 1h). @defaultValue 10s');
    expect(json.properties.window!.description).toBe('Window (duration, e.g. 500ms, 30s, 15m, 1h). @defaultValue 1s');
    expect(json.properties.grace!.anyOf.some((b) => b.pattern !== undefined && new RegExp(b.pattern).test('30s') && !new RegExp(b.pattern).test('soon'))).toBe(
      true,
    );
  });
});

describe('config durations arrive in milliseconds', () => {
  it.each<[string, () => unknown, unknown]>([
    ['shutdown.grace', () => shutdownSchema.parse({}).grace, 10_000],
    ['server.stallAfter', () => serverSchema.parse({ stallAfter: '1m' }).stallAfter, 60_000],
    [
      'delivery options',
      () => deliveryOptionsSchema.parse({ timeout: '2s', rateLimit: { max: 1, duration: '1s' }, retry: { backoff: '250ms' }, batch: { window: 100 } }),
      { timeout: 2000, rateLimit: { max: 1, duration: 1000 }, retry: { backoff: 250 }, batch: { window: 100 } },
    ],
    [
      'route group, throttle, dedupe',
      () => {
        const r = routeSchema.parse({ name: 'r', to: ['c'], throttle: { key: 'k', window: '1m' }, dedupe: { window: '1h' }, group: {} });
        return [r.throttle?.window, r.dedupe?.window, r.group?.wait, r.group?.interval];
      },
      [60_000, 3_600_000, 30_000, 300_000],
    ],
    ['slack threadTtl', () => slackConnector.configSchema.parse({ type: 'slack', token: 'xoxb-1', channel: '#x' }).threadTtl, 7 * 86_400_000],
    ['kinesis throttleRetryAfter', () => kinesisConnector.configSchema.parse({ type: 'kinesis', stream: 's' }).throttleRetryAfter, 1000],
    [
      'sheets quotaRetryAfter',
      () => sheetsConnector.configSchema.parse({ type: 'sheets', spreadsheetId: 'x', columns: { A: '{{ id }}' } }).quotaRetryAfter,
      30_000,
    ],
  ])('%s', (_, parse, ms) => {
    expect(parse()).toEqual(ms);
  });
});
