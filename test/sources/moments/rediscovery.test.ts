import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSchema, graphql, type GraphQLSchema } from 'graphql';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AMPLIFY_SDL } from '../../../simulators/moments/amplify-schema.js';
import { startMomentsSimulator, type MomentsSimulator } from '../../../simulators/moments/moments-simulator.js';
import { VENDOR_SDL } from '../../../simulators/moments/vendor-schema.js';
import { MomentsClient } from '../../../src/sources/moments/moments-client.js';

/**
 * A GraphQL engine whose schema changes under a running bridge (a redeploy): a local HTTP server
 * executing with graphql-js, like AppSync answering validation errors with HTTP 200 + `errors`.
 * Cognito is the simulator's.
 */
let sim: MomentsSimulator;
let server: Server;
let graphqlUrl: string;
let schema: GraphQLSchema;
let introspections = 0;
const clients: MomentsClient[] = [];

beforeAll(async () => {
  sim = await startMomentsSimulator();
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const { query, variables } = JSON.parse(body) as { query: string; variables?: Record<string, unknown> };
      if (query.includes('__schema')) introspections += 1;
      const rootValue = { listMoments: () => ({ items: [], totalCount: 0, nextToken: null }) };
      void graphql({ schema, source: query, variableValues: variables, rootValue }).then((result) => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(result));
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  graphqlUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  await sim.stop();
});

function client(documents: Record<string, string> = {}): MomentsClient {
  const c = new MomentsClient({ cognitoEndpoint: sim.cognitoEndpoint, clientId: 'sim-client', graphqlUrl, documents, configPath: 'sources.engine' });
  clients.push(c);
  return c;
}

describe('a document the engine refuses later', () => {
  it('built by introspection: the client introspects once more and retries with the new schema', async () => {
    schema = buildSchema(AMPLIFY_SDL);
    introspections = 0;
    const c = client();
    await c.login('demo', 'demo-password');
    expect((await c.operations()).operations.listMoments!.document).toContain('ModelMomentFilterInput');
    schema = buildSchema(VENDOR_SDL); // the engine is redeployed with other type names
    await expect(c.listMoments({ filter: { createdAt: { ge: new Date().toISOString() } }, orderBy: [{ createdAt: 'ASC' }], limit: 5 })).resolves.toMatchObject({
      items: [],
    });
    expect(introspections).toBe(2);
    expect((await c.operations()).operations.listMoments!.document).toContain('$filter: MomentFilter');
  });

  it('from config: not retried; one error naming the key and the engine text', async () => {
    schema = buildSchema(AMPLIFY_SDL);
    introspections = 0;
    const c = client({ listMoments: 'query L($filter: ModelMomentFilterInput) { listMoments(filter: $filter) { items { publicId createdAt } } }' });
    await c.login('demo', 'demo-password');
    schema = buildSchema(VENDOR_SDL);
    const err = await c.listMoments({ limit: 5 }).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'moments_document_rejected',
      message: expect.stringMatching(
        /^listMoments \(from sources\.engine\.documents\.listMoments\) was rejected by the engine: Unknown type "ModelMomentFilterInput"\. — fix that document/,
      ),
    });
    expect(introspections).toBe(1);
  });
});
