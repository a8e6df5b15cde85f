import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startMomentsSimulator, type MomentsSimulator } from '../../../simulators/moments/moments-simulator.js';

/** The stand-in's documented surface (seeds/000), typed here because the stand-in is plain JS. */
interface Subscription {
  close(): void;
}
interface MomentsClient {
  login(username: string, password: string): Promise<{ accessToken: string; idToken: string; refreshToken: string; tenant: string | null }>;
  listTriggers(options?: Record<string, unknown>): Promise<{ items: Array<Record<string, any>>; totalCount: number; nextToken: string | null }>;
  getTrigger(publicId: string): Promise<Record<string, any> | null>;
  listMoments(options?: Record<string, unknown>): Promise<{ items: Array<Record<string, any>>; totalCount: number; nextToken: string | null }>;
  getMoment(publicId: string): Promise<Record<string, any> | null>;
  onMoments(cb: (m: Record<string, any>) => void): Subscription;
  onTriggerCreated(cb: (t: Record<string, any>) => void): Subscription;
  onTriggerUpdated(cb: (t: Record<string, any>) => void): Subscription;
  readonly isAuthenticated: boolean;
  readonly tenant: string | null;
}
type MomentsClientClass = new (config: {
  cognitoEndpoint: string;
  clientId: string;
  clientSecret?: string;
  graphqlUrl: string;
  realtimeUrl?: string;
}) => MomentsClient;

const SDK_PATH = join(process.cwd(), 'test/fixtures/moments-sdk/node_modules/@dataworks-technology/moments/index.js');
let MomentsClient: MomentsClientClass;
let sim: MomentsSimulator;

beforeAll(async () => {
  ({ MomentsClient } = (await import(pathToFileURL(SDK_PATH).href)) as { MomentsClient: MomentsClientClass });
  sim = await startMomentsSimulator();
});
afterAll(async () => {
  await sim.stop();
});

const newClient = () =>
  new MomentsClient({ cognitoEndpoint: sim.cognitoEndpoint, clientId: 'sim-client-secret', clientSecret: 'sim-secret', graphqlUrl: sim.graphqlUrl });

