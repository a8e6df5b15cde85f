import type { IncomingMessage, ServerResponse } from 'node:http';
import { FaultQueue, listen, readBody, sendJson, sleep } from '../http-util.js';

/**
 * A local server speaking the part of the Slack Web API the bridge uses (`chat.postMessage`,
 * `auth.test`), for tests and the demo: point `@slack/web-api` at `url` with `slackApiUrl`.
 *
 * Like Slack it answers HTTP 200 with `{ ok: false, error }` for API errors, HTTP 429 with
 * `Retry-After` (whole seconds) when a channel gets more than one message per interval, accepts
 * form-encoded and JSON bodies, and takes the token from `Authorization: Bearer` or the body.
 */
export interface SlackApiServerOptions {
  host?: string;
  /** @defaultValue 0 (any free port) */
  port?: number;
  /** Accepted tokens. @defaultValue any token starting with `xoxb-` */
  tokens?: string[];
  /**
   * Known channels by name (without `#`). A channel not listed answers `channel_not_found`;
   * `member: false` answers `not_in_channel`. @defaultValue every channel exists and the bot is in it
   */
  channels?: Record<string, { id?: string; member?: boolean }>;
  /** Minimum spacing of accepted messages per channel; 0 turns the limit off. @defaultValue 1000 */
  perChannelIntervalMs?: number;
  /** The clock used for rate limiting and `ts` (tests pass a manual clock). @defaultValue Date.now */
  now?: () => number;
}

/** A message the server accepted, as Slack would store it. */
export interface SlackReceivedMessage {
  channel: string;
  channelName: string;
  ts: string;
  text?: string;
  blocks?: Record<string, unknown>[];
  thread_ts?: string;
  username?: string;
  icon_emoji?: string;
  icon_url?: string;
  /** Clock time (options.now) when it was accepted. */
  receivedAt: number;
}

/** Every request, accepted or not: what the burst tests count. */
export interface SlackRequestRecord {
  method: string;
  status: number;
  ok: boolean;
  error?: string;
  channel?: string;
  retryAfter?: number;
  at: number;
}

export type SlackFault = { error: string } | { status: number; retryAfter?: number } | { delayMs: number };

export interface SlackApiServer {
  /** Base URL for `slackApiUrl` (ends with `/`). */
  url: string;
  received: SlackReceivedMessage[];
  requests: SlackRequestRecord[];
  /** The next `times` chat.postMessage calls answer `{ ok: false, error }`. */
  injectError(error: string, times?: number): void;
  /** The next `times` calls answer this HTTP status (429 with `Retry-After: retryAfter`). */
  injectStatus(status: number, times?: number, retryAfter?: number): void;
  /** The next `times` calls wait this long before answering. */
  injectDelay(delayMs: number, times?: number): void;
  /** Forgets received messages, requests, faults and rate-limit state. */
  reset(): void;
  stop(): Promise<void>;
}

/** Block Kit checks that Slack reports as `invalid_blocks`. */
const KNOWN_BLOCKS = new Set(['header', 'section', 'context', 'divider', 'actions', 'image', 'rich_text', 'input', 'file', 'video', 'markdown']);

