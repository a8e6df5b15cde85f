import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { MomentsClient } from '../../../src/sources/moments/moments-client.js';
import { MomentsAuthError, MomentsGraphqlError, MomentsHttpError } from '../../../src/sources/moments/moments-errors.js';
import { startMomentsSimulator, type MomentsSimulator } from '../../../simulators/moments/moments-simulator.js';

let sim: MomentsSimulator;
const clients: MomentsClient[] = [];

function client(overrides: { clientId?: string; clientSecret?: string } = {}): MomentsClient {
  const c = new MomentsClient({
    cognitoEndpoint: sim.cognitoEndpoint,
    clientId: overrides.clientId ?? 'sim-client',
    clientSecret: overrides.clientSecret,
    graphqlUrl: sim.graphqlUrl,
  });
  clients.push(c);
  return c;
}

beforeAll(async () => {
  // 2-second tokens so the refresh-before-expiry timer fires within the test.
  sim = await startMomentsSimulator({ tokenTtlSeconds: 2, users: [{ username: 'ana', password: 'right-password', tenant: 'acme' }] });
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  await sim.stop();
});

describe('Cognito login', () => {
  it('logs in without a client secret and reads the tenant from the ID token', async () => {
    const c = client();
    await c.login('ana', 'right-password');
    expect(c.tenant).toBe('acme');
  });

  it('logs in with a client secret (SECRET_HASH) and is refused with a wrong one', async () => {
    const good = client({ clientId: 'sim-client-secret', clientSecret: 'sim-secret' });
    await good.login('ana', 'right-password');
    expect(good.tenant).toBe('acme');
    const bad = client({ clientId: 'sim-client-secret', clientSecret: 'wrong-secret' });
    await expect(bad.login('ana', 'right-password')).rejects.toMatchObject({
      awsType: 'NotAuthorizedException',
      message: expect.stringMatching(/secret hash/),
    });
    const none = client({ clientId: 'sim-client-secret' });
    await expect(none.login('ana', 'right-password')).rejects.toBeInstanceOf(MomentsAuthError);
  });

  it('a bad password gives one NotAuthorizedException error and exactly one call', async () => {
    const before = sim.control.stats().failedLogins;
    const c = client();
    const err = await c.login('ana', 'wrong-password').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MomentsAuthError);
    expect(err).toMatchObject({ code: 'moments_auth_failed', awsType: 'NotAuthorizedException', retryable: false });
    expect((err as Error).message).toMatch(/Incorrect username or password.*check username, password/);
    // A later API call must not turn into a login storm either: it fails the same way, once.
    await expect(c.listMoments()).rejects.toBeInstanceOf(MomentsAuthError);
    expect(sim.control.stats().failedLogins - before).toBe(2);
  });

  it('refreshes with REFRESH_TOKEN_AUTH before the token expires, with no 401 seen', async () => {
    const c = client();
    await c.login('ana', 'right-password');
    const before = sim.control.stats();
    await vi.waitFor(() => expect(sim.control.stats().refreshLogins).toBeGreaterThan(before.refreshLogins), { timeout: 3000, interval: 50 });
    await c.listMoments({ limit: 1 });
    const after = sim.control.stats();
    expect(after.graphqlUnauthorized).toBe(before.graphqlUnauthorized);
    expect(after.passwordLogins).toBe(before.passwordLogins);
  });

  it('after a forced expiry: refreshes on 401; after refresh tokens expire too: logs in again', async () => {
    const c = client();
    await c.login('ana', 'right-password');
    const s0 = sim.control.stats();
    sim.control.expireTokens();
    await expect(c.listMoments({ limit: 1 })).resolves.toMatchObject({ items: expect.any(Array) });
    const s1 = sim.control.stats();
    expect(s1.graphqlUnauthorized - s0.graphqlUnauthorized).toBe(1);
    expect(s1.refreshLogins - s0.refreshLogins).toBe(1);
    sim.control.expireTokens({ refresh: true });
    await expect(c.listTriggers()).resolves.toMatchObject({ items: expect.any(Array) });
    const s2 = sim.control.stats();
    expect(s2.passwordLogins - s1.passwordLogins).toBe(1);
  });

  it('an email-alias login with a client secret refreshes with SECRET_HASH over cognito:username, not the alias', async () => {
    // A pool that signs in by email: the user name is an opaque id, the operator types the email.
    sim.control.addUser({ username: '7d0c6a52-alias-user', email: 'ana@example.com', password: 'alias-password', tenant: 'acme' });
    const c = client({ clientId: 'sim-client-secret', clientSecret: 'sim-secret' });
    await c.login('ana@example.com', 'alias-password');
    const s0 = sim.control.stats();
    sim.control.expireTokens();
    await expect(c.listMoments({ limit: 1 })).resolves.toMatchObject({ items: expect.any(Array) });
    const s1 = sim.control.stats();
    // Refreshed, not silently healed by a second password login (what a hash over the alias led to).
    expect(s1.refreshLogins - s0.refreshLogins).toBe(1);
    expect(s1.failedLogins - s0.failedLogins).toBe(0);
    expect(s1.passwordLogins - s0.passwordLogins).toBe(0);
  });
});

