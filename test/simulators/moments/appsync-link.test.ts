import { ApolloClient, InMemoryCache, gql, type ApolloLink } from '@apollo/client';
import { createSubscriptionHandshakeLink } from 'aws-appsync-subscription-link';
import { describe, expect, it, vi } from 'vitest';
import { startMomentsSimulator } from '../../../simulators/moments/moments-simulator.js';
import { idToken } from './sim-client.js';

// Per variant: the subscription document (vendor objects need sub-selections, amplify's AWSJSON
// does not) and what the same canonical moment looks like on that variant's wire.
const variants = [
  {
    schema: 'vendor' as const,
    query: gql`
      subscription OnCreateMoment {
        onCreateMoment {
          publicId
          athleteId
          matches {
            metric
            value
          }
          triggerMarker {
            color
            icon
          }
        }
      }
    `,
    expected: (publicId: string, athleteId: number, value: number) => ({
      __typename: 'Moment',
      publicId,
      athleteId,
      matches: [{ __typename: 'MomentValue', metric: 'heartrate', value }],
      triggerMarker: { __typename: 'TriggerMarker', color: '#e53935', icon: null },
    }),
  },
  {
    schema: 'amplify' as const,
    query: gql`
      subscription OnCreateMoment {
        onCreateMoment {
          publicId
          athleteId
          matches {
            metric
            value
          }
          triggerMarker
        }
      }
    `,
    expected: (publicId: string, athleteId: number, value: number) => ({
      __typename: 'Moment',
      publicId,
      athleteId: String(athleteId),
      matches: [{ __typename: 'Match', metric: 'heartrate', value }],
      triggerMarker: JSON.stringify({ color: '#e53935' }),
    }),
  },
];

describe('AWS AppSync client against the simulator', () => {
  it.each(variants)(
    'aws-appsync-subscription-link + @apollo/client receive onCreateMoment with exactly the selected fields ($schema)',
    async ({ schema, query, expected }) => {
      const sim = await startMomentsSimulator({ schema });
      try {
        const jwtToken = await idToken(sim);
        // The link derives <graphqlUrl>/realtime (custom-domain rule) and sends the header-<base64url> subprotocol.
        // The link's typings point at Apollo's CJS build and ours at the ESM one: same class at run time.
        const link = createSubscriptionHandshakeLink({
          url: sim.graphqlUrl,
          region: 'eu-west-1',
          auth: { type: 'AMAZON_COGNITO_USER_POOLS', jwtToken },
        }) as unknown as ApolloLink;
        const client = new ApolloClient({ link, cache: new InMemoryCache() });
        const received: Array<Record<string, unknown>> = [];
        const errors: unknown[] = [];
        const subscription = client
          .subscribe<{ onCreateMoment: Record<string, unknown> }>({ query })
          .subscribe({ next: (result) => received.push(result.data!.onCreateMoment), error: (err) => errors.push(err) });
        try {
          await vi.waitFor(() => expect(sim.control.stats().activeSubscriptions).toBe(1), { timeout: 10_000 });
          const first = sim.control.createMoment({ athleteId: 11, value: 181, triggerMarker: { color: '#e53935' } });
          const second = sim.control.createMoment({ athleteId: 12, value: 190, triggerMarker: { color: '#e53935' } });
          await vi.waitFor(() => expect(received).toHaveLength(2), { timeout: 5000 });
          expect(errors).toEqual([]);
          // Apollo adds __typename to every selection set; nothing else may appear.
          expect(received[0]).toEqual(expected(first.publicId, 11, 181));
          expect(received[1]).toEqual(expected(second.publicId, 12, 190));
        } finally {
          subscription.unsubscribe();
        }
        // The link sends `stop`; the simulator answers `complete` and drops the subscription.
        await vi.waitFor(() => expect(sim.control.stats().activeSubscriptions).toBe(0), { timeout: 5000 });
      } finally {
        await sim.stop();
      }
    },
  );
});
