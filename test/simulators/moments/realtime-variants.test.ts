import { WebSocket } from 'ws';
import { describe, expect, it, vi } from 'vitest';
import { startMomentsSimulator, type MomentsSimulator } from '../../../simulators/moments/moments-simulator.js';
import { idToken } from './sim-client.js';

/** A raw AppSync real-time client: connection_init, then `start` frames; collects every frame. */
async function connect(
  sim: MomentsSimulator,
): Promise<{ frames: Array<Record<string, any>>; start(id: string, query: string, variables?: Record<string, unknown>): void; close(): void }> {
  const token = await idToken(sim);
  const host = new URL(sim.graphqlUrl).host;
  const ws = new WebSocket(sim.realtimeUrl, ['graphql-ws', `header-${Buffer.from(JSON.stringify({ host, Authorization: token })).toString('base64url')}`]);
  const frames: Array<Record<string, any>> = [];
  ws.on('message', (raw) => frames.push(JSON.parse(raw.toString()) as Record<string, any>));
  await new Promise((resolve) => ws.once('open', resolve));
  ws.send(JSON.stringify({ type: 'connection_init' }));
  await vi.waitFor(() => expect(frames.some((f) => f.type === 'connection_ack')).toBe(true));
  return {
    frames,
    start: (id, query, variables = {}) =>
      ws.send(
        JSON.stringify({
          id,
          type: 'start',
          payload: { data: JSON.stringify({ query, variables }), extensions: { authorization: { host, Authorization: token } } },
        }),
      ),
    close: () => ws.close(),
  };
}

describe('real-time per schema variant', () => {
  it.each([
    {
      schema: 'vendor' as const,
      query: 'subscription ($a: Int) { onCreateMoment(athleteId: $a) { athleteId triggerObject { name } } }',
      arg: 7,
      expected: { athleteId: 7, triggerObject: { name: 'HR > 170' } },
    },
    {
      schema: 'amplify' as const,
      query: 'subscription ($a: ID) { onCreateMoment(athleteId: $a) { athleteId triggerObject } }',
      arg: '7',
      expected: { athleteId: '7', triggerObject: expect.stringContaining('"name":"HR > 170"') },
    },
  ])('filters onCreateMoment by its arguments and renders the $schema wire form', async ({ schema, query, arg, expected }) => {
    const sim = await startMomentsSimulator({ schema });
    try {
      const client = await connect(sim);
      client.start('s1', query, { a: arg });
      await vi.waitFor(() => expect(client.frames).toContainEqual({ type: 'start_ack', id: 's1' }));
      sim.control.createMoment({ athleteId: 8 });
      sim.control.createMoment({ athleteId: 7 });
      await vi.waitFor(() => expect(client.frames.filter((f) => f.type === 'data')).toHaveLength(1));
      await new Promise((r) => setTimeout(r, 50));
      expect(client.frames.filter((f) => f.type === 'data')).toEqual([{ id: 's1', type: 'data', payload: { data: { onCreateMoment: expected } } }]);
      client.close();
    } finally {
      await sim.stop();
    }
  });

  it('refuses introspection in a real-time start when introspection is disabled', async () => {
    const sim = await startMomentsSimulator({ introspection: false });
    try {
      const client = await connect(sim);
      client.start('s1', 'subscription { onCreateMoment { publicId __typename } }');
      client.start('s2', 'subscription { onCreateTrigger { publicId } __schema { queryType { name } } }');
      await vi.waitFor(() => expect(client.frames.filter((f) => f.type === 'start_ack' || f.type === 'error')).toHaveLength(2));
      expect(client.frames).toContainEqual({ type: 'start_ack', id: 's1' });
      expect(client.frames).toContainEqual({
        type: 'error',
        id: 's2',
        payload: { errors: [expect.objectContaining({ errorType: 'ValidationError', message: expect.stringContaining("'__schema'") })] },
      });
      client.close();
    } finally {
      await sim.stop();
    }
  });
});
