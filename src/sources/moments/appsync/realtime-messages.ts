/**
 * The messages of the AWS AppSync real-time protocol
 * (https://docs.aws.amazon.com/appsync/latest/devguide/real-time-websocket-client.html): the
 * handshake's auth header, `start`, and reading what the server sends. No socket here: the
 * connection (realtime-client.ts) decides what to do with each message.
 */

export type RealtimeAuthMode = 'subprotocol' | 'query';

export type GraphqlErrors = Array<{ errorType?: string; message?: string; errorCode?: number }>;

/** A message from the server, as far as the client reads it (every field may be missing or wrong). */
export interface ServerMessage {
  type?: unknown;
  id?: unknown;
  payload?: Record<string, unknown> & { errors?: GraphqlErrors };
}

/** AppSync's documented keep-alive timeout, used when the peer sends none or nonsense. */
export const APPSYNC_CONNECTION_TIMEOUT_MS = 300_000;

/** The message parsed, or undefined when it is not a JSON object. */
export function parseServerMessage(text: string): ServerMessage | undefined {
  try {
    const message = JSON.parse(text) as unknown;
    return message !== null && typeof message === 'object' ? (message as ServerMessage) : undefined;
  } catch {
    return undefined;
  }
}

/** The URL and WebSocket subprotocols of the handshake, carrying the auth header the way `auth` says. */
export function handshakeRequest(url: string, host: string, token: string, auth: RealtimeAuthMode): { url: string; protocols: string[] } {
  const header = JSON.stringify({ host, Authorization: token });
  if (auth === 'subprotocol') return { url, protocols: ['graphql-ws', `header-${Buffer.from(header).toString('base64url')}`] };
  // The older form: the header in the query string (ends up in proxy logs; fallback only).
  const u = new URL(url);
  u.searchParams.set('header', Buffer.from(header).toString('base64'));
  u.searchParams.set('payload', 'e30=');
  return { url: u.toString(), protocols: ['graphql-ws'] };
}

/** The `start` message of one subscription; AppSync checks the auth again per subscription. */
export function startMessage(id: string, query: string, variables: Record<string, unknown>, host: string, token: string): Record<string, unknown> {
  return {
    id,
    type: 'start',
    payload: {
      data: JSON.stringify({ query, variables }),
      extensions: { authorization: { host, Authorization: token } },
    },
  };
}

/** Whether a `connection_error` says the token was refused (a fresh one is fetched before reconnecting). */
export function isUnauthorized(errors: GraphqlErrors | undefined): boolean {
  return Boolean(errors?.some((e) => e !== null && typeof e === 'object' && (String(e.errorType).startsWith('Unauthorized') || e.errorCode === 401)));
}

export function describeErrors(errors: Array<{ errorType?: unknown; message?: unknown }> | undefined): string {
  if (!errors?.length) return 'no details';
  return errors
    .map((e) => (e !== null && typeof e === 'object' ? [e.errorType, e.message].filter(Boolean).map(String).join(': ') : String(e)))
    .join('; ')
    .slice(0, 500);
}

/**
 * The peer's keep-alive timeout (`connection_ack`'s connectionTimeoutMs) within bounds: an absurd
 * one would overflow the timer (fires at once) or never fire. `onClamp` hears what was replaced.
 */
export function keepAliveTimeout(raw: unknown, bounds: { minMs: number; maxMs: number }, onClamp: (message: string) => void): number {
  const value = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN;
  if (!Number.isFinite(value)) {
    if (raw !== undefined) onClamp(`connectionTimeoutMs ${JSON.stringify(raw)} is not a number; using AppSync's ${APPSYNC_CONNECTION_TIMEOUT_MS} ms`);
    return APPSYNC_CONNECTION_TIMEOUT_MS;
  }
  const { minMs, maxMs } = bounds;
  const bounded = Math.min(maxMs, Math.max(minMs, Math.round(value)));
  if (bounded !== value) onClamp(`connectionTimeoutMs ${value} is outside ${minMs}…${maxMs} ms; using ${bounded} ms`);
  return bounded;
}
