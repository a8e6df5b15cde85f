import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { observerSourceConfigSchema } from '../../../src/sources/observer/source-config.js';

const base = { type: 'observer', url: 'wss://observer.example.com/ws', accessToken: 'cfg-test-token' };

describe('observer source config', () => {
  it('fills defaults: ongoingCalls with callSnapshots every 30s, 10s request timeout, backoff 500ms..30s', () => {
    const config = observerSourceConfigSchema.parse(base);
    expect(config).toMatchObject({
      frames: [{ ongoingCalls: { pollEvery: 30_000, frames: ['callSnapshots'] } }],
      requestTimeout: 10_000,
      pingInterval: 15_000,
      reconnect: { initialDelay: 500, maxDelay: 30_000 },
      dedupTtl: 86_400_000,
    });
    expect(config.sdk).toBeUndefined();
  });

  it.each([
    [{ ongoingCalls: true }, { ongoingCalls: { pollEvery: 30_000, frames: ['callSnapshots'] } }],
    [
      { ongoingCalls: { pollEvery: '5s', frames: ['callSnapshots', 'clientSnapshots'] } },
      { ongoingCalls: { pollEvery: 5_000, frames: ['callSnapshots', 'clientSnapshots'] } },
    ],
    [{ callSnapshots: { callId: 'c1' } }, { callSnapshots: { callId: 'c1' } }],
    [{ clientSnapshots: { callId: 'c1', clientId: 'x' } }, { clientSnapshots: { callId: 'c1', clientId: 'x' } }],
    [{ database: { resource: 'issues' } }, { database: { resource: 'issues', conditions: {} } }],
    [{ summaryStats: { every: '2m', params: { a: 1 } } }, { summaryStats: { every: 120_000, params: { a: 1 } } }],
  ])('frame %j parses', (frame, expected) => {
    expect(observerSourceConfigSchema.parse({ ...base, frames: [frame] }).frames).toEqual([expected]);
  });

  it.each([
    [{ url: 'http://observer' }, 'url', 'ws:// or wss://'],
    [{ requestTimeout: 'soon' }, 'requestTimeout', 'not a duration'],
    [{ frames: [{ ongoingCalls: { pollEvery: '1s', frames: ['everything'] } }] }, 'frames', ''],
    [{ frames: [] }, 'frames', ''],
    [{ extra: 1 }, '', 'extra'],
    [{ accessToken: '' }, 'accessToken', ''],
  ])('rejects %j', (patch, path, text) => {
    const result = observerSourceConfigSchema.safeParse({ ...base, ...patch });
    expect(result.success).toBe(false);
    const issue = result.error!.issues[0]!;
    expect(issue.path.join('.')).toContain(path);
    expect(JSON.stringify(result.error!.issues)).toContain(text);
  });

  it('describes every field and marks the token secret in the JSON Schema', () => {
    const schema = z.toJSONSchema(observerSourceConfigSchema, { io: 'input' }) as {
      properties: Record<string, { description?: string; 'x-secret'?: boolean }>;
    };
    for (const [key, prop] of Object.entries(schema.properties)) expect(prop.description, key).toBeTruthy();
    expect(schema.properties.accessToken!['x-secret']).toBe(true);
  });
});
