import { delivered, permanent, type Connector, type ConnectorContext, type Delivery, type DeliveryResult, type PayloadRenderer } from '../connector.js';
import { parseOverrides } from '../lib/overrides.js';
import { createLeanFetch } from '../lib/lean-fetch.js';
import { classifyHttpResponse, networkFailure, readResponseText } from '../lib/http-result.js';
import type { BridgeEvent } from '../../src/core/event.js';
import { PayloadError } from '../../src/core/errors.js';
import { compilePayload, compileTemplate, type PayloadTemplate, type Template } from '../../src/templates/template-engine.js';
import { pagerdutyOverridesSchema, type PagerdutyConfig } from './config.js';

/**
 * The Events API v2 event, without `routing_key`: the key is added at send time so it never sits
 * in Redis (jobs, dead letters). https://developer.pagerduty.com/docs/events-api-v2/trigger-events/
 */
export interface PagerdutyPayload {
  event_action: 'trigger' | 'acknowledge' | 'resolve';
  dedup_key?: string;
  payload?: {
    summary: string;
    source: string;
    severity: Severity;
    timestamp?: string;
    component?: string;
    group?: string;
    class?: string;
    custom_details?: unknown;
  };
  links?: { href: string; text?: string }[];
  images?: { src: string; href?: string; alt?: string }[];
  client?: string;
  client_url?: string;
}

type Severity = 'critical' | 'error' | 'warning' | 'info';
const SEVERITIES = new Set<string>(['critical', 'error', 'warning', 'info']);

/** Events API v2 limits. */
export const PAGERDUTY_LIMITS = { summaryChars: 1024, dedupKeyChars: 255, eventBytes: 512 * 1024 } as const;

export class PagerdutyConnector implements Connector<PagerdutyPayload> {
  /** Events API v2 takes about 120 events per minute per routing key before answering 429. */
  readonly defaults = { rateLimit: { max: 120, duration: 60_000 } };

  private readonly fetch = createLeanFetch();

  constructor(
    private readonly config: PagerdutyConfig,
    private readonly ctx: ConnectorContext,
  ) {}

  async close(): Promise<void> {
    this.fetch.destroy();
  }

  renderer(overrides: Record<string, unknown> = {}): PayloadRenderer {
    const where = `connector ${this.ctx.name}`;
    const o = parseOverrides(pagerdutyOverridesSchema, overrides, where);
    const f = { ...this.config, ...o };
    const t = (value: string | undefined, field: string): Template | undefined =>
      value === undefined ? undefined : compileTemplate(value, `${where}.${field}`);
    const compiled: CompiledPagerduty = {
      action: f.eventAction ?? 'trigger',
      dedupKey: t(f.dedupKey, 'dedupKey'),
      summary: t(f.summary, 'summary'),
      source: t(f.source, 'source'),
      severity: t(f.severity, 'severity'),
      component: t(f.component, 'component'),
      group: t(f.group, 'group'),
      class: t(f.class, 'class'),
      customDetails: f.customDetails !== undefined ? compilePayload(f.customDetails, `${where}.customDetails`) : undefined,
      links: f.links ? compilePayload(f.links, `${where}.links`) : undefined,
      images: f.images ? compilePayload(f.images, `${where}.images`) : undefined,
      client: this.config.client,
      clientUrl: this.config.clientUrl,
    };
    return { render: (event) => renderPagerdutyEvent(event, compiled, where) };
  }

  /** trigger → acknowledge → resolve of one alert share its dedup key: they must not overtake each other. */
  partitionKey(payload: PagerdutyPayload, event: BridgeEvent): string {
    return payload.dedup_key ?? event.id;
  }

  async deliver(delivery: Delivery<PagerdutyPayload>, signal: AbortSignal): Promise<DeliveryResult> {
    let response: Response;
    try {
      response = await this.fetch(this.config.url, {
        method: 'POST',
        redirect: 'error',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ routing_key: this.config.routingKey, ...delivery.payload }),
        signal,
      });
    } catch (err) {
      return networkFailure(err);
    }
    const text = await readResponseText(response);
    const body = parseJson(text) as { status?: string; message?: string; errors?: unknown; dedup_key?: string } | undefined;
    if (response.status === 202) return delivered({ status: 202, dedupKey: body?.dedup_key ?? delivery.payload.dedup_key });
    // 400: the event is invalid and stays invalid (https://developer.pagerduty.com/docs/events-api-v2/overview/#response-codes--retry-logic).
    if (response.status === 400) {
      return permanent(
        `PagerDuty rejected the event (HTTP 400): ${body?.message ?? 'invalid event'}${Array.isArray(body?.errors) ? `: ${body.errors.join('; ')}` : ''}`,
        {
          status: 400,
          message: body?.message,
          errors: body?.errors,
        },
      );
    }
    // 429 (too many events for this routing key) and 5xx are retryable; anything else is permanent.
    return classifyHttpResponse(response.status, response.headers, text);
  }
}

