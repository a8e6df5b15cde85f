import { z } from 'zod';
import { secretString } from '../../core/secret-field.js';
import { Kind, parse, type OperationDefinitionNode } from 'graphql';
import { MOMENTS_OPERATIONS, OPERATION_ROOT, type MomentsOperation } from './operation-documents.js';
import { durationMsField } from '../../core/duration-field.js';

const httpUrl = (description: string) =>
  z
    .string()
    .refine((s) => /^https?:\/\//.test(s) && URL.canParse(s), { message: 'must be an http(s) URL' })
    .describe(description);

/** Why a configured document cannot be the `operation` one, or undefined when it can. */
function documentProblem(text: string, operation: MomentsOperation): string | undefined {
  let ops: OperationDefinitionNode[];
  try {
    ops = parse(text).definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  } catch (err) {
    return `not a GraphQL document: ${(err as Error).message}`;
  }
  if (ops.length !== 1) return `must hold exactly one operation, found ${ops.length}`;
  const expected = OPERATION_ROOT[operation];
  if (ops[0]!.operation !== expected) return `must be a ${expected}, found a ${ops[0]!.operation}`;
  return undefined;
}

const documentField = (operation: MomentsOperation) =>
  z
    .string()
    .min(1)
    .superRefine((text, ctx) => {
      const problem = documentProblem(text, operation);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional()
    .describe(`GraphQL ${OPERATION_ROOT[operation]} document for ${operation}. Default: built from the engine's schema by introspection.`);

export const momentsSourceConfigSchema = z
  .strictObject({
    type: z.literal('moments').describe('Source type: the Moments Engine (Cognito + AppSync GraphQL).'),
    cognitoEndpoint: httpUrl('Cognito endpoint for InitiateAuth, e.g. https://cognito-idp.eu-west-1.amazonaws.com/.'),
    clientId: z.string().min(1).describe('Cognito app client id.'),
    clientSecret: secretString('Cognito app client secret; omit for an app client without a secret').optional(),
    username: z.string().min(1).describe('Moments Engine user name.'),
    password: secretString('Moments Engine password'),
    graphqlUrl: httpUrl('AppSync GraphQL endpoint, e.g. https://xxxx.appsync-api.eu-west-1.amazonaws.com/graphql.'),
    realtimeUrl: z
      .string()
      .refine((s) => /^wss?:\/\//.test(s) && URL.canParse(s), { message: 'must be a ws(s) URL' })
      .optional()
      .describe(
        'AppSync real-time endpoint. Default: derived from graphqlUrl (appsync-api → appsync-realtime-api, or <graphqlUrl>/realtime on custom domains).',
      ),
    realtimeAuth: z
      .enum(['subprotocol', 'query'])
      .default('subprotocol')
      .describe(
        'How the real-time auth header is sent: `subprotocol` (header-<base64url>, keeps tokens out of URLs) or the older `query` (?header=…&payload=e30=). Default subprotocol.',
      ),
    backfill: durationMsField('On first start, how far back to fetch moments that were created before the bridge ran', '15m'),
    dedupTtl: durationMsField('How long a seen moment id is remembered for de-duplication across back-fill, live stream and replicas', '24h'),
    pageSize: z.number().int().min(1).max(1000).default(100).describe('Moments per listMoments page during back-fill. Default 100.'),
    maxLiveBacklog: z
      .number()
      .int()
      .min(1)
      .default(20_000)
      .describe(
        'Live moments held in memory while the pipeline is busy; past this the source stops holding them and back-fills from its cursor instead (bounds memory under an upstream burst). Default 20000.',
      ),
    reconnect: z
      .strictObject({
        initialDelay: durationMsField('Upper bound of the first reconnect delay (full jitter, doubling per attempt)', '500ms'),
        maxDelay: durationMsField('Largest reconnect delay', '30s'),
      })
      .prefault({})
      .describe('Reconnect backoff of the real-time socket.'),
    documents: z
      .strictObject(Object.fromEntries(MOMENTS_OPERATIONS.map((op) => [op, documentField(op)])) as Record<MomentsOperation, ReturnType<typeof documentField>>)
      .optional()
      .describe(
        "GraphQL documents, one per operation. By default the bridge builds each from the engine's schema (introspection); a document given here always wins. Set them when the engine refuses introspection. A listMoments document may declare `$filter` (gets `{ createdAt: { ge: <cursor> } }`), `$since` (gets the cursor as an ISO string), `$orderBy`, `$limit`, `$nextToken`; only declared variables are sent.",
      ),
    subscriptions: z
      .strictObject({
        moments: z.string().min(1).optional().describe('Deprecated: use documents.onCreateMoment.'),
        triggerCreated: z.string().min(1).optional().describe('Deprecated: use documents.onCreateTrigger.'),
        triggerUpdated: z.string().min(1).optional().describe('Deprecated: use documents.onUpdateTrigger.'),
      })
      .optional()
      .describe('Deprecated alias of documents.onCreateMoment / onCreateTrigger / onUpdateTrigger (documents.* wins).'),
    backfillEvery: durationMsField(
      'With an SDK that reports no connection state (`sdk:`), how often to back-fill anyway, so a gap the SDK hides after its own reconnect is still closed; each run re-reads twice this period before the cursor',
      '1m',
    ),
    sdk: z
      .string()
      .min(1)
      .optional()
      .describe('Use the official SDK package (e.g. @dataworks-technology/moments), resolved from the config file directory, instead of the built-in client.'),
  })
  .describe('Moments Engine source: moments and trigger changes as events, gap-free across reconnects and restarts.');

export type MomentsSourceConfig = z.output<typeof momentsSourceConfigSchema>;

/** The configured documents, with the deprecated `subscriptions` keys filling what `documents` leaves unset. */
export function configuredDocuments(config: Pick<MomentsSourceConfig, 'documents' | 'subscriptions'>): Partial<Record<MomentsOperation, string>> {
  const legacy = config.subscriptions;
  const out: Partial<Record<MomentsOperation, string>> = {
    onCreateMoment: legacy?.moments,
    onCreateTrigger: legacy?.triggerCreated,
    onUpdateTrigger: legacy?.triggerUpdated,
  };
  for (const [op, text] of Object.entries(config.documents ?? {})) if (text) out[op as MomentsOperation] = text;
  for (const op of MOMENTS_OPERATIONS) if (!out[op]) delete out[op];
  return out;
}
