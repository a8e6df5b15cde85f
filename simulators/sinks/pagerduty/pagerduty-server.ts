import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { FaultQueue, listen, readBody, sendJson, sleep } from '../http-util.js';

/**
 * A local PagerDuty Events API v2 endpoint (`POST /v2/enqueue`) for tests and the demo.
 * Answers like PagerDuty: 202 `{status:"success", message:"Event processed", dedup_key}`,
 * 400 `{status:"invalid event", message, errors:[…]}`, 429 past `perMinute` events per routing
 * key, and keeps alerts by dedup key: a trigger opens or adds to an alert, acknowledge/resolve
 * act on an open one and are dropped (still 202) for an unknown or resolved key.
 */
export interface PagerdutyServerOptions {
  host?: string;
  port?: number;
  /** Accepted routing keys. @defaultValue any 32-character key */
  routingKeys?: string[];
  /** Events per minute per routing key before 429. @defaultValue 120 */
  perMinute?: number;
  now?: () => number;
}

export interface PagerdutyReceivedEvent {
  routing_key: string;
  event_action: 'trigger' | 'acknowledge' | 'resolve';
  dedup_key: string;
  payload?: Record<string, unknown>;
  links?: unknown[];
  images?: unknown[];
  client?: string;
  client_url?: string;
  /** false when PagerDuty would drop it (ack/resolve for an alert that is not open). */
  applied: boolean;
  receivedAt: number;
}

export interface PagerdutyAlert {
  dedupKey: string;
  status: 'triggered' | 'acknowledged' | 'resolved';
  /** How many trigger events grouped into it. */
  triggers: number;
  summary?: string;
}

export type PagerdutyFault = { status: number; retryAfter?: number; body?: unknown } | { delayMs: number };

export interface PagerdutyServer {
  /** The enqueue URL (`…/v2/enqueue`), for the connector's `url`. */
  url: string;
  received: PagerdutyReceivedEvent[];
  alerts: Map<string, PagerdutyAlert>;
  injectStatus(status: number, times?: number, retryAfter?: number): void;
  injectDelay(delayMs: number, times?: number): void;
  reset(): void;
  stop(): Promise<void>;
}

const SEVERITIES = new Set(['critical', 'error', 'warning', 'info']);
const ACTIONS = new Set(['trigger', 'acknowledge', 'resolve']);

export async function startPagerdutyServer(options: PagerdutyServerOptions = {}): Promise<PagerdutyServer> {
  const now = options.now ?? Date.now;
  const perMinute = options.perMinute ?? 120;
  const received: PagerdutyReceivedEvent[] = [];
  const alerts = new Map<string, PagerdutyAlert>();
  const faults = new FaultQueue<PagerdutyFault>();
  const windows = new Map<string, number[]>();

  const invalid = (res: ServerResponse, errors: string[]) => sendJson(res, 400, { status: 'invalid event', message: 'Event object is invalid', errors });

  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://local').pathname;
    if (req.method !== 'POST' || path !== '/v2/enqueue') return sendJson(res, 404, { status: 'not found', message: `no route ${req.method} ${path}` });
    const raw = await readBody(req);
    const fault = faults.next();
    if (fault && 'delayMs' in fault) await sleep(fault.delayMs);
    else if (fault) {
      const headers: Record<string, string> = fault.retryAfter !== undefined ? { 'retry-after': String(fault.retryAfter) } : {};
      return sendJson(res, fault.status, fault.body ?? { status: 'error', message: `injected HTTP ${fault.status}` }, headers);
    }

    let event: Record<string, unknown>;
    try {
      event = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return invalid(res, ['Request body is not valid JSON']);
    }
    const errors: string[] = [];
    const key = event.routing_key;
    if (typeof key !== 'string' || (options.routingKeys ? !options.routingKeys.includes(key) : key.length !== 32)) errors.push('Invalid routing key');
    const action = event.event_action;
    if (typeof action !== 'string' || !ACTIONS.has(action)) errors.push("'event_action' is invalid (must be trigger, acknowledge or resolve)");
    const dedup = event.dedup_key;
    if (dedup !== undefined && (typeof dedup !== 'string' || dedup.length > 255)) errors.push("'dedup_key' must be a string of at most 255 characters");
    if (action !== 'trigger' && typeof dedup !== 'string') errors.push("'dedup_key' is required for acknowledge and resolve");
    const payload = event.payload as Record<string, unknown> | undefined;
    if (action === 'trigger') {
      if (!payload || typeof payload !== 'object') errors.push("'payload' is missing");
      else {
        if (typeof payload.summary !== 'string' || !payload.summary) errors.push("'payload.summary' is missing or blank");
        else if (payload.summary.length > 1024) errors.push("'payload.summary' must be at most 1024 characters");
        if (typeof payload.source !== 'string' || !payload.source) errors.push("'payload.source' is missing or blank");
        if (typeof payload.severity !== 'string' || !SEVERITIES.has(payload.severity))
          errors.push("'payload.severity' must be critical, error, warning or info");
        if (payload.timestamp !== undefined && Number.isNaN(Date.parse(String(payload.timestamp))))
          errors.push("'payload.timestamp' is not a valid ISO 8601 timestamp");
      }
    }
    if (errors.length) return invalid(res, errors);

    // About 120 events per minute per routing key (sliding window).
    const t = now();
    const window = (windows.get(key as string) ?? []).filter((at) => t - at < 60_000);
    if (window.length >= perMinute) {
      windows.set(key as string, window);
      return sendJson(res, 429, { status: 'throttle event', message: 'Requests for this service are arriving too quickly. Please retry later.' });
    }
    window.push(t);
    windows.set(key as string, window);

    const dedupKey = typeof dedup === 'string' ? dedup : randomUUID().replace(/-/g, '');
    const alert = alerts.get(dedupKey);
    let applied = true;
    if (action === 'trigger') {
      if (alert && alert.status !== 'resolved') alert.triggers += 1;
      else alerts.set(dedupKey, { dedupKey, status: 'triggered', triggers: 1, summary: payload?.summary as string });
    } else if (!alert || alert.status === 'resolved') {
      applied = false; // PagerDuty drops ack/resolve for an alert that is not open
    } else {
      alert.status = action === 'acknowledge' ? 'acknowledged' : 'resolved';
    }
    received.push({ ...(event as unknown as PagerdutyReceivedEvent), dedup_key: dedupKey, applied, receivedAt: t });
    return sendJson(res, 202, { status: 'success', message: 'Event processed', dedup_key: dedupKey });
  };

  const http = await listen(handler, options);
  return {
    url: `${http.origin}/v2/enqueue`,
    received,
    alerts,
    injectStatus: (status, times = 1, retryAfter) => faults.add({ status, ...(retryAfter !== undefined ? { retryAfter } : {}) }, times),
    injectDelay: (delayMs, times = 1) => faults.add({ delayMs }, times),
    reset: () => {
      received.length = 0;
      alerts.clear();
      faults.clear();
      windows.clear();
    },
    stop: http.close,
  };
}
