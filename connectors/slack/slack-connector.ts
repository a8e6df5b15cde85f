import { AsyncLocalStorage } from 'node:async_hooks';
import {
  LogLevel,
  WebAPIHTTPError,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebAPIRequestError,
  WebClient,
  type ChatPostMessageArguments,
  type FetchFunction,
  type Logger as SlackLogger,
} from '@slack/web-api';
import {
  delivered,
  permanent,
  retryable,
  type Connector,
  type ConnectorContext,
  type Delivery,
  type DeliveryResult,
  type PayloadRenderer,
} from '../connector.js';
import { parseOverrides } from '../lib/overrides.js';
import { classifyHttpResponse, networkFailure } from '../lib/http-result.js';
import { createLeanFetch } from '../lib/lean-fetch.js';
import type { BridgeEvent } from '../../src/core/event.js';
import { errorMessage, InputError, PayloadError } from '../../src/core/errors.js';
import type { Logger } from '../../src/core/log.js';
import { compilePayload, compileTemplate, escapeMrkdwn, type PayloadTemplate, type Template } from '../../src/templates/template-engine.js';
import { slackOverridesSchema, type SlackConfig } from './config.js';
import { defaultBlocks, defaultText, SLACK_LIMITS, type SlackBlock } from './slack-layout.js';

/** What is queued for one Slack delivery: the chat.postMessage arguments, rendered at enqueue time. */
export interface SlackPayload {
  channel: string;
  text: string;
  blocks?: SlackBlock[];
  username?: string;
  icon_emoji?: string;
  icon_url?: string;
  /** Rendered `threadBy` key: the thread ts is looked up in Redis at delivery time. */
  threadKey?: string;
}

/**
 * `ok: false` errors that no retry can fix (https://docs.slack.dev/reference/methods/chat.postMessage#errors).
 * Unknown platform errors are permanent too: Slack reports transient trouble as HTTP 5xx/429 or
 * the few codes in RETRYABLE_ERRORS.
 */
const RETRYABLE_ERRORS = new Set(['ratelimited', 'internal_error', 'fatal_error', 'service_unavailable', 'request_timeout', 'team_added_to_org']);
/** The parent message of a remembered thread is gone: forget the thread and post a new parent. */
const STALE_THREAD_ERRORS = new Set(['thread_not_found', 'message_not_found', 'invalid_thread_ts']);

export class SlackConnector implements Connector<SlackPayload> {
  /** Slack allows about one message per second per channel (https://docs.slack.dev/apis/web-api/rate-limits). */
  // One message per second per channel (Slack's documented limit), one at a time so a channel reads in event order.
  readonly defaults = { rateLimit: { max: 1, duration: 1000 }, concurrency: 1 };

  private readonly client: WebClient;
  private readonly attemptSignal = new AsyncLocalStorage<AbortSignal>();
  private readonly threadTtlSeconds: number;
  /** node:http instead of the global fetch: see lean-fetch.ts for why (latency tail). */
  private readonly fetch = createLeanFetch();

  constructor(
    private readonly config: SlackConfig,
    private readonly ctx: ConnectorContext,
  ) {
    this.threadTtlSeconds = Math.max(1, Math.round(config.threadTtl / 1000));
    // The client is shared, but each attempt has its own timeout signal: the fetch wrapper picks
    // it up from the async context of the deliver() call.
    const fetchWithSignal: FetchFunction = (url, init) => {
      const attempt = this.attemptSignal.getStore();
      const signal = attempt && init?.signal ? AbortSignal.any([attempt, init.signal]) : (attempt ?? init?.signal);
      return this.fetch(url, { ...init, ...(signal ? { signal } : {}) } as RequestInit);
    };
    this.client = new WebClient(config.token, {
      slackApiUrl: config.apiUrl,
      // The queue owns retries: no silent 429 pauses, no 30-minute retry loops inside the client.
      rejectRateLimitedCalls: true,
      retryConfig: { retries: 0 },
      fetch: fetchWithSignal,
      logger: slackLogger(ctx.logger.child({ connector: ctx.name, component: 'slack-web-api' })),
    });
  }

  async close(): Promise<void> {
    this.fetch.destroy();
  }