describe('stand-in @dataworks-technology/moments against the vendor-variant simulator', () => {
  it('logs in, lists and gets triggers and moments with documented types', async () => {
    const client = newClient();
    expect(client.isAuthenticated).toBe(false);
    expect(client.tenant).toBeNull();
    await expect(client.listMoments()).rejects.toThrow(/login/);
    expect(() => client.onMoments(() => undefined)).toThrow(/login/);
    const result = await client.login('demo', 'demo-password');
    expect(result).toEqual({ accessToken: expect.any(String), idToken: expect.any(String), refreshToken: expect.any(String), tenant: 'demo' });
    expect(client.isAuthenticated).toBe(true);
    expect(client.tenant).toBe('demo');

    const trigger = sim.control.createTrigger({ clientId: 3, name: 'HR > 170', marker: { color: 'red' } }, { live: false });
    const moment = sim.control.createMoment({ triggerPublicId: trigger.publicId, eventId: 7, athleteId: 21 }, { live: false });
    const triggers = await client.listTriggers({ filter: { isActive: { eq: 1 } }, limit: 25, orderBy: [{ createdAt: 'DESC' }] });
    expect(triggers.items).toContainEqual(
      expect.objectContaining({ publicId: trigger.publicId, clientId: 3, isActive: 1, marker: { color: 'red', icon: null } }),
    );
    const moments = await client.listMoments({ filter: { eventId: { eq: 7 }, athleteId: { eq: 21 } }, limit: 50, orderBy: [{ createdAt: 'DESC' }] });
    expect(moments).toMatchObject({
      totalCount: 1,
      nextToken: null,
      items: [{ publicId: moment.publicId, athleteId: 21, eventId: 7, triggerObject: { publicId: trigger.publicId, clientId: 3 } }],
    });
    expect(await client.getTrigger(trigger.publicId)).toMatchObject({
      name: 'HR > 170',
      criteria: [{ metric: 'heartrate', subMetric: 'current', type: 'gt', threshold: 170 }],
    });
    expect(await client.getMoment(moment.publicId)).toMatchObject({ matches: [{ metric: 'heartrate', subMetric: 'current', value: 175 }] });
    await expect(client.listMoments({ limit: 0 })).rejects.toThrow(/DynamoDB:DynamoDbException/);
    await expect(newClient().login('demo', 'wrong')).rejects.toThrow(/NotAuthorizedException/);
  });

  it('subscribes over the real-time socket, reconnects after a drop without back-filling, and closes', async () => {
    const client = newClient();
    await client.login('demo', 'demo-password');
    const moments: Array<Record<string, any>> = [];
    const created: string[] = [];
    const updated: Array<Record<string, any>> = [];
    const subs = [
      client.onMoments((m) => moments.push(m)),
      client.onTriggerCreated((t) => created.push(t.publicId)),
      client.onTriggerUpdated((t) => updated.push(t)),
    ];
    await vi.waitFor(() => expect(sim.control.stats()).toMatchObject({ openSockets: 1, activeSubscriptions: 3 }), { timeout: 5000 });
    const first = sim.control.createMoment({ athleteId: 5, triggerMarker: { color: 'blue', icon: 'bolt' } });
    const trigger = sim.control.createTrigger({ name: 'Speed > 35' });
    sim.control.updateTrigger(trigger.publicId, { isActive: 0 });
    await vi.waitFor(() => expect([moments.length, created.length, updated.length]).toEqual([1, 1, 1]), { timeout: 5000 });
    expect(moments[0]).toMatchObject({ publicId: first.publicId, athleteId: 5, triggerMarker: { color: 'blue', icon: 'bolt' } });
    expect(updated[0]).toMatchObject({ publicId: trigger.publicId, isActive: 0 });

    const connectionsBefore = sim.control.stats().realtimeConnections;
    sim.control.dropSockets();
    const missed = sim.control.createMoment({ athleteId: 6 });
    await vi.waitFor(() => expect(sim.control.stats()).toMatchObject({ realtimeConnections: connectionsBefore + 1, activeSubscriptions: 3 }), {
      timeout: 5000,
    });
    const after = sim.control.createMoment({ athleteId: 7 });
    await vi.waitFor(() => expect(moments.map((m) => m.publicId)).toContain(after.publicId), { timeout: 5000 });
    // A real SDK hides the gap: the moment created while it was away never arrives.
    expect(moments.map((m) => m.publicId)).toEqual([first.publicId, after.publicId]);
    expect(moments.map((m) => m.publicId)).not.toContain(missed.publicId);

    for (const s of subs) s.close();
    await vi.waitFor(() => expect(sim.control.stats()).toMatchObject({ openSockets: 0, activeSubscriptions: 0 }), { timeout: 5000 });
  });

  it('refreshes its tokens before they expire, hashing over cognito:username', async () => {
    const short = await startMomentsSimulator({ tokenTtlSeconds: 1 });
    try {
      short.control.addUser({ username: '9d0c1b2a-3e4f-4a5b-8c6d-7e8f9a0b1c2d', email: 'ops@example.com', password: 'pw-ops' });
      const client = new MomentsClient({
        cognitoEndpoint: short.cognitoEndpoint,
        clientId: 'sim-client-secret',
        clientSecret: 'sim-secret',
        graphqlUrl: short.graphqlUrl,
      });
      await client.login('ops@example.com', 'pw-ops');
      // Tokens live 1 s, inside the SDK's refresh margin: every call refreshes first.
      await client.listTriggers();
      await client.listTriggers();
      expect(short.control.stats()).toMatchObject({ passwordLogins: 1, refreshLogins: 2, failedLogins: 0 });
    } finally {
      await short.stop();
    }
  });
});
