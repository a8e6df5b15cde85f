import { z } from 'zod';

/**
 * The Observer wire protocol (docs/observer-protocol.md): JSON text messages over one WebSocket.
 * This is the only module that knows the message shapes; the client, the simulator and the
 * stand-in SDK all encode and decode through it, so a protocol change is made here once.
 */

/** WebSocket subprotocol both sides must agree on; a server that does not speak it refuses the upgrade. */
export const OBSERVER_SUBPROTOCOL = 'observer.v1';

/** Close codes the server uses (4000–4999 are application codes in RFC 6455). */
export const CLOSE_CODES = {
  /** The access token was missing or rejected: reconnecting with the same token will not help. */
  unauthorized: 4401,
  /** The client did not authenticate in time. */
  authTimeout: 4408,
  /** The server is shutting down or dropped the session on purpose; reconnect with backoff. */
  goingAway: 1001,
} as const;

/** Error codes carried in `error.code` of an error response or a frame `error` event. */
export const ERROR_CODES = [
  'unauthorized', // bad or expired access token (authenticate only)
  'unauthenticated', // a request before authenticate succeeded
  'bad_request', // params do not match the method's schema
  'unknown_method',
  'not_found', // unknown call, client, resource or frame id
  'rate_limited',
  'internal', // server-side failure; the request may be retried
  'unavailable', // the server cannot serve the request now; retry later
] as const;
export type ObserverErrorCode = (typeof ERROR_CODES)[number];

export const METHODS = [
  'authenticate',
  'findCalls',
  'fetchOngoingCalls',
  'getSummaryStats',
  'createFrame',
  'updateFrame',
  'closeFrame',
  // ObserverAdminClient (seed 001); answered by the simulator, used by the source's `admin` poller.
  'getWorkerState',
  'getServerState',
  'listJobs',
  'startJob',
  'cancelJob',
  'cleanFailedJobs',
  'cleanCompletedJobs',
] as const;
export type ObserverMethod = (typeof METHODS)[number];

const errorBody = z
  .object({
    code: z.string().describe('One of ERROR_CODES; unknown codes are kept as they are.'),
    message: z.string().describe('Human-readable explanation.'),
  })
  .loose();
export type ErrorBody = z.output<typeof errorBody>;

const requestId = z.string().min(1).max(64).describe('Chosen by the client, unique per connection; echoed in the answer.');

/** Frame kinds a `createFrame` request may open. */
export const FRAME_KINDS = ['callSnapshots', 'clientSnapshots', 'database'] as const;
export type FrameKind = (typeof FRAME_KINDS)[number];

export const createFrameParams = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('callSnapshots'), callId: z.string().min(1) }).strict(),
  z.object({ kind: z.literal('clientSnapshots'), callId: z.string().min(1), clientId: z.string().min(1) }).strict(),
  z
    .object({
      kind: z.literal('database'),
      resourceId: z.string().min(1),
      conditions: z.record(z.string(), z.unknown()).default({}),
    })
    .strict(),
]);
export type CreateFrameParams = z.input<typeof createFrameParams>;

// ---- client → server -------------------------------------------------------------------------

const requestMessage = z
  .object({
    type: z.literal('request'),
    requestId,
    method: z.string().min(1),
    params: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();
const pingMessage = z.object({ type: z.literal('ping'), nonce: z.string().max(64) }).strict();

export const clientMessage = z.discriminatedUnion('type', [requestMessage, pingMessage]);
export type ClientMessage = z.input<typeof clientMessage>;
export type DecodedClientMessage = z.output<typeof clientMessage>;

// ---- server → client -------------------------------------------------------------------------

const responseMessage = z.object({ type: z.literal('response'), requestId, result: z.unknown() }).strict();
const errorMessage = z.object({ type: z.literal('error'), requestId, error: errorBody }).strict();
const pongMessage = z.object({ type: z.literal('pong'), nonce: z.string().max(64) }).strict();
const frameMessage = z.discriminatedUnion('event', [
  z.object({ type: z.literal('frame'), frameId: z.string().min(1), event: z.literal('newrow'), row: z.record(z.string(), z.unknown()) }).strict(),
  z.object({ type: z.literal('frame'), frameId: z.string().min(1), event: z.literal('error'), error: errorBody }).strict(),
  z.object({ type: z.literal('frame'), frameId: z.string().min(1), event: z.literal('close'), reason: z.string().default('closed') }).strict(),
]);

export const serverMessage = z.union([responseMessage, errorMessage, pongMessage, frameMessage]);
export type ServerMessage = z.input<typeof serverMessage>;
export type DecodedServerMessage = z.output<typeof serverMessage>;

// ---- results of the methods ------------------------------------------------------------------

export const authenticateResult = z
  .object({
    sessionId: z.string().describe('Server-chosen id of this session, for logs.'),
    pingIntervalMs: z.number().int().positive().optional().describe('Interval the server suggests for pings.'),
  })
  .loose();
export const createFrameResult = z.object({ frameId: z.string().min(1) }).loose();
export const updateFrameResult = z.object({ rows: z.array(z.record(z.string(), z.unknown())) }).loose();

export const startJobParams = z.object({ type: z.string().min(1), parameters: z.unknown().optional() }).strict();
export const cancelJobParams = z.object({ type: z.string().min(1), jobId: z.string().min(1) }).strict();
export const cleanJobsParams = z.object({ jobIds: z.array(z.string().min(1)).optional() }).strict();

/** A message that could not be decoded: never fatal, the caller counts and logs it. */
export class MalformedMessage {
  constructor(
    readonly reason: string,
    /** The first bytes of the raw message, for the log line. */
    readonly preview: string,
  ) {}
}

const PREVIEW_CHARS = 200;

function decodeWith<T>(schema: z.ZodType<T>, raw: string | Buffer): T | MalformedMessage {
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  const preview = text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS)}…` : text;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return new MalformedMessage(`not JSON: ${(err as Error).message}`, preview);
  }
  const result = schema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
    return new MalformedMessage(`unexpected message shape${where}: ${issue?.message ?? 'invalid'}`, preview);
  }
  return result.data;
}

export function encodeClientMessage(message: ClientMessage): string {
  return JSON.stringify(message);
}

export function decodeClientMessage(raw: string | Buffer): DecodedClientMessage | MalformedMessage {
  return decodeWith(clientMessage, raw);
}

export function encodeServerMessage(message: ServerMessage): string {
  return JSON.stringify(message);
}

export function decodeServerMessage(raw: string | Buffer): DecodedServerMessage | MalformedMessage {
  return decodeWith(serverMessage, raw);
}
