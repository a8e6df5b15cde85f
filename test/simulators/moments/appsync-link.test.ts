import { ApolloClient, InMemoryCache, gql, type ApolloLink } from '@apollo/client';
import { createSubscriptionHandshakeLink } from 'aws-appsync-subscription-link';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CognitoAuth } from '../../../src/sources/moments/cognito-auth.js';
import { startMomentsSimulator, type MomentsSimulator } from '../../../src/simulators/moments/moments-simulator.js';

let sim: MomentsSimulator;

beforeAll(async () => {
  sim = await startMomentsSimulator();
});
afterAll(async () => {
  await sim.stop();
});

describe('AWS AppSync client against the simulator', () => {
  it('aws-appsync-subscription-link + @apollo/client receive onCreateMoment with exactly the selected fields', async () => {
    const auth = new CognitoAuth({ endpoint: sim.cognitoEndpoint, clientId: 'sim-client-secret', clientSecret: 'sim-secret' });
    await auth.login('demo', 'demo-password');
    const jwtToken = await auth.token();
    auth.close();

    // The link derives <graphqlUrl>/realtime (custom-domain rule) and sends the header-<base64url> subprotocol.
    // The link's typings point at Apollo's CJS build and ours at the ESM one: same class at run time.
    const link = createSubscriptionHandshakeLink({ url: sim.graphqlUrl, region: 'eu-west-1', auth: { type: 'AMAZON_COGNITO_USER_POOLS', jwtToken } }) as unknown as ApolloLink;
    const client = new ApolloClient({ link, cache: new InMemoryCache() });
    const received: Array<Record<string, unknown>> = [];
    const errors: unknown[] = [];
    const subscription = client
      .subscribe<{ onCreateMoment: Record<string, unknown> }>({
        query: gql`
          subscription OnCreateMoment {
            onCreateMoment {
              publicId
              athleteId
              matches {
                metric
                value
              }
            }
          }
        `,
      })
      .subscribe({ next: (result) => received.push(result.data!.onCreateMoment), error: (err) => errors.push(err) });

    try {
      await vi.waitFor(() => expect(sim.control.stats().activeSubscriptions).toBe(1), { timeout: 10_000 });
      const first = sim.control.createMoment({ athleteId: 'ath-1', value: 181 });
      const second = sim.control.createMoment({ athleteId: 'ath-2', value: 190 });
      await vi.waitFor(() => expect(received).toHaveLength(2), { timeout: 5000 });
      expect(errors).toEqual([]);
      // Apollo adds __typename to every selection set; nothing else may appear.
      expect(received[0]).toEqual({ __typename: 'Moment', publicId: first.publicId, athleteId: 'ath-1', matches: [{ __typename: 'Match', metric: 'heartrate', value: 181 }] });
      expect(received[1]).toEqual({ __typename: 'Moment', publicId: second.publicId, athleteId: 'ath-2', matches: [{ __typename: 'Match', metric: 'heartrate', value: 190 }] });
    } finally {
      subscription.unsubscribe();
    }
    // The link sends `stop`; the simulator answers `complete` and drops the subscription.
    await vi.waitFor(() => expect(sim.control.stats().activeSubscriptions).toBe(0), { timeout: 5000 });
  });
});
