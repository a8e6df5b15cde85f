import { buildSchema, parse, validate, type GraphQLSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { AMPLIFY_SDL } from '../../../simulators/moments/amplify-schema.js';
import { VENDOR_SDL } from '../../../simulators/moments/vendor-schema.js';
import { MomentsGraphqlError } from '../../../src/sources/moments/moments-errors.js';
import { rewriteLowerBound, translateListMomentsArgs } from '../../../src/sources/moments/list-moments-args.js';
import type { ListArgs } from '../../../src/sources/moments/graphql-client.js';
import type { ListMomentsPlan } from '../../../src/sources/moments/operation-documents.js';
import { MOMENTS_OPERATIONS } from '../../../src/sources/moments/operation-documents.js';
import { OperationDiscovery } from '../../../src/sources/moments/schema-discovery.js';

/** The vendor SDL with its createdAt filter offering only `op` (besides eq/lt…). */
const vendorWithOperator = (op: 'gte' | 'gt') =>
  VENDOR_SDL.replace(/input StringFilter \{[^}]*\}/, `input StringFilter { eq: String lt: String ${op}: String }`);
const vendorWithoutOrderBy = VENDOR_SDL.replace(/, orderBy: \[MomentOrderBy!\]\)/, ')');
const vendorSingleOrderBy = VENDOR_SDL.replace('orderBy: [MomentOrderBy!]): MomentConnection', 'orderBy: MomentOrderBy): MomentConnection');

function discovery(sdl: string | undefined, configured: Record<string, string> = {}) {
  return new OperationDiscovery({
    introspect: async () => {
      if (sdl === undefined)
        throw new MomentsGraphqlError('introspection', [{ errorType: 'ValidationError', message: 'GraphQL introspection is not allowed' }]);
      return buildSchema(sdl);
    },
    configured,
    configPath: 'sources.moments',
  });
}

const ASC = [{ createdAt: 'ASC' as const }];
const since = '2026-03-01T10:00:00.000Z';