interface CompiledPagerduty {
  action: 'trigger' | 'acknowledge' | 'resolve';
  dedupKey?: Template;
  summary?: Template;
  source?: Template;
  severity?: Template;
  component?: Template;
  group?: Template;
  class?: Template;
  customDetails?: PayloadTemplate;
  links?: PayloadTemplate;
  images?: PayloadTemplate;
  client: string;
  clientUrl?: string;
}

function renderPagerdutyEvent(event: BridgeEvent, c: CompiledPagerduty, where: string): PagerdutyPayload {
  const fail = (what: string): never => {
    throw new PayloadError(`${where}: ${what} (event ${event.id})`);
  };
  const opt = (t: Template | undefined): string | undefined => {
    const v = t?.render(event).trim();
    return v ? v : undefined;
  };
  const dedupKey = opt(c.dedupKey) ?? defaultDedupKey(event);
  if (dedupKey.length > PAGERDUTY_LIMITS.dedupKeyChars) fail(`dedup_key is ${dedupKey.length} characters; PagerDuty allows ${PAGERDUTY_LIMITS.dedupKeyChars}`);
  const out: PagerdutyPayload = { event_action: c.action, dedup_key: dedupKey, client: c.client, ...(c.clientUrl ? { client_url: c.clientUrl } : {}) };

  // acknowledge/resolve only need the dedup key; a payload would be ignored.
  if (c.action === 'trigger') {
    const summary = opt(c.summary) ?? defaultSummary(event);
    const severity = opt(c.severity) ?? 'error';
    if (!SEVERITIES.has(severity)) fail(`severity rendered "${severity}"; use critical, error, warning or info`);
    const details = c.customDetails ? c.customDetails.render(event) : event.data;
    const component = opt(c.component);
    const group = opt(c.group);
    const klass = opt(c.class);
    out.payload = {
      // PagerDuty cuts longer summaries itself; cutting here keeps what is shown predictable.
      summary: summary.length > PAGERDUTY_LIMITS.summaryChars ? `${summary.slice(0, PAGERDUTY_LIMITS.summaryChars - 1)}…` : summary,
      source: opt(c.source) ?? event.source,
      severity: severity as Severity,
      ...(isIsoTime(event.time) ? { timestamp: event.time } : {}),
      ...(component ? { component } : {}),
      ...(group ? { group } : {}),
      ...(klass ? { class: klass } : {}),
      ...(details !== undefined ? { custom_details: details } : {}),
    };
  }
  if (c.links) {
    const links = (c.links.render(event) as { href: string; text?: string }[]).filter((l) => l.href);
    if (links.length) out.links = links.map((l) => ({ href: l.href, ...(l.text ? { text: l.text } : {}) }));
  }
  if (c.images) {
    const images = (c.images.render(event) as { src: string; href?: string; alt?: string }[]).filter((i) => i.src);
    if (images.length) out.images = images.map((i) => ({ src: i.src, ...(i.href ? { href: i.href } : {}), ...(i.alt ? { alt: i.alt } : {}) }));
  }
  const bytes = Buffer.byteLength(JSON.stringify(out)) + 64; // + routing_key
  if (bytes > PAGERDUTY_LIMITS.eventBytes) fail(`the event is ${bytes} bytes; PagerDuty accepts ${PAGERDUTY_LIMITS.eventBytes} — trim customDetails`);
  return out;
}

/** Repeats of one thing (the source's group key: a moment's trigger, athlete and event) fold into one incident. */
export function defaultDedupKey(event: BridgeEvent): string {
  return event.summary?.groupKey ?? event.id;
}

/**
 * `title: text` when the source has a sentence for the event; otherwise kind, source and id, so
 * two incidents never share a summary that tells them apart by nothing.
 */
function defaultSummary(event: BridgeEvent): string {
  const summary = event.summary;
  if (summary?.text) return `${summary.title}: ${summary.text}`;
  return `${event.kind} from ${event.source} (${event.id})`;
}

function isIsoTime(value: string): boolean {
  return !Number.isNaN(Date.parse(value));
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