  renderer(overrides: Record<string, unknown> = {}): PayloadRenderer {
    const where = `connector ${this.ctx.name}`;
    const o = parseOverrides(slackOverridesSchema, overrides, where);
    const channelSource = o.channel ?? this.config.channel;
    if (!channelSource) {
      throw new InputError('slack_channel_missing', `${where}: no Slack channel; set \`channel\` on the connector or on the route's \`to\` entry`);
    }
    const channel = compileTemplate(channelSource, `${where}.channel`);
    const textSource = o.text ?? this.config.text;
    const blocksSource = o.blocks ?? this.config.blocks;
    const text = textSource !== undefined ? compileTemplate(textSource, `${where}.text`) : undefined;
    const blocks = blocksSource !== undefined ? compilePayload(blocksSource, `${where}.blocks`) : undefined;
    const threadBy = o.threadBy ?? this.config.threadBy;
    const thread = threadBy !== undefined ? compileTemplate(threadBy, `${where}.threadBy`) : undefined;
    const username = o.username ?? this.config.username;
    const iconEmoji = o.iconEmoji ?? this.config.iconEmoji;
    const iconUrl = o.iconUrl ?? this.config.iconUrl;
    return { render: (event) => renderSlackPayload(event, { channel, text, blocks, thread, username, iconEmoji, iconUrl }, where) };
  }

  /** A channel reads in event order (with `concurrency: 1`), so its messages share a partition. */
  partitionKey(payload: SlackPayload): string {
    return payload.channel;
  }

  async deliver(delivery: Delivery<SlackPayload>, signal: AbortSignal): Promise<DeliveryResult> {
    const p = delivery.payload;
    let threadTs: string | undefined;
    const threadKey = p.threadKey ? this.threadRedisKey(p.channel, p.threadKey) : undefined;
    if (threadKey) {
      try {
        threadTs = (await this.ctx.redis.get(threadKey)) ?? undefined;
      } catch (err) {
        return retryable(`cannot read the Slack thread from Redis: ${errorMessage(err)}`);
      }
    }
    const args = {
      channel: p.channel,
      text: p.text,
      ...(p.blocks ? { blocks: p.blocks } : {}),
      ...(p.username ? { username: p.username } : {}),
      ...(p.icon_emoji ? { icon_emoji: p.icon_emoji } : {}),
      ...(p.icon_url ? { icon_url: p.icon_url } : {}),
      ...(threadTs ? { thread_ts: threadTs } : {}),
    } as ChatPostMessageArguments;

    let result: { ts?: string; channel?: string };
    try {
      result = await this.attemptSignal.run(signal, () => this.client.chat.postMessage(args));
    } catch (err) {
      const outcome = classifySlackError(err);
      if (threadKey && threadTs && err instanceof WebAPIPlatformError && STALE_THREAD_ERRORS.has(err.data.error)) {
        await this.ctx.redis.del(threadKey).catch(() => undefined);
        return retryable(`Slack thread ${threadTs} is gone (${err.data.error}); the next attempt starts a new thread`);
      }
      return outcome;
    }

    if (threadKey) {
      try {
        if (threadTs) {
          await this.ctx.redis.expire(threadKey, this.threadTtlSeconds);
        } else if (result.ts) {
          // NX: if two first messages raced, the earlier stored parent wins and later ones follow it.
          await this.ctx.redis.set(threadKey, result.ts, 'EX', this.threadTtlSeconds, 'NX');
        }
      } catch (err) {
        // The message is posted; a lost thread ts only means the next message starts a new thread.
        this.ctx.logger.warn({ connector: this.ctx.name, err: errorMessage(err) }, 'could not store the Slack thread ts');
      }
    }
    return delivered({ ts: result.ts, channel: result.channel, ...(threadTs ? { threadTs } : {}) });
  }

  private threadRedisKey(channel: string, key: string): string {
    // A thread ts only exists in one channel, so the channel is part of the key.
    return `${this.ctx.keyPrefix}connector:${this.ctx.name}:thread:${channel}:${key}`;
  }
}

interface CompiledSlack {
  channel: Template;
  text?: Template;
  blocks?: PayloadTemplate;
  thread?: Template;
  username?: string;
  iconEmoji?: string;
  iconUrl?: string;
}

function renderSlackPayload(event: BridgeEvent, c: CompiledSlack, where: string): SlackPayload {
  const channel = c.channel.render(event).trim();
  if (!channel) throw new PayloadError(`${where}: the channel template rendered empty for event ${event.id}`);
  // Templates see every upstream string already escaped for mrkdwn: an athlete called
  // "<!channel>" cannot ping anyone or forge a link. The template's own text is trusted config.
  const safe = (c.text || c.blocks ? escapeDeep(event) : event) as object;
  const text = c.text ? c.text.render(safe) : defaultText(event);
  let blocks: SlackBlock[] | undefined;
  if (c.blocks) {
    const rendered = c.blocks.render(safe);
    blocks = validateBlocks(rendered, where, event.id);
  } else if (!c.text) {
    blocks = defaultBlocks(event);
  }
  if (text.length > SLACK_LIMITS.textChars) {
    throw new PayloadError(`${where}: message text is ${text.length} characters for event ${event.id}; Slack allows ${SLACK_LIMITS.textChars} (msg_too_long)`);
  }
  if (!text.trim() && !blocks?.length) throw new PayloadError(`${where}: the message has neither text nor blocks for event ${event.id}`);
  const threadKey = c.thread?.render(event).trim();
  return {
    channel,
    text,
    ...(blocks ? { blocks } : {}),
    ...(c.username ? { username: c.username } : {}),
    ...(c.iconEmoji ? { icon_emoji: c.iconEmoji } : {}),
    ...(c.iconUrl ? { icon_url: c.iconUrl } : {}),
    ...(threadKey ? { threadKey } : {}),
  };
}