describe('documents built from the engine schema', () => {
  it.each([
    ['vendor', VENDOR_SDL, 'MomentFilter', '[MomentOrderBy!]', 'TriggerFilter'],
    ['amplify', AMPLIFY_SDL, 'ModelMomentFilterInput', '[ModelMomentOrderByInput]', 'ModelTriggerFilterInput'],
  ])('%s: every operation validates against the schema, with the real type names', async (_variant, sdl, filterType, orderType, triggerFilter) => {
    const schema: GraphQLSchema = buildSchema(sdl);
    const set = await discovery(sdl).resolve();
    expect(Object.keys(set.unavailable)).toEqual([]);
    for (const op of MOMENTS_OPERATIONS) {
      const document = set.operations[op]!.document;
      expect(set.operations[op]!.origin).toBe('introspection');
      expect(validate(schema, parse(document)), `${op}:\n${document}`).toEqual([]);
    }
    expect(set.operations.listMoments!.document).toContain(`$filter: ${filterType}`);
    expect(set.operations.listMoments!.document).toContain(`$orderBy: ${orderType}`);
    expect(set.operations.listMoments!.document).toMatch(/items \{ .*\} totalCount nextToken/);
    expect(set.operations.listTriggers!.document).toContain(`$filter: ${triggerFilter}`);
    expect(set.operations.getMoment!.document).toContain('$publicId: String!');
  });

  it('selects the sub-fields of object fields (vendor) and AWSJSON fields bare (amplify)', async () => {
    const vendor = (await discovery(VENDOR_SDL).resolve()).operations.onCreateMoment!.document;
    expect(vendor).toMatch(/triggerObject \{ publicId clientId .*marker \{ color icon \} criteria \{ datasetDatasourceId metric subMetric type threshold \}/);
    expect(vendor).toMatch(/triggerMarker \{ color icon \}/);
    expect(vendor).toMatch(/matches \{ metric subMetric value/);
    const amplify = (await discovery(AMPLIFY_SDL).resolve()).operations.onCreateMoment!.document;
    expect(amplify).toMatch(/ triggerObject /);
    expect(amplify).not.toMatch(/triggerObject \{/);
  });

  it('skips cycles and fields with required arguments, stays within the depth bound', async () => {
    const sdl = `type Node { id: String! parent: Node children(first: Int!): [Node] tags(limit: Int): [String] a: A }
      type A { b: B } type B { c: C } type C { d: D } type D { e: E } type E { f: F } type F { g: G } type G { h: H } type H { deep: String }
      type MomentConnection { items: [Node] nextToken: String }
      type Query { listMoments(limit: Int): MomentConnection getMoment(publicId: ID!): Node listTriggers: MomentConnection getTrigger(publicId: String!): Node }
      type Subscription { onCreateMoment: Node onCreateTrigger: Node onUpdateTrigger: Node }`;
    const set = await discovery(sdl).resolve();
    const doc = set.operations.getMoment!.document;
    expect(validate(buildSchema(sdl), parse(doc))).toEqual([]);
    expect(doc).not.toContain('parent');
    expect(doc).not.toContain('children');
    expect(doc).toContain('tags');
    expect(doc).not.toContain('deep');
    expect(set.operations.listMoments!.document).toContain('listMoments(limit: $limit)');
  });
});

describe('listMoments: filter operator and order', () => {
  it.each([
    ['ge (vendor)', VENDOR_SDL, { filter: { createdAt: { ge: since } }, orderBy: ASC, limit: 50 }],
    ['gte', vendorWithOperator('gte'), { filter: { createdAt: { gte: since } }, orderBy: ASC, limit: 50 }],
    // Only a strict operator: one millisecond earlier, so moments at the cursor's instant come back.
    ['gt', vendorWithOperator('gt'), { filter: { createdAt: { gt: '2026-03-01T09:59:59.999Z' } }, orderBy: ASC, limit: 50 }],
    ['an orderBy that takes one object', vendorSingleOrderBy, { filter: { createdAt: { ge: since } }, orderBy: { createdAt: 'ASC' }, limit: 50 }],
    ['no orderBy at all', vendorWithoutOrderBy, { filter: { createdAt: { ge: since } }, limit: 50 }],
  ])('%s', async (_name, sdl, expected) => {
    const set = await discovery(sdl).resolve();
    const vars = translateListMomentsArgs({ filter: { createdAt: { ge: since } }, orderBy: ASC, limit: 50 }, set.listMoments);
    expect(vars).toMatchObject(expected);
    if (!('orderBy' in expected)) expect(vars).not.toHaveProperty('orderBy');
    // The variables the document declares are accepted by the schema.
    expect(validate(buildSchema(sdl), parse(set.operations.listMoments!.document))).toEqual([]);
  });
});

describe('documents from config', () => {
  const configuredList =
    'query Mine($since: String, $limit: Int, $nextToken: String) { listMoments(filter: { createdAt: { ge: $since } }, limit: $limit, nextToken: $nextToken) { items { publicId createdAt } nextToken } }';

  it('a configured document wins over discovery', async () => {
    const set = await discovery(VENDOR_SDL, { listMoments: configuredList }).resolve();
    expect(set.operations.listMoments).toMatchObject({ origin: 'config', document: configuredList, variables: new Set(['since', 'limit', 'nextToken']) });
    expect(set.operations.getMoment!.origin).toBe('introspection');
  });

  it('a configured document the schema refuses is reported at once, naming the key', async () => {
    const d = discovery(VENDOR_SDL, { listMoments: 'query L($filter: ModelMomentFilterInput) { listMoments(filter: $filter) { items { publicId } } }' });
    await expect(d.require('listMoments')).rejects.toThrow(
      'listMoments (from sources.moments.documents.listMoments) was rejected by the engine: Unknown type "ModelMomentFilterInput". — fix that document (see docs/moments-engine.md#graphql-documents)',
    );
  });

  it('refused introspection and no document: one message that names the operation, the engine error and the key', async () => {
    const d = discovery(undefined, { listMoments: configuredList });
    await expect(d.require('listMoments')).resolves.toMatchObject({ origin: 'config' });
    const err = await d.require('onCreateMoment').catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'moments_document_missing',
      message:
        'onCreateMoment: the engine refused introspection (Moments GraphQL introspection failed: ValidationError: GraphQL introspection is not allowed) and sources.moments.documents.onCreateMoment is not set: add the subscription there (see docs/moments-engine.md#graphql-documents)',
    });
  });

  it('without a schema, a configured document says itself whether it sorts; `ge` is the filter operator', async () => {
    const withOrder = await discovery(undefined, {
      listMoments: 'query L($filter: MomentFilter, $orderBy: [MomentOrderBy!]) { listMoments(filter: $filter, orderBy: $orderBy) { items { publicId } } }',
    }).resolve();
    expect(withOrder.listMoments).toEqual({ createdAtOperator: 'ge', orderBy: { shape: 'list', ascending: 'ASC' } });
    const bare = await discovery(undefined, { listMoments: configuredList }).resolve();
    expect(bare.listMoments).toEqual({});
  });

  it('a transient introspection failure is thrown, not taken as a refusal, and not cached', async () => {
    let calls = 0;
    const d = new OperationDiscovery({
      introspect: async () => {
        calls += 1;
        if (calls === 1) throw new Error('ECONNRESET');
        return buildSchema(VENDOR_SDL);
      },
      isTransient: (err) => (err as Error).message === 'ECONNRESET',
      configured: {},
      configPath: 'sources.moments',
    });
    await expect(d.resolve()).rejects.toThrow('ECONNRESET');
    await expect(d.require('listMoments')).resolves.toMatchObject({ origin: 'introspection' });
  });
});

// The lower bound is the back-fill's cursor: a wrong rewrite skips moments (lost) or re-reads them.
describe("listMoments arguments in the engine's terms", () => {
  const since = '2026-03-01T10:00:00.000Z';
  const list: ListMomentsPlan = { createdAtOperator: 'ge', orderBy: { shape: 'list', ascending: 'ASC' } };
  it.each<[string, ListArgs, ListMomentsPlan, Record<string, unknown>]>([
    ['no arguments', {}, list, { limit: undefined, nextToken: undefined }],
    ['an empty nextToken is no token', { nextToken: '', limit: 5 }, list, { limit: 5, nextToken: undefined }],
    ['a nextToken and limit pass through', { nextToken: 'abc', limit: 5 }, list, { limit: 5, nextToken: 'abc' }],
    ['ge kept as ge, with $since', { filter: { createdAt: { ge: since } } }, list, { since, filter: { createdAt: { ge: since } } }],
    ['ge as gte', { filter: { createdAt: { ge: since, lt: 'z' } } }, { createdAtOperator: 'gte' }, { since, filter: { createdAt: { gte: since, lt: 'z' } } }],
    [
      'ge as gt one millisecond earlier',
      { filter: { createdAt: { ge: since } } },
      { createdAtOperator: 'gt' },
      { since, filter: { createdAt: { gt: '2026-03-01T09:59:59.999Z' } } },
    ],
    [
      'an unparsable bound kept as given for gt',
      { filter: { createdAt: { ge: 'soon' } } },
      { createdAtOperator: 'gt' },
      { since: 'soon', filter: { createdAt: { gt: 'soon' } } },
    ],
    ['no createdAt filter when the engine cannot filter it', { filter: { createdAt: { ge: since } } }, {}, { since }],
    [
      'other filters kept when createdAt cannot be filtered',
      { filter: { createdAt: { ge: since }, kind: { eq: 'x' } } },
      {},
      { since, filter: { kind: { eq: 'x' } } },
    ],
    ['a createdAt filter without ge is kept', { filter: { createdAt: { lt: 'z' } } }, { createdAtOperator: 'gt' }, { filter: { createdAt: { lt: 'z' } } }],
    ['ascending as a list', { orderBy: [{ createdAt: 'ASC' }] }, list, { orderBy: [{ createdAt: 'ASC' }] }],
    [
      'ascending as the engine spells it, one object',
      { orderBy: [{ createdAt: 'ASC' }] },
      { orderBy: { shape: 'object', ascending: 'asc' } },
      { orderBy: { createdAt: 'asc' } },
    ],
    ['descending passes through', { orderBy: [{ createdAt: 'DESC' }] }, { orderBy: { shape: 'list', ascending: 'asc' } }, { orderBy: [{ createdAt: 'DESC' }] }],
    ['no orderBy when the engine cannot sort', { orderBy: [{ createdAt: 'ASC' }] }, {}, {}],
  ])('%s', (_name, args, plan, expected) => {
    expect(translateListMomentsArgs(args, plan)).toEqual({ limit: undefined, nextToken: undefined, ...expected });
  });

  it('rewriteLowerBound without an operator leaves the filtering to the caller', () => {
    expect(rewriteLowerBound({ ge: since }, undefined)).toBeUndefined();
  });
});
