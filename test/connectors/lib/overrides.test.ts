import { describe, expect, it } from 'vitest';
import { kinesisOverridesSchema } from '../../../connectors/kinesis/config.js';
import { parseOverrides } from '../../../connectors/lib/overrides.js';
import { pagerdutyOverridesSchema } from '../../../connectors/pagerduty/config.js';
import { sheetsOverridesSchema } from '../../../connectors/sheets/config.js';
import { slackOverridesSchema } from '../../../connectors/slack/config.js';
import { webhookOverridesSchema } from '../../../connectors/webhook/config.js';
import { InputError } from '../../../src/core/errors.js';

// The one parser of route overrides (`to: [{ connector: x, <key>: … }]`), with each connector's
// own overrides schema: what passes, and what a bad override says.

const SCHEMAS = {
  slack: {
    schema: slackOverridesSchema,
    good: { channel: '#x', text: '{{ id }}' },
    wrongType: { channel: 5 },
    keys: 'channel, text, blocks, username, iconEmoji, iconUrl, threadBy',
  },
  pagerduty: { schema: pagerdutyOverridesSchema, good: { summary: '{{ id }}' }, wrongType: { summary: 5 }, keys: undefined },
  webhook: {
    schema: webhookOverridesSchema,
    good: { method: 'PUT', body: { a: '{{ id }}' } },
    wrongType: { headers: 'x' },
    keys: 'url, method, headers, body',
  },
  kinesis: {
    schema: kinesisOverridesSchema,
    good: { partitionKey: '{{ data.athleteId }}', data: null },
    wrongType: { eventType: 5 },
    keys: 'eventType, data, userId, partitionKey',
  },
  sheets: { schema: sheetsOverridesSchema, good: { columns: { A: '{{ id }}' }, key: '{{ id }}' }, wrongType: { columns: { A: 5 } }, keys: 'columns, key' },
};

function thrown(fn: () => unknown): InputError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return err as InputError;
  }
  throw new Error('did not throw');
}

describe('parseOverrides', () => {
  it.each(Object.entries(SCHEMAS))('%s: passes a valid override through unchanged', (_, { schema, good }) => {
    expect(parseOverrides(schema, good, 'connector x')).toEqual(good);
    expect(parseOverrides(schema, {}, 'connector x')).toEqual({});
  });

  it.each(Object.entries(SCHEMAS))('%s: an unknown key is override_invalid, naming the connector, the key and the allowed keys', (_, { schema, keys }) => {
    const err = thrown(() => parseOverrides(schema, { chanel: '#x' }, 'connector ops'));
    expect(err.code).toBe('override_invalid');
    expect(err.message).toMatch(/^connector ops: invalid route override \(.*chanel.*\); allowed keys: /);
    expect(err.message).toContain(`allowed keys: ${keys ?? Object.keys(schema.shape).join(', ')}`);
  });

  it.each(Object.entries(SCHEMAS))('%s: a value of the wrong type is override_invalid, naming its path', (_, { schema, wrongType }) => {
    const err = thrown(() => parseOverrides(schema, wrongType, 'connector ops'));
    expect(err.code).toBe('override_invalid');
    expect(err.message).toContain(`invalid route override (${Object.keys(wrongType)[0]}`);
  });
});
