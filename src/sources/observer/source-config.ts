import { z } from 'zod';
import { secretString } from '../../core/secret-field.js';
import { durationMsField } from '../../core/duration-field.js';

const record = z.record(z.string(), z.unknown());

const ongoingCallsOptions = z
  .object({
    pollEvery: durationMsField('How often to call fetchOngoingCalls to discover new and ended calls', '30s'),
    frames: z
      .array(z.enum(['callSnapshots', 'clientSnapshots']))
      .min(1)
      .default(['callSnapshots'])
      .describe(
        'Frames to open for every ongoing call: callSnapshots (one per call) and/or clientSnapshots (one per client in the call). Default [callSnapshots].',
      ),
  })
  .strict();

const ongoingCallsFrame = z
  .object({
    ongoingCalls: z
      .union([z.literal(true).transform(() => ongoingCallsOptions.parse({})), ongoingCallsOptions])
      .describe('Follow every ongoing call: `true` for the defaults, or { pollEvery, frames }. Emits observer.call.started / observer.call.ended.'),
  })
  .strict();

const callSnapshotsFrame = z
  .object({
    callSnapshots: z
      .object({ callId: z.string().min(1).describe('Id of the call to follow.') })
      .strict()
      .describe('Follow the call snapshots of one call.'),
  })
  .strict();

const clientSnapshotsFrame = z
  .object({
    clientSnapshots: z
      .object({
        callId: z.string().min(1).describe('Id of the call.'),
        clientId: z.string().min(1).describe('Id of the client in that call.'),
      })
      .strict()
      .describe('Follow the WebRTC stats snapshots of one client.'),
  })
  .strict();

const databaseFrame = z
  .object({
    database: z
      .object({
        resource: z.string().min(1).describe('Database resource id (createDatabaseFrame resourceId).'),
        conditions: record.default({}).describe('Conditions passed to createDatabaseFrame; default {} (all rows).'),
      })
      .strict()
      .describe('Follow the rows of a database resource.'),
  })
  .strict();

const summaryStatsFrame = z
  .object({
    summaryStats: z
      .object({
        every: durationMsField('How often to call getSummaryStats', '1m'),
        params: record.default({}).describe('Parameters passed to getSummaryStats; default {}.'),
      })
      .strict()
      .describe('Emit an observer.summary event with getSummaryStats(params) every `every`.'),
  })
  .strict();

export const observerFrameSchema = z
  .union([ongoingCallsFrame, callSnapshotsFrame, clientSnapshotsFrame, databaseFrame, summaryStatsFrame])
  .describe('One thing to follow: exactly one of ongoingCalls, callSnapshots, clientSnapshots, database, summaryStats.');
export type ObserverFrameConfig = z.output<typeof observerFrameSchema>;

export const observerSourceConfigSchema = z
  .object({
    type: z.literal('observer').describe('Observer WebRTC call monitoring (docs/observer-protocol.md).'),
    url: z
      .string()
      .regex(/^wss?:\/\/\S+$/, 'must be a ws:// or wss:// URL')
      .describe('WebSocket URL of the Observer service, e.g. wss://observer.example.com/ws.'),
    accessToken: secretString('Access token sent when connecting (read again on every reconnect)'),
    frames: z
      .array(observerFrameSchema)
      .min(1)
      .prefault([{ ongoingCalls: true }])
      .describe('What to follow. Default [{ ongoingCalls: true }].'),
    requestTimeout: durationMsField('How long a request may wait for its answer before it fails (the source keeps running)', '10s'),
    pingInterval: durationMsField('Liveness ping interval; a connection silent for two intervals is dropped and re-opened', '15s'),
    reconnect: z
      .object({
        initialDelay: durationMsField('Upper bound of the first reconnect delay (full jitter: a random delay up to the bound)', '500ms'),
        maxDelay: durationMsField('Cap of the exponentially growing reconnect delay; also the retry delay after an auth failure', '30s'),
      })
      .strict()
      .prefault({})
      .describe('Reconnect backoff after a dropped or refused connection.'),
    maxMessageBytes: z
      .number()
      .int()
      .min(1024)
      .default(16 * 1024 * 1024)
      .describe(
        'Largest WebSocket message accepted from the Observer service, in bytes; a bigger one drops the connection (logged, counted in mb_observer_oversized_messages_total) and the source reconnects. The largest normal message is an updateFrame answer holding all rows of a frame (≈ 0.5 KiB per row). Built-in client only. @defaultValue 16777216 (16 MiB)',
      ),
    dedupTtl: durationMsField('How long row ids are remembered in Redis so a row re-sent after a reconnect is not emitted twice', '24h'),
    admin: z
      .object({
        pollEvery: durationMsField('How often to poll getWorkerState, getServerState and listJobs', '30s'),
      })
      .strict()
      .optional()
      .describe(
        'Poll the ObserverAdminClient calls and emit observer.worker.state, observer.server.state and observer.job.state events on every state change (a worker missing from the list has state "missing"). Off when absent.',
      ),
    sdk: z
      .string()
      .min(1)
      .optional()
      .describe('Load this package (e.g. "@huddle01/observer-client-sdk"), resolved from the config file directory, instead of the built-in client.'),
  })
  .strict();

export type ObserverSourceConfig = z.output<typeof observerSourceConfigSchema>;
