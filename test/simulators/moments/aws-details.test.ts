import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMomentsSimulator, type MomentsSimulator } from '../../../simulators/moments/moments-simulator.js';
import { claims, gql, hash, idToken, initiateAuth } from './sim-client.js';

let sim: MomentsSimulator;
let token: string;

beforeAll(async () => {
  sim = await startMomentsSimulator();
  token = await idToken(sim);
  for (let i = 0; i < 5; i += 1) sim.control.createMoment({ athleteId: i, eventId: i % 2 === 0 ? 7 : 8 }, { live: false });
});
afterAll(async () => {
  await sim.stop();
});

const LIST =
  'query ($filter: MomentFilter, $limit: Int, $nextToken: String) { listMoments(filter: $filter, limit: $limit, nextToken: $nextToken, orderBy: [{ createdAt: ASC }]) { items { athleteId } nextToken } }';
const INVALID_TOKEN = {
  errorType: 'DynamoDB:UserIllegalArgumentException',
  message: 'com.amazonaws.deepdish.common.pagination.InvalidPaginationTokenException: Invalid pagination token given.',
  path: ['listMoments'],
};

describe('nextToken and limit, as AppSync + DynamoDB', () => {
  it('pages with an opaque token that only the same query may use', async () => {
    const first = await gql(sim, token, LIST, { limit: 2 });
    const next = first.body.data.listMoments.nextToken as string;
    expect(first.body.data.listMoments.items.map((m: { athleteId: number }) => m.athleteId)).toEqual([0, 1]);
    expect(Buffer.from(next, 'base64url').toString('latin1')).not.toMatch(/"o"|offset/);
    const second = await gql(sim, token, LIST, { limit: 2, nextToken: next });
    expect(second.body.data.listMoments.items.map((m: { athleteId: number }) => m.athleteId)).toEqual([2, 3]);

    // Altered: one bit flipped anywhere is detected, never another page.
    const raw = Buffer.from(next, 'base64url');
    raw[raw.length - 1] ^= 1;
    const altered = await gql(sim, token, LIST, { limit: 2, nextToken: raw.toString('base64url') });
    expect(altered.body).toEqual({ data: { listMoments: null }, errors: [expect.objectContaining(INVALID_TOKEN)] });
    // Forged: the old readable shape {"o": 4} is refused.
    const forged = await gql(sim, token, LIST, { limit: 2, nextToken: Buffer.from(JSON.stringify({ o: 4 })).toString('base64url') });
    expect(forged.body.errors?.[0]).toMatchObject(INVALID_TOKEN);
    // Re-used with another filter, or on another list field.
    const otherFilter = await gql(sim, token, LIST, { limit: 2, nextToken: next, filter: { eventId: { eq: 7 } } });
    expect(otherFilter.body.errors?.[0]).toMatchObject(INVALID_TOKEN);
    const otherField = await gql(sim, token, 'query ($t: String) { listTriggers(nextToken: $t) { items { publicId } } }', { t: next });
    expect(otherField.body.errors?.[0]).toMatchObject({ ...INVALID_TOKEN, path: ['listTriggers'] });
  });

  it('rejects limit < 1 and > 1000 with DynamoDB validation errors and defaults to 100 items', async () => {
    const zero = await gql(sim, token, LIST, { limit: 0 });
    expect(zero.body).toEqual({
      data: { listMoments: null },
      errors: [
        expect.objectContaining({
          errorType: 'DynamoDB:DynamoDbException',
          message: expect.stringContaining("Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"),
        }),
      ],
    });
    const huge = await gql(sim, token, LIST, { limit: 1001 });
    expect(huge.body.errors?.[0]?.message).toContain('less than or equal to 1000');
    expect((await gql(sim, token, LIST, { limit: 1000 })).body.data.listMoments.items).toHaveLength(5);
    const many = await startMomentsSimulator();
    try {
      for (let i = 0; i < 101; i += 1) many.control.createMoment({}, { live: false });
      const page = await gql(many, await idToken(many), '{ listMoments { items { publicId } nextToken } }');
      expect(page.body.data.listMoments.items).toHaveLength(100);
      expect(page.body.data.listMoments.nextToken).toEqual(expect.any(String));
    } finally {
      await many.stop();
    }
  });
});

