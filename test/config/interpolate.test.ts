import { parseDocument } from 'yaml';
import { describe, expect, it } from 'vitest';
import { interpolateEnv } from '../../src/config/interpolate.js';
import { parseConfig } from '../../src/config/load-config.js';

function valueOf(yamlValue: string, x: string): unknown {
  const doc = parseDocument(`v: ${yamlValue}\n`);
  expect(interpolateEnv(doc, { X: x })).toEqual([]);
  return (doc.toJS() as { v: unknown }).v;
}

describe('interpolateEnv typing', () => {
  // A quoted scalar is a string in YAML, so what the environment puts in it stays a string; only a
  // plain ${X} is typed by its text, and only when the number survives the round trip exactly.
  it.each([
    ['"${X}"', '007', '007'],
    ['"${X}"', '12345678901234567890', '12345678901234567890'],
    ['"${X}"', 'true', 'true'],
    ['"${X}"', '42', '42'],
    ["'${X}'", '007', '007'],
    ["'${X}'", 'false', 'false'],
    ['|\n  ${X}', '42', '42\n'],
    ['${X}', '42', 42],
    ['${X}', '-3', -3],
    ['${X}', '1.5', 1.5],
    ['${X}', '9007199254740991', 9007199254740991],
    ['${X}', '9007199254740993', '9007199254740993'],
    ['${X}', '12345678901234567890', '12345678901234567890'],
    ['${X}', '007', '007'],
    ['${X}', '0.12345678901234567890', '0.12345678901234567890'],
    ['${X}', 'true', true],
    ['${X}', 'false', false],
    ['${X}', 'yes', 'yes'],
    ['${X:-5}', '', 5],
    ['"${X:-5}"', '', '5'],
  ])('v: %s with X=%s → %j', (yamlValue, x, expected) => {
    expect(valueOf(yamlValue, x)).toStrictEqual(expected);
  });

  it('keeps a quoted ${VAR} a string through the whole config (key prefix "007")', async () => {
    const { config } = await parseConfig('redis: { keyPrefix: "${PFX}" }\nserver:\n  port: ${PORT}\n', '/tmp/c.yaml', { env: { PFX: '007', PORT: '9999' } });
    expect(config.redis.keyPrefix).toBe('007');
    expect(config.server.port).toBe(9999);
  });
});