describe('GraphQL', () => {
  it('pages listMoments with filter, limit, nextToken and orderBy', async () => {
    const c = client();
    await c.login('ana', 'right-password');
    const since = new Date(Date.now() + 60_000).toISOString();
    const created = Array.from({ length: 25 }, (_, i) =>
      sim.control.createMoment({ createdAt: new Date(Date.parse(since) + i * 10).toISOString(), athleteId: 500 + i }, { live: false }),
    );
    const first = await c.listMoments({ filter: { createdAt: { ge: since } }, limit: 10, orderBy: [{ createdAt: 'ASC' }] });
    expect(first.items).toHaveLength(10);
    expect(first.totalCount).toBe(25);
    expect(first.nextToken).toEqual(expect.any(String));
    const before = sim.control.stats().graphqlRequests;
    const all = [];
    for await (const m of c.iterateMoments({ filter: { createdAt: { ge: since } }, limit: 10, orderBy: [{ createdAt: 'ASC' }] })) all.push(m);
    expect(sim.control.stats().graphqlRequests - before).toBe(3);
    expect(all.map((m) => m.publicId)).toEqual(created.map((m) => m.publicId));
    const desc = await c.listMoments({ filter: { createdAt: { ge: since } }, limit: 1, orderBy: [{ createdAt: 'DESC' }] });
    expect(desc.items[0]?.publicId).toBe(created[24]?.publicId);
    const one = await c.getMoment(created[3]!.publicId);
    expect(one).toMatchObject({ publicId: created[3]!.publicId, athleteId: 503, eventId: 7 });
    expect(await c.getMoment('no-such-moment')).toBeNull();
  });

  it('reads triggers', async () => {
    const c = client();
    await c.login('ana', 'right-password');
    const t = sim.control.createTrigger({ name: 'Speed > 35', labels: ['speed'], marker: { color: 'yellow', icon: '⚡' } });
    expect(await c.getTrigger(t.publicId)).toMatchObject({
      name: 'Speed > 35',
      labels: ['speed'],
      isActive: 1,
      criteria: [{ metric: 'heartrate', type: 'gt', threshold: 170 }],
    });
    const list = await c.listTriggers();
    expect(list.items.map((i) => i.publicId)).toContain(t.publicId);
  });

  it('turns GraphQL and HTTP failures into typed errors that name the operation', async () => {
    const c = client();
    await c.login('ana', 'right-password');
    const gqlErr = await c.graphql.request('brokenQuery', '{ listMoments { nope } }', {}).catch((e: unknown) => e);
    expect(gqlErr).toBeInstanceOf(MomentsGraphqlError);
    expect((gqlErr as MomentsGraphqlError).message).toMatch(/brokenQuery failed: ValidationError: Cannot query field "nope"/);
    const badToken = await c.listMoments({ nextToken: 'garbage!' }).catch((e: unknown) => e);
    expect(badToken).toMatchObject({ code: 'moments_graphql_error', errors: [{ errorType: expect.stringMatching(/IllegalArgument|InvalidNextToken/) }] });
    sim.control.failNext(1, 'graphql', 503);
    const httpErr = await c.listMoments().catch((e: unknown) => e);
    expect(httpErr).toBeInstanceOf(MomentsHttpError);
    expect(httpErr).toMatchObject({ status: 503, retryable: true, message: expect.stringMatching(/listMoments failed with HTTP 503/) });
    await expect(c.listMoments({ limit: 1 })).resolves.toBeTruthy();
  });
});