export async function startSlackApiServer(options: SlackApiServerOptions = {}): Promise<SlackApiServer> {
  const now = options.now ?? Date.now;
  const interval = options.perChannelIntervalMs ?? 1000;
  const received: SlackReceivedMessage[] = [];
  const requests: SlackRequestRecord[] = [];
  const faults = new FaultQueue<SlackFault>();
  const lastPost = new Map<string, number>();
  let seq = 0;

  const channelOf = (raw: string): { id: string; name: string; member: boolean } | undefined => {
    const name = raw.replace(/^#/, '');
    if (!options.channels) return { id: /^[CGD][A-Z0-9]{6,}$/.test(name) ? name : `C${name.toUpperCase().replace(/[^A-Z0-9]/g, '')}0`, name, member: true };
    for (const [n, c] of Object.entries(options.channels)) {
      const id = c.id ?? `C${n.toUpperCase().replace(/[^A-Z0-9]/g, '')}0`;
      if (n === name || id === name) return { id, name: n, member: c.member ?? true };
    }
    return undefined;
  };

  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://local');
    const method = url.pathname.replace(/^\/api\//, '');
    const record = (status: number, body: { ok: boolean; error?: string }, extra: Partial<SlackRequestRecord> = {}) => {
      requests.push({ method, status, ok: body.ok, ...(body.error ? { error: body.error } : {}), at: now(), ...extra });
    };
    const answer = (
      status: number,
      body: Record<string, unknown> & { ok: boolean; error?: string },
      extra: Partial<SlackRequestRecord> = {},
      headers: Record<string, string> = {},
    ) => {
      record(status, body, extra);
      sendJson(res, status, body, headers);
    };
    if (req.method !== 'POST' && req.method !== 'GET') return answer(405, { ok: false, error: 'method_not_allowed' });
    const raw = await readBody(req);
    const args = parseArgs(raw, req.headers['content-type'] ?? '', url.searchParams);

    const fault = faults.next();
    if (fault && 'delayMs' in fault) await sleep(fault.delayMs);
    else if (fault && 'status' in fault) {
      const headers: Record<string, string> = fault.retryAfter !== undefined ? { 'retry-after': String(fault.retryAfter) } : {};
      // The channel asked for, so a test can check each sender waited out Retry-After.
      const asked = typeof args.channel === 'string' ? { channel: args.channel.replace(/^#/, '') } : {};
      return answer(
        fault.status,
        { ok: false, error: fault.status === 429 ? 'ratelimited' : 'http_error' },
        { ...asked, ...(fault.retryAfter !== undefined ? { retryAfter: fault.retryAfter } : {}) },
        headers,
      );
    } else if (fault && 'error' in fault) return answer(200, { ok: false, error: fault.error });

    const auth = req.headers.authorization;
    const token = auth?.startsWith('Bearer ') ? auth.slice(7) : typeof args.token === 'string' ? args.token : undefined;
    if (!token) return answer(200, { ok: false, error: 'not_authed' });
    const tokenOk = options.tokens ? options.tokens.includes(token) : token.startsWith('xoxb-');
    if (!tokenOk) return answer(200, { ok: false, error: 'invalid_auth' });

    if (method === 'auth.test')
      return answer(200, {
        ok: true,
        url: 'https://simulated.slack.com/',
        team: 'Simulated',
        user: 'moments-bridge',
        team_id: 'T0SIM',
        user_id: 'U0BRIDGE',
        bot_id: 'B0BRIDGE',
      });
    if (method !== 'chat.postMessage') return answer(200, { ok: false, error: 'unknown_method' });

    const channelArg = typeof args.channel === 'string' ? args.channel : '';
    if (!channelArg) return answer(200, { ok: false, error: 'channel_not_found' });
    const channel = channelOf(channelArg);
    if (!channel) return answer(200, { ok: false, error: 'channel_not_found' }, { channel: channelArg });

    // Slack: "1 message per second per channel, short bursts allowed"; here strictly one per interval.
    const t = now();
    const last = lastPost.get(channel.id);
    if (interval > 0 && last !== undefined && t - last < interval) {
      const retryAfter = Math.max(1, Math.ceil((interval - (t - last)) / 1000));
      return answer(429, { ok: false, error: 'ratelimited' }, { channel: channel.name, retryAfter }, { 'retry-after': String(retryAfter) });
    }
    if (!channel.member) return answer(200, { ok: false, error: 'not_in_channel' }, { channel: channel.name });

    const text = typeof args.text === 'string' ? args.text : undefined;
    let blocks: Record<string, unknown>[] | undefined;
    if (args.blocks !== undefined) {
      const problem = blockProblem(args.blocks);
      if (problem)
        return answer(200, { ok: false, error: 'invalid_blocks', response_metadata: { messages: [`[ERROR] ${problem}`] } }, { channel: channel.name });
      blocks = (typeof args.blocks === 'string' ? JSON.parse(args.blocks) : args.blocks) as Record<string, unknown>[];
    }
    if (!text && !blocks?.length) return answer(200, { ok: false, error: 'no_text' }, { channel: channel.name });
    if (text && text.length > 40_000) return answer(200, { ok: false, error: 'msg_too_long' }, { channel: channel.name });
    const threadTs = typeof args.thread_ts === 'string' && args.thread_ts ? args.thread_ts : undefined;
    if (threadTs && !received.some((m) => m.channel === channel.id && m.ts === threadTs)) {
      return answer(200, { ok: false, error: 'thread_not_found' }, { channel: channel.name });
    }

    lastPost.set(channel.id, t);
    seq += 1;
    const ts = `${Math.floor(t / 1000)}.${String(seq).padStart(6, '0')}`;
    const message: SlackReceivedMessage = {
      channel: channel.id,
      channelName: channel.name,
      ts,
      ...(text !== undefined ? { text } : {}),
      ...(blocks ? { blocks } : {}),
      ...(threadTs ? { thread_ts: threadTs } : {}),
      ...(typeof args.username === 'string' ? { username: args.username } : {}),
      ...(typeof args.icon_emoji === 'string' ? { icon_emoji: args.icon_emoji } : {}),
      ...(typeof args.icon_url === 'string' ? { icon_url: args.icon_url } : {}),
      receivedAt: t,
    };
    received.push(message);
    return answer(
      200,
      {
        ok: true,
        channel: channel.id,
        ts,
        message: { type: 'message', bot_id: 'B0BRIDGE', text: text ?? '', ts, ...(threadTs ? { thread_ts: threadTs } : {}) },
      },
      { channel: channel.name },
    );
  };

  const http = await listen(handler, options);
  return {
    url: `${http.origin}/api/`,
    received,
    requests,
    injectError: (error, times = 1) => faults.add({ error }, times),
    injectStatus: (status, times = 1, retryAfter) => faults.add({ status, ...(retryAfter !== undefined ? { retryAfter } : {}) }, times),
    injectDelay: (delayMs, times = 1) => faults.add({ delayMs }, times),
    reset: () => {
      received.length = 0;
      requests.length = 0;
      faults.clear();
      lastPost.clear();
    },
    stop: http.close,
  };
}

function parseArgs(raw: string, contentType: string, query: URLSearchParams): Record<string, unknown> {
  const args: Record<string, unknown> = Object.fromEntries(query);
  if (!raw) return args;
  if (contentType.includes('application/json')) {
    try {
      return { ...args, ...(JSON.parse(raw) as Record<string, unknown>) };
    } catch {
      return { ...args, __invalid_json: true };
    }
  }
  return { ...args, ...Object.fromEntries(new URLSearchParams(raw)) };
}

function blockProblem(value: unknown): string | undefined {
  let blocks: unknown = value;
  if (typeof value === 'string') {
    try {
      blocks = JSON.parse(value);
    } catch {
      return 'blocks is not valid JSON';
    }
  }
  if (!Array.isArray(blocks)) return 'blocks must be an array';
  if (blocks.length > 50) return 'no more than 50 items allowed [json-pointer:/blocks]';
  for (const [i, b] of blocks.entries()) {
    const block = b as { type?: unknown; text?: { type?: unknown; text?: unknown }; fields?: unknown; elements?: unknown };
    if (typeof block?.type !== 'string' || !KNOWN_BLOCKS.has(block.type)) return `unsupported type [json-pointer:/blocks/${i}/type]`;
    const text = block.text?.text;
    if (block.type === 'header') {
      if (block.text?.type !== 'plain_text' || typeof text !== 'string' || text.length === 0 || text.length > 150)
        return `must be plain_text of 1-150 characters [json-pointer:/blocks/${i}/text]`;
    }
    if (block.type === 'section') {
      if (text === undefined && block.fields === undefined) return `must provide either text or fields [json-pointer:/blocks/${i}]`;
      if (typeof text === 'string' && text.length > 3000) return `must be less than 3001 characters [json-pointer:/blocks/${i}/text/text]`;
      if (block.fields !== undefined) {
        if (!Array.isArray(block.fields) || block.fields.length > 10) return `no more than 10 items allowed [json-pointer:/blocks/${i}/fields]`;
        for (const [j, f] of (block.fields as { text?: unknown }[]).entries()) {
          if (typeof f?.text !== 'string' || f.text.length > 2000) return `must be less than 2001 characters [json-pointer:/blocks/${i}/fields/${j}/text]`;
        }
      }
    }
    if (block.type === 'context' && (!Array.isArray(block.elements) || block.elements.length === 0 || block.elements.length > 10)) {
      return `must have 1-10 elements [json-pointer:/blocks/${i}/elements]`;
    }
  }
  return undefined;
}
