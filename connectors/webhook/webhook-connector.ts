import { createHmac } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { permanent, type Connector, type ConnectorContext, type Delivery, type DeliveryResult, type PayloadRenderer } from '../connector.js';
import { classifyHttpResponse, networkFailure } from '../http-result.js';
import type { BridgeEvent } from '../../src/event.js';
import { errorMessage, InputError, PayloadError } from '../../src/errors.js';
import { compilePayload, compileTemplate, type PayloadTemplate, type Template } from '../../src/templates/template-engine.js';
import { webhookOverridesSchema, type WebhookConfig } from './config.js';
import { guardedLookup, isPrivateAddress, SsrfBlockedError } from './ssrf-guard.js';

/** One rendered request. The body is a string so the signature covers exactly the bytes sent. */
export interface WebhookPayload {
  url: string;
  method: 'POST' | 'PUT' | 'PATCH';
  headers: Record<string, string>;
  body: string;
}

const USER_AGENT = 'moments-bridge-webhook/1';
/** node:http's refusals of a malformed request (thrown before anything is sent). */
const UNSENDABLE = new Set(['ERR_INVALID_CHAR', 'ERR_INVALID_HTTP_TOKEN', 'ERR_HTTP_INVALID_HEADER_VALUE']);
/** How much of a failed answer's body goes into the dead letter. */
const RESPONSE_LIMIT = 2048;

export class WebhookConnector implements Connector<WebhookPayload> {
  private readonly signingKey?: Buffer;

  constructor(
    private readonly config: WebhookConfig,
    private readonly ctx: ConnectorContext,
  ) {
    if (config.secret) this.signingKey = Buffer.from(config.secret.slice('whsec_'.length), 'base64');
  }

  renderer(overrides: Record<string, unknown> = {}): PayloadRenderer {
    const where = `connector ${this.ctx.name}`;
    const parsed = webhookOverridesSchema.safeParse(overrides);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(override)'}: ${i.message}`).join('; ');
      throw new InputError('override_invalid', `${where}: invalid route override (${issues}); allowed keys: ${Object.keys(webhookOverridesSchema.shape).join(', ')}`);
    }
    const url = parsed.data.url ?? this.config.url;
    const method = parsed.data.method ?? this.config.method;
    const headers: [string, Template][] = Object.entries({ ...this.config.headers, ...parsed.data.headers }).map(([k, v]) => [k, compileTemplate(v, `${where}.headers.${k}`)]);
    const bodySource = parsed.data.body ?? this.config.body;
    const body: PayloadTemplate | undefined = bodySource !== undefined ? compilePayload(bodySource, `${where}.body`) : undefined;
    const maxBytes = this.config.maxBodyBytes;
    return {
      render: (event: BridgeEvent): WebhookPayload => {
        const value = body ? body.render(event) : event;
        const text = JSON.stringify(value);
        if (text === undefined) throw new PayloadError(`${where}: the body rendered to nothing for event ${event.id}`);
        const bytes = Buffer.byteLength(text);
        if (bytes > maxBytes) throw new PayloadError(`${where}: the body is ${bytes} bytes for event ${event.id}; the limit is maxBodyBytes = ${maxBytes}`);
        return { url, method, headers: Object.fromEntries(headers.map(([k, t]) => [k, t.render(event)])), body: text };
      },
    };
  }

  async deliver(delivery: Delivery<WebhookPayload>, signal: AbortSignal): Promise<DeliveryResult> {
    const p = delivery.payload;
    const target = new URL(p.url);
    const host = target.hostname.replace(/^\[|\]$/g, '');
    // Literal IPs skip DNS, so they are checked here; names are checked in the socket's lookup.
    if (!this.config.allowPrivateNetworks && isIP(host) && isPrivateAddress(host)) {
      return permanent(new SsrfBlockedError(host, host).message, { url: redactUrl(target) });
    }
    const headers: Record<string, string> = {
      'user-agent': USER_AGENT,
      ...Object.fromEntries(Object.entries(p.headers).filter(([k]) => k.toLowerCase() !== 'content-type')),
      'content-type': headerValue(p.headers, 'content-type') ?? 'application/json',
      'content-length': String(Buffer.byteLength(p.body)),
    };
    if (this.signingKey) Object.assign(headers, this.sign(delivery.id, p.body));

    try {
      const res = await send(target, p.method, headers, p.body, signal, this.config.allowPrivateNetworks);
      const result = classifyHttpResponse(res.status, flatten(res.headers), res.body);
      return result.status === 'permanent' ? { ...result, detail: { status: res.status, body: res.body } } : result;
    } catch (err) {
      if (err instanceof SsrfBlockedError) return permanent(err.message, { url: redactUrl(target) });
      // The request cannot be sent as rendered (a header name or value with a line break, e.g. from
      // upstream data through a header template): no retry would change that.
      if (UNSENDABLE.has((err as { code?: string }).code ?? '')) {
        return permanent(`the request cannot be sent as rendered: ${errorMessage(err)}; fix the connector's headers (or the template that renders them)`, { url: redactUrl(target) });
      }
      return networkFailure(err);
    }
  }

  /** Standard Webhooks: HMAC-SHA256 over `id.timestamp.body`; the timestamp is per attempt so receivers' replay windows hold. */
  private sign(id: string, body: string): Record<string, string> {
    const timestamp = Math.floor(Date.now() / 1000).toString();
    const signature = createHmac('sha256', this.signingKey!).update(`${id}.${timestamp}.${body}`).digest('base64');
    return { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${signature}` };
  }
}

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function send(url: URL, method: string, headers: Record<string, string>, body: string, signal: AbortSignal, allowPrivate: boolean): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request(url, { method, headers, signal, ...(allowPrivate ? {} : { lookup: guardedLookup }) }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        if (size < RESPONSE_LIMIT) chunks.push(chunk);
        size += chunk.length;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8').slice(0, RESPONSE_LIMIT) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

function flatten(headers: IncomingHttpHeaders): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : v]));
}

function headerValue(headers: Record<string, string>, name: string): string | undefined {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key ? headers[key] : undefined;
}

/** URLs can carry credentials or tokens in the query; dead letters keep only origin and path. */
function redactUrl(url: URL): string {
  return `${url.origin}${url.pathname}`;
}
