import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

describe('moments-bridge schema', () => {
  it('prints a JSON Schema assembled from every registered source and connector', async () => {
    const result = await runCli(['schema']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(readFileSync(new URL('../../schema/config.schema.json', import.meta.url), 'utf8'));
    const schema = JSON.parse(result.stdout) as {
      properties: Record<string, { additionalProperties?: { oneOf?: { properties: { type: { const: string } } }[] } }>;
      additionalProperties: boolean;
    };
    expect(Object.keys(schema.properties).sort()).toEqual(['connectors', 'leadership', 'log', 'redis', 'routes', 'server', 'shutdown', 'sources']);
    expect(schema.additionalProperties).toBe(false);
    const types = (key: string) => (schema.properties[key]!.additionalProperties!.oneOf ?? []).map((s) => s.properties.type.const).sort();
    expect(types('sources')).toEqual(['moments', 'observer']);
    expect(types('connectors')).toEqual(['kinesis', 'module', 'pagerduty', 'sheets', 'slack', 'webhook']);
  });
});
