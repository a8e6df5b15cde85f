import { z } from 'zod';
import { secretString } from '../../config/secret.js';
import { ON_CREATE_MOMENT, ON_CREATE_TRIGGER, ON_UPDATE_TRIGGER } from './graphql-documents.js';
import { durationMsField } from '../../config/duration-field.js';

const httpUrl = (description: string) =>
  z
    .string()
    .refine((s) => /^https?:\/\//.test(s) && URL.canParse(s), { message: 'must be an http(s) URL' })
    .describe(description);

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
      .describe('AppSync real-time endpoint. Default: derived from graphqlUrl (appsync-api → appsync-realtime-api, or <graphqlUrl>/realtime on custom domains).'),
    realtimeAuth: z
      .enum(['subprotocol', 'query'])
      .default('subprotocol')
      .describe('How the real-time auth header is sent: `subprotocol` (header-<base64url>, keeps tokens out of URLs) or the older `query` (?header=…&payload=e30=). Default subprotocol.'),
    backfill: durationMsField('On first start, how far back to fetch moments that were created before the bridge ran', '15m'),
    dedupTtl: durationMsField('How long a seen moment id is remembered for de-duplication across back-fill, live stream and replicas', '24h'),
    pageSize: z.number().int().min(1).max(1000).default(100).describe('Moments per listMoments page during back-fill. Default 100.'),
    maxLiveBacklog: z
      .number()
      .int()
      .min(1)
      .default(20_000)
      .describe('Live moments held in memory while the pipeline is busy; past this the source stops holding them and back-fills from its cursor instead (bounds memory under an upstream burst). Default 20000.'),
    reconnect: z
      .strictObject({
        initialDelay: durationMsField('Upper bound of the first reconnect delay (full jitter, doubling per attempt)', '500ms'),
        maxDelay: durationMsField('Largest reconnect delay', '30s'),
      })
      .prefault({})
      .describe('Reconnect backoff of the real-time socket.'),
    subscriptions: z
      .strictObject({
        moments: z.string().min(1).default(ON_CREATE_MOMENT).describe('Subscription document for new moments. Default onCreateMoment.'),
        triggerCreated: z.string().min(1).default(ON_CREATE_TRIGGER).describe('Subscription document for new triggers. Default onCreateTrigger.'),
        triggerUpdated: z.string().min(1).default(ON_UPDATE_TRIGGER).describe('Subscription document for changed triggers. Default onUpdateTrigger.'),
      })
      .prefault({})
      .describe('GraphQL subscription documents; override when the engine names them otherwise.'),
    sdk: z
      .string()
      .min(1)
      .optional()
      .describe('Use the official SDK package (e.g. @dataworks-technology/moments), resolved from the config file directory, instead of the built-in client.'),
  })
  .describe('Moments Engine source: moments and trigger changes as events, gap-free across reconnects and restarts.');

export type MomentsSourceConfig = z.output<typeof momentsSourceConfigSchema>;
