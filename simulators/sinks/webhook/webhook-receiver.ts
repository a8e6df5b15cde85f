import type { IncomingMessage, ServerResponse } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { FaultQueue, listen, readBody, sendJson, sleep } from '../http-util.js';

/**
 * A local webhook endpoint for tests and the demo. With a `secret` it verifies Standard Webhooks
 * signatures with the `standardwebhooks` package (the reference implementation) and answers 401
 * to a bad or missing signature; status injection answers e.g. 410, 429 + Retry-After or 503.
 * Every request is recorded, including the rejected ones.
 */
export interface WebhookReceiverOptions {
  host?: string;
  port?: number;
  /** `whsec_…` secret: verify signatures. @defaultValue no verification */
  secret?: string;
}

export interface WebhookDelivery {
  method: string;
  path: string;
  /** The query string, `?` included ('' when none). */
  search: string;
  headers: Record<string, string>;
  raw: string;
  /** Parsed JSON body (undefined if not JSON). */
  body: unknown;
  /** `webhook-id`, when sent. */
  id?: string;
  /** true: signature valid; false: invalid or missing; undefined: no secret configured. */
  verified?: boolean;
  /** The webhook-id was seen before (a retry or a duplicate). */
  duplicate: boolean;
  /** The status answered. */
  status: number;
  receivedAt: number;
}

export type WebhookFault = { status: number; retryAfter?: string; body?: string; echo?: boolean } | { delayMs: number };

/** Padding after an echoed request, so an echo is always larger than any sane response-body limit. */
const ECHO_PADDING = 4096;

export interface WebhookReceiver {
  /** Base URL; any path below it is accepted. */
  url: string;
  /** Requests answered 2xx. */
  received: WebhookDelivery[];
  /** Every request, whatever the answer. */
  requests: WebhookDelivery[];
  injectStatus(status: number, times?: number, retryAfter?: string): void;
  /**
   * Answers `status` with the request echoed in the body (URL with query, every header, the body,
   * then 4 KiB of padding), as careless receivers do: credentials sent come back in the answer.
   */
  injectEcho(status: number, times?: number): void;
  injectDelay(delayMs: number, times?: number): void;
  reset(): void;
  stop(): Promise<void>;
}

export async function startWebhookReceiver(options: WebhookReceiverOptions = {}): Promise<WebhookReceiver> {
  const verifier = options.secret ? new Webhook(options.secret) : undefined;
  const received: WebhookDelivery[] = [];
  const requests: WebhookDelivery[] = [];
  const faults = new FaultQueue<WebhookFault>();
  const seen = new Set<string>();

  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const raw = await readBody(req);
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]));
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      body = undefined;
    }
    const id = headers['webhook-id'] || undefined;
    const target = new URL(req.url ?? '/', 'http://local');
    const record: WebhookDelivery = {
      method: req.method ?? 'GET',
      path: target.pathname,
      search: target.search,
      headers,
      raw,
      body,
      ...(id ? { id } : {}),
      duplicate: id !== undefined && seen.has(id),
      status: 0,
      receivedAt: Date.now(),
    };
    requests.push(record);

    const fault = faults.next();
    if (fault && 'delayMs' in fault) await sleep(fault.delayMs);
    else if (fault) {
      record.status = fault.status;
      res.writeHead(fault.status, { 'content-type': 'text/plain', ...(fault.retryAfter !== undefined ? { 'retry-after': fault.retryAfter } : {}) });
      const echo = fault.echo
        ? `${record.method} ${req.url ?? ''}\n${Object.entries(headers)
            .map(([k, v]) => `${k}: ${v}`)
            .join('\n')}\n\n${raw}\n${'.'.repeat(ECHO_PADDING)}`
        : undefined;
      res.end(echo ?? fault.body ?? `injected ${fault.status}`);
      return;
    }
    if (verifier) {
      try {
        verifier.verify(raw, headers);
        record.verified = true;
      } catch (err) {
        record.verified = false;
        record.status = 401;
        return sendJson(res, 401, { error: `signature verification failed: ${(err as Error).message}` });
      }
    }
    if (id) seen.add(id);
    record.status = 204;
    received.push(record);
    res.writeHead(204);
    res.end();
  };

  const http = await listen(handler, options);
  return {
    url: `${http.origin}/`,
    received,
    requests,
    injectStatus: (status, times = 1, retryAfter) => faults.add({ status, ...(retryAfter !== undefined ? { retryAfter } : {}) }, times),
    injectEcho: (status, times = 1) => faults.add({ status, echo: true }, times),
    injectDelay: (delayMs, times = 1) => faults.add({ delayMs }, times),
    reset: () => {
      received.length = 0;
      requests.length = 0;
      faults.clear();
      seen.clear();
    },
    stop: http.close,
  };
}
