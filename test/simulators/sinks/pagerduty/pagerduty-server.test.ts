import { afterEach, describe, expect, it } from 'vitest';
import { startPagerdutyServer, type PagerdutyServer } from '../../../../simulators/sinks/pagerduty/pagerduty-server.js';

const KEY = 'abcdefabcdefabcdefabcdefabcdef12';
let server: PagerdutyServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

const trigger = { routing_key: KEY, event_action: 'trigger', payload: { summary: 'x', source: 'moments', severity: 'error' } };

async function post(body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(server!.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('PagerDuty Events v2 server', () => {
  it.each([
    ['a valid trigger', trigger, 202, undefined],
    ['a bad routing key', { ...trigger, routing_key: 'short' }, 400, 'Invalid routing key'],
    ['no summary', { ...trigger, payload: { source: 's', severity: 'error' } }, 400, "'payload.summary' is missing or blank"],
    ['a long summary', { ...trigger, payload: { ...trigger.payload, summary: 'x'.repeat(1025) } }, 400, "'payload.summary' must be at most 1024 characters"],
    ['a bad severity', { ...trigger, payload: { ...trigger.payload, severity: 'high' } }, 400, "'payload.severity' must be critical, error, warning or info"],
    ['a resolve without dedup_key', { routing_key: KEY, event_action: 'resolve' }, 400, "'dedup_key' is required for acknowledge and resolve"],
  ])('%s → %i', async (_n, body, status, error) => {
    server = await startPagerdutyServer();
    const res = await post(body);
    expect(res.status).toBe(status);
    if (error) expect(res.body).toEqual({ status: 'invalid event', message: 'Event object is invalid', errors: [error] });
    else expect(res.body).toMatchObject({ status: 'success', message: 'Event processed', dedup_key: expect.any(String) });
  });

  it('a trigger without dedup_key always opens a new alert; with one, repeats group', async () => {
    server = await startPagerdutyServer();
    await post(trigger);
    await post(trigger);
    await post({ ...trigger, dedup_key: 'k' });
    await post({ ...trigger, dedup_key: 'k' });
    expect(server.alerts.size).toBe(3);
    expect(server.alerts.get('k')!.triggers).toBe(2);
    await post({ routing_key: KEY, event_action: 'acknowledge', dedup_key: 'k' });
    expect(server.alerts.get('k')!.status).toBe('acknowledged');
    await post({ routing_key: KEY, event_action: 'acknowledge', dedup_key: 'unknown' });
    expect(server.received.at(-1)!.applied).toBe(false);
  });

  it('answers 429 past perMinute per routing key', async () => {
    let now = 0;
    server = await startPagerdutyServer({ perMinute: 3, now: () => now });
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await post(trigger)).status);
    expect(statuses).toEqual([202, 202, 202, 429, 429]);
    now = 60_000;
    expect((await post(trigger)).status).toBe(202);
  });
});
