import { getIntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMomentsSimulator, type MomentsSimulator } from '../../../simulators/moments/moments-simulator.js';
import { gql, idToken } from './sim-client.js';

let vendor: MomentsSimulator;
let amplify: MomentsSimulator;
let closed: MomentsSimulator;
const tokens = new Map<MomentsSimulator, string>();

beforeAll(async () => {
  [vendor, amplify, closed] = await Promise.all([
    startMomentsSimulator(),
    startMomentsSimulator({ schema: 'amplify' }),
    startMomentsSimulator({ introspection: false }),
  ]);
  for (const sim of [vendor, amplify, closed]) {
    tokens.set(sim, await idToken(sim));
    const trigger = sim.control.createTrigger({
      publicId: 'trg_1',
      clientId: 4,
      name: 'HR > 170',
      marker: { color: 'red', icon: 'heart' },
      criteria: [{ datasetDatasourceId: 9, metric: 'heartrate', subMetric: 'current', type: 'gt', threshold: 170 }],
    });
    sim.control.createMoment({
      publicId: 'mom_1',
      triggerPublicId: trigger.publicId,
      athleteId: 7,
      eventId: 3,
      value: 181,
      triggerName: 'HR > 170',
      triggerMarker: { color: 'red' },
    });
  }
});
afterAll(async () => {
  await Promise.all([vendor, amplify, closed].map((s) => s.stop()));
});

const q = (sim: MomentsSimulator, query: string, variables?: Record<string, unknown>) => gql(sim, tokens.get(sim)!, query, variables);

describe('schema variants', () => {
  it('vendor (the default) serves the documented types: numbers as Int, objects with sub-fields, plain input names', async () => {
    expect(vendor.schema).toBe('vendor');
    const { body } = await q(
      vendor,
      `query ($filter: MomentFilter, $orderBy: [MomentOrderBy!]) {
        listMoments(filter: $filter, orderBy: $orderBy, limit: 10) {
          items { publicId clientId athleteId eventId matches { metric subMetric value } triggerMarker { color icon }
                  triggerObject { publicId clientId isActive name marker { color icon } criteria { datasetDatasourceId metric subMetric type threshold } } }
          totalCount nextToken
        }
        listTriggers(filter: { isActive: { eq: 1 } }, orderBy: [{ createdAt: DESC }]) { items { clientId isActive marker { color icon } criteria { type threshold } } totalCount }
      }`,
      { filter: { eventId: { eq: 3 }, athleteId: { ge: 7 } }, orderBy: [{ createdAt: 'ASC' }] },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data.listMoments).toEqual({
      items: [
        {
          publicId: 'mom_1',
          clientId: 4,
          athleteId: 7,
          eventId: 3,
          matches: [{ metric: 'heartrate', subMetric: 'current', value: 181 }],
          triggerMarker: { color: 'red', icon: null },
          triggerObject: {
            publicId: 'trg_1',
            clientId: 4,
            isActive: 1,
            name: 'HR > 170',
            marker: { color: 'red', icon: 'heart' },
            criteria: [{ datasetDatasourceId: 9, metric: 'heartrate', subMetric: 'current', type: 'gt', threshold: 170 }],
          },
        },
      ],
      totalCount: 1,
      nextToken: null,
    });
    expect(body.data.listTriggers).toEqual({
      items: [{ clientId: 4, isActive: 1, marker: { color: 'red', icon: 'heart' }, criteria: [{ type: 'gt', threshold: 170 }] }],
      totalCount: 1,
    });
    // An object field without a selection is a validation error, as on any GraphQL server.
    const bare = await q(vendor, '{ getMoment(publicId: "mom_1") { triggerMarker } }');
    expect(bare.body.errors?.[0]).toMatchObject({ errorType: 'ValidationError', message: expect.stringMatching(/triggerMarker.*must have a selection/) });
  });

  it('vendor names its input and connection types plainly (introspection)', async () => {
    const { body } = await q(vendor, '{ __schema { types { name kind } } }');
    const names = new Set((body.data.__schema.types as Array<{ name: string }>).map((t) => t.name));
    for (const n of [
      'MomentFilter',
      'MomentOrderBy',
      'TriggerFilter',
      'TriggerOrderBy',
      'StringFilter',
      'IntFilter',
      'MomentConnection',
      'TriggerConnection',
      'TriggerMarker',
      'MomentValue',
      'MomentTriggerSnapshot',
      'TriggerCriteria',
    ])
      expect(names).toContain(n);
    expect([...names].filter((n) => n.startsWith('Model') || n === 'AWSJSON')).toEqual([]);
  });

  it('amplify serves Model…Input names, AWSJSON strings for marker/triggerMarker/triggerObject and ids as numeric strings', async () => {
    expect(amplify.schema).toBe('amplify');
    const { body } = await q(
      amplify,
      `query ($filter: ModelMomentFilterInput) {
        listMoments(filter: $filter, orderBy: [{ createdAt: ASC }]) { items { clientId athleteId eventId triggerMarker triggerObject matches { metric value } } }
        getTrigger(publicId: "trg_1") { clientId isActive marker }
      }`,
      // A client may send numbers or strings for an ID operand: both match.
      { filter: { eventId: { eq: 3 }, athleteId: { eq: '7' } } },
    );
    expect(body.errors).toBeUndefined();
    const [m] = body.data.listMoments.items;
    expect(m).toMatchObject({ clientId: '4', athleteId: '7', eventId: '3', triggerMarker: '{"color":"red"}', matches: [{ metric: 'heartrate', value: 181 }] });
    expect(JSON.parse(m.triggerObject)).toMatchObject({ publicId: 'trg_1', clientId: 4, marker: { color: 'red', icon: 'heart' } });
    expect(body.data.getTrigger).toEqual({ clientId: '4', isActive: 1, marker: '{"color":"red","icon":"heart"}' });
    const wrongNames = await q(amplify, 'query ($f: MomentFilter) { listMoments(filter: $f) { items { publicId } } }', { f: {} });
    expect(wrongNames.body.errors?.[0]?.message).toMatch(/Unknown type "MomentFilter"/);
  });

  it('introspection: false refuses __schema and __type like a disabled AppSync API; __typename and normal queries still work', async () => {
    expect(closed.introspection).toBe(false);
    const full = await q(closed, getIntrospectionQuery());
    expect(full.status).toBe(200);
    expect(full.body.data).toBeNull();
    expect(full.body.errors?.[0]).toMatchObject({
      errorType: 'ValidationError',
      message: "Validation error of type FieldUndefined: Field '__schema' in type 'Query' is undefined @ '__schema'",
    });
    const type = await q(closed, '{ __type(name: "Moment") { name } }');
    expect(type.body.errors?.[0]?.message).toMatch(/'__type'/);
    const normal = await q(closed, '{ __typename getMoment(publicId: "mom_1") { __typename publicId athleteId } }');
    expect(normal.body).toEqual({ data: { __typename: 'Query', getMoment: { __typename: 'Moment', publicId: 'mom_1', athleteId: 7 } } });
    // The same switch left on answers introspection.
    expect((await q(vendor, '{ __type(name: "Moment") { name } }')).body.data).toEqual({ __type: { name: 'Moment' } });
  });

  it('a subscription POSTed to the HTTP endpoint is an error, not data', async () => {
    const { status, body } = await q(vendor, 'subscription { onCreateMoment { publicId } }');
    expect(status).toBe(400);
    expect(body).toEqual({ errors: [{ errorType: 'BadRequestException', message: 'Subscriptions over MQTT is not supported.' }] });
  });
});