describe('Cognito details', () => {
  it('answers successes and errors with an x-amzn-requestid UUID', async () => {
    const ok = await initiateAuth(sim, 'sim-client', 'USER_PASSWORD_AUTH', { USERNAME: 'demo', PASSWORD: 'demo-password' });
    const bad = await initiateAuth(sim, 'sim-client', 'USER_PASSWORD_AUTH', { USERNAME: 'demo', PASSWORD: 'wrong' });
    const unknownClient = await initiateAuth(sim, 'nope', 'USER_PASSWORD_AUTH', {});
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    expect(ok.status).toBe(200);
    expect(bad).toMatchObject({ status: 400, body: { __type: 'NotAuthorizedException' } });
    expect(unknownClient.status).toBe(400);
    for (const answer of [ok, bad, unknownClient]) expect(answer.requestId).toMatch(uuid);
    expect(new Set([ok.requestId, bad.requestId, unknownClient.requestId]).size).toBe(3);
  });

  it('signs alias users in by email; refresh with a client secret accepts only a SECRET_HASH over cognito:username', async () => {
    const username = '5f1c2d9e-7a41-4c55-9d3e-2b8f0c6a1e77';
    const sub = '0b6e8a4c-93d2-4f7e-8c1a-6d5e4f3a2b19';
    const email = 'dev@example.com';
    sim.control.addUser({ username, email, sub, password: 'alias-password', tenant: 'acme' });
    const clientId = 'sim-client-secret';
    const secret = 'sim-secret';

    // Password login by alias: the hash is over the USERNAME value sent.
    const overUsername = await initiateAuth(sim, clientId, 'USER_PASSWORD_AUTH', {
      USERNAME: email,
      PASSWORD: 'alias-password',
      SECRET_HASH: hash(secret, username, clientId),
    });
    expect(overUsername.body).toMatchObject({ __type: 'NotAuthorizedException', message: `Unable to verify secret hash for client ${clientId}` });
    const login = await initiateAuth(sim, clientId, 'USER_PASSWORD_AUTH', {
      USERNAME: email,
      PASSWORD: 'alias-password',
      SECRET_HASH: hash(secret, email, clientId),
    });
    expect(login.status).toBe(200);
    const id = claims(login.body.AuthenticationResult!.IdToken);
    expect(id).toMatchObject({ 'cognito:username': username, sub, email, 'custom:tenant': 'acme' });
    // Login by the username itself works too.
    expect(
      (
        await initiateAuth(sim, clientId, 'USER_PASSWORD_AUTH', {
          USERNAME: username,
          PASSWORD: 'alias-password',
          SECRET_HASH: hash(secret, username, clientId),
        })
      ).status,
    ).toBe(200);

    const refresh = (over: string) =>
      initiateAuth(sim, clientId, 'REFRESH_TOKEN_AUTH', {
        REFRESH_TOKEN: login.body.AuthenticationResult!.RefreshToken!,
        SECRET_HASH: hash(secret, over, clientId),
      });
    for (const wrong of [email, sub])
      expect((await refresh(wrong)).body).toMatchObject({ __type: 'NotAuthorizedException', message: `Unable to verify secret hash for client ${clientId}` });
    const missing = await initiateAuth(sim, clientId, 'REFRESH_TOKEN_AUTH', { REFRESH_TOKEN: login.body.AuthenticationResult!.RefreshToken! });
    expect(missing.body.__type).toBe('NotAuthorizedException');
    const refreshed = await refresh(username);
    expect(refreshed.status).toBe(200);
    expect(claims(refreshed.body.AuthenticationResult!.IdToken)).toMatchObject({ 'cognito:username': username, sub });
  });

  it('gives every user a sub distinct from the username', async () => {
    const id = claims(await idToken(sim));
    expect(id['cognito:username']).toBe('demo');
    expect(id.sub).toMatch(/^[0-9a-f-]{36}$/);
  });
});
