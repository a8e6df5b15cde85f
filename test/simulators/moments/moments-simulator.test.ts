import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { idToken } from './sim-client.js';
import { startMomentsSimulator, type MomentsSimulator } from '../../../simulators/moments/moments-simulator.js';
import { hydrate, matchesFilter } from '../../../simulators/moments/moments-store.js';
import { runMomentsSimulator } from '../../../simulators/moments/run-moments-simulator.js';
import { silentLogger } from '../../../src/core/log.js';

let sim: MomentsSimulator;

beforeAll(async () => {
  sim = await startMomentsSimulator();
});
afterAll(async () => {
  await sim.stop();
});

async function control(action: string, body: unknown = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(`${sim.url}/_control/${action}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

function handshake(url: string, protocols: string[]): Promise<{ status: number; errorType?: string }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, protocols);
    ws.on('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0, errorType: res.headers['x-amzn-errortype'] as string | undefined });
      res.resume();
      ws.terminate();
    });
    ws.on('open', () => {
      resolve({ status: 101 });
      ws.close();
    });
    ws.on('error', () => undefined);
  });
}

describe('moments simulator', () => {
  it('serves the control API over HTTP', async () => {
    const trigger = await control('triggers', { name: 'HR > 180', labels: ['hr'] });
    expect(trigger).toMatchObject({ status: 200, body: { name: 'HR > 180', labels: ['hr'], isActive: 1 } });
    const moments = await control('moments', { count: 3, triggerPublicId: trigger.body.publicId, live: false });
    expect(moments.body).toHaveLength(3);
    expect(moments.body[0].moment).toMatch(/^Athlete 1 heart rate 175 bpm$/);
    const stats = (await (await fetch(`${sim.url}/_control/stats`)).json()) as { moments: number; triggers: number };
    expect(stats).toMatchObject({ moments: 3, triggers: 1 });
    expect(await control('fail-next', { target: 'nowhere' })).toMatchObject({ status: 400 });
    expect(await control('no-such-action')).toMatchObject({ status: 404, body: { message: expect.stringMatching(/unknown control action/) } });
  });

  it('answers refused real-time handshakes with 401 + x-amzn-ErrorType and needs graphql-ws', async () => {
    const header = (token: string) =>
      `header-${Buffer.from(JSON.stringify({ host: new URL(sim.graphqlUrl).host, Authorization: token })).toString('base64url')}`;
    expect(await handshake(sim.realtimeUrl, ['graphql-ws', header('not-a-token')])).toEqual({ status: 401, errorType: 'UnauthorizedException' });
    const token = await idToken(sim);
    expect(await handshake(sim.realtimeUrl, ['graphql-ws', header(token)])).toEqual({ status: 101 });
    expect((await handshake(sim.realtimeUrl, ['other', header(token)])).status).toBe(400);
    const query = `${sim.realtimeUrl}?header=${encodeURIComponent(Buffer.from(JSON.stringify({ host: 'x', Authorization: token })).toString('base64'))}&payload=e30=`;
    expect(await handshake(query, ['graphql-ws'])).toEqual({ status: 101 });
  });

  it('generates plausible moments from heart-rate, speed and power triggers', async () => {
    const before = sim.control.stats().moments;
    sim.control.startGenerator({ rate: 50, athletes: 3 });
    await vi.waitFor(() => expect(sim.control.stats().generated).toBeGreaterThanOrEqual(10), { timeout: 3000 });
    sim.control.stopGenerator();
    const token = await idToken(sim);
    const res = await fetch(sim.graphqlUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: token },
      body: JSON.stringify({
        query:
          '{ listMoments(limit: 1000) { items { athleteId moment triggerPublicId matches { metric value } } } listTriggers { items { publicId name outputTemplate } } }',
      }),
    });
    const { data } = (await res.json()) as { data: { listMoments: { items: any[] }; listTriggers: { items: any[] } } };
    const generated = data.listMoments.items.slice(before);
    expect(generated.length).toBeGreaterThanOrEqual(10);
    expect(data.listTriggers.items.map((t) => t.name)).toEqual(expect.arrayContaining(['HR > 170', 'Speed > 35 km/h', 'Power > 400 W']));
    for (const m of generated) {
      expect([1, 2, 3]).toContain(m.athleteId);
      expect(m.moment).not.toMatch(/\{\{/);
      expect(m.moment).toContain(String(m.matches[0].value));
    }
  });

  it('filters like AppSync and hydrates {{variable}} templates', () => {
    const item = { createdAt: '2026-01-01T00:00:05.000Z', eventId: 7, athleteId: 'a-1' };
    // An ID-typed operand arrives as a numeric string and still compares numerically.
    expect(matchesFilter({ eventId: 10 }, { eventId: { gt: '9' } })).toBe(true);
    expect(matchesFilter(item, { eventId: { eq: 7 } })).toBe(true);
    expect(matchesFilter(item, { createdAt: { gt: '2026-01-01T00:00:05.000Z' } })).toBe(false);
    expect(matchesFilter(item, { createdAt: { ge: '2026-01-01T00:00:05.000Z' } })).toBe(true);
    expect(matchesFilter(item, { or: [{ eventId: { eq: 8 } }, { athleteId: { beginsWith: 'a-' } }] })).toBe(true);
    expect(matchesFilter(item, { not: { eventId: { between: [1, 9] } } })).toBe(false);
    expect(hydrate('{{ athleteId }} at {{value}} bpm{{missing}}', { athleteId: 'a-1', value: 181 })).toBe('a-1 at 181 bpm');
  });

  it('runMomentsSimulator (the `simulate moments` command) starts the generator', async () => {
    const running = await runMomentsSimulator({ port: 0, rate: 40, athletes: 2, logger: silentLogger() });
    try {
      expect(running.graphqlUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
      await vi.waitFor(() => expect(running.control.stats().generated).toBeGreaterThanOrEqual(3), { timeout: 3000 });
    } finally {
      await running.stop();
    }
  });
});