/** The checks Slack makes before answering `invalid_blocks`, done at enqueue so a bad template never reaches the queue. */
function validateBlocks(value: unknown, where: string, eventId: string): SlackBlock[] {
  const fail = (what: string): never => {
    throw new PayloadError(`${where}: invalid Block Kit blocks for event ${eventId}: ${what}`);
  };
  if (!Array.isArray(value)) return fail('`blocks` must render to an array');
  if (value.length > SLACK_LIMITS.blocks) fail(`${value.length} blocks; Slack allows ${SLACK_LIMITS.blocks}`);
  value.forEach((block: unknown, i) => {
    if (block === null || typeof block !== 'object' || typeof (block as { type?: unknown }).type !== 'string') fail(`blocks[${i}] needs a string \`type\``);
    const b = block as { type: string; text?: { text?: unknown }; fields?: unknown };
    const text = typeof b.text?.text === 'string' ? b.text.text : undefined;
    if (b.type === 'header' && (text === undefined || text.length > SLACK_LIMITS.headerChars))
      fail(`blocks[${i}] header text must be 1–${SLACK_LIMITS.headerChars} characters`);
    if (b.type === 'section') {
      if (text !== undefined && text.length > SLACK_LIMITS.sectionTextChars)
        fail(`blocks[${i}] section text is longer than ${SLACK_LIMITS.sectionTextChars} characters`);
      if (b.fields !== undefined) {
        if (!Array.isArray(b.fields) || b.fields.length > SLACK_LIMITS.sectionFields)
          fail(`blocks[${i}].fields must be an array of at most ${SLACK_LIMITS.sectionFields}`);
        (b.fields as { text?: unknown }[]).forEach((f, j) => {
          if (typeof f?.text === 'string' && f.text.length > SLACK_LIMITS.fieldChars)
            fail(`blocks[${i}].fields[${j}] is longer than ${SLACK_LIMITS.fieldChars} characters`);
        });
      }
      if (text === undefined && b.fields === undefined) fail(`blocks[${i}] section needs \`text\` or \`fields\``);
    }
  });
  return value as SlackBlock[];
}

function escapeDeep(value: unknown): unknown {
  if (typeof value === 'string') return escapeMrkdwn(value);
  if (Array.isArray(value)) return value.map(escapeDeep);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, escapeDeep(v)]));
  return value;
}

/** Slack client errors → delivered / retry / permanent. */
export function classifySlackError(err: unknown): DeliveryResult {
  if (err instanceof WebAPIRateLimitedError) return retryable('Slack rate limit (HTTP 429)', err.retryAfter * 1000);
  if (err instanceof WebAPIPlatformError) {
    const code = err.data.error;
    const detail = { error: code, ...(err.data.response_metadata ? { response_metadata: err.data.response_metadata } : {}) };
    return RETRYABLE_ERRORS.has(code) ? retryable(`Slack error: ${code}`) : permanent(`Slack error: ${code}`, detail);
  }
  if (err instanceof WebAPIHTTPError) {
    return classifyHttpResponse(err.statusCode, err.headers, typeof err.body === 'string' ? err.body : JSON.stringify(err.body));
  }
  if (err instanceof WebAPIRequestError) return networkFailure(err.original);
  // e.g. a 429 without a usable Retry-After: transient by nature.
  return retryable(`Slack request failed: ${errorMessage(err)}`);
}

/** Routes the Slack client's own log lines into pino; its per-request chatter goes to debug. */
function slackLogger(logger: Logger): SlackLogger {
  let level = LogLevel.DEBUG;
  return {
    debug: (...msg: unknown[]) => logger.trace(msg.map(String).join(' ')),
    info: (...msg: unknown[]) => logger.debug(msg.map(String).join(' ')),
    // Failures are reported by the queue with our classification; the client's own warnings are noise there.
    warn: (...msg: unknown[]) => logger.debug(msg.map(String).join(' ')),
    error: (...msg: unknown[]) => logger.warn(msg.map(String).join(' ')),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}
