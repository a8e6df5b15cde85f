import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { permanent, type Connector, type ConnectorContext, type Delivery, type DeliveryResult, type PayloadRenderer } from '../connector.js';
import { parseOverrides } from '../lib/overrides.js';
import { classifyHttpResponse, networkFailure } from '../lib/http-result.js';
import type { BridgeEvent } from '../../src/core/event.js';
import { errorMessage, PayloadError } from '../../src/core/errors.js';
import { redactSecrets } from '../../src/core/secret-redaction.js';
import { compilePayload, compileTemplate, type PayloadTemplate, type Template } from '../../src/templates/template-engine.js';
import { webhookOverridesSchema, type WebhookConfig } from './config.js';
import { credentialFreeUrl, RequestCredentials, splitHeaders } from './request-credentials.js';
import { signatureHeaders, signingKeyOf } from './webhook-signature.js';
import { guardedLookup, isPrivateAddress, SsrfBlockedError } from './ssrf-guard.js';

/**
 * One rendered request, as queued. The body is a string so the signature covers exactly the bytes
 * sent. It holds no credential: see {@link RequestCredentials}.
 */
export interface WebhookPayload {
  /** The target without userinfo, query values masked; the real URL is taken from config at delivery. */
  url: string;
  method: 'POST' | 'PUT' | 'PATCH';
  /** Templated headers only, rendered from the event. */
  headers: Record<string, string>;
  /** Names of the static (credential) headers added at delivery from config. Absent in jobs queued by older versions, which carry everything. */
  staticHeaders?: string[];
  body: string;
}

const USER_AGENT = 'moments-bridge-webhook/1';
/** node:http's refusals of a malformed request (thrown before anything is sent). */
const UNSENDABLE = new Set(['ERR_INVALID_CHAR', 'ERR_INVALID_HTTP_TOKEN', 'ERR_HTTP_INVALID_HEADER_VALUE']);
/** How much of a failed answer's body is kept (dead letter, attempt log, logs), after redaction of known secrets. @defaultValue 1024 */
export const RESPONSE_LIMIT = 1024;
const RESPONSE_READ_LIMIT = 8 * RESPONSE_LIMIT;

export class WebhookConnector implements Connector<WebhookPayload> {
  private readonly signingKey?: Buffer;
  private readonly credentials: RequestCredentials;

  constructor(
    private readonly config: WebhookConfig,
    private readonly ctx: ConnectorContext,
  ) {
    if (config.secret) this.signingKey = signingKeyOf(config.secret);
    this.credentials = new RequestCredentials(`connector ${ctx.name}`);
    this.credentials.register({ url: config.url, headers: splitHeaders(config.headers).fixed });
  }

  renderer(overrides: Record<string, unknown> = {}): PayloadRenderer {
    const where = `connector ${this.ctx.name}`;
    const o = parseOverrides(webhookOverridesSchema, overrides, where);
    const method = o.method ?? this.config.method;
    const { templated, fixed } = splitHeaders({ ...this.config.headers, ...o.headers });
    const { url, staticHeaders } = this.credentials.register({ url: o.url ?? this.config.url, headers: fixed });
    const headers: [string, Template][] = Object.entries(templated).map(([k, v]) => [k, compileTemplate(v, `${where}.headers.${k}`)]);
    const bodySource = o.body ?? this.config.body;
    const body: PayloadTemplate | undefined = bodySource !== undefined ? compilePayload(bodySource, `${where}.body`) : undefined;
    const maxBytes = this.config.maxBodyBytes;
    return {
      render: (event: BridgeEvent): WebhookPayload => {
        const value = body ? body.render(event) : contractEvent(event);
        const text = JSON.stringify(value);
        if (text === undefined) throw new PayloadError(`${where}: the body rendered to nothing for event ${event.id}`);
        const bytes = Buffer.byteLength(text);
        if (bytes > maxBytes) throw new PayloadError(`${where}: the body is ${bytes} bytes for event ${event.id}; the limit is maxBodyBytes = ${maxBytes}`);
        return { url, method, headers: Object.fromEntries(headers.map(([k, t]) => [k, t.render(event)])), staticHeaders, body: text };
      },
    };
  }

  async deliver(delivery: Delivery<WebhookPayload>, signal: AbortSignal): Promise<DeliveryResult> {
    const p = delivery.payload;
    let fixed: Record<string, string> = {};
    let url = p.url;
    if (p.staticHeaders) {
      const found = this.credentials.resolve(p.url, p.staticHeaders);
      if (!found) {
        return permanent(
          `this delivery was queued for ${p.url} (static headers: ${p.staticHeaders.join(', ') || 'none'}), which connector ${this.ctx.name} no longer sends to, and it has several other targets, so which one is meant is unknown; restore that target in config and re-drive it with \`moments-bridge dlq retry\``,
        );
      }
      if (found.moved)
        this.ctx.logger.info(
          { connector: this.ctx.name, deliveryId: delivery.id, queuedFor: p.url, now: credentialFreeUrl(found.parts.url) },
          `connector ${this.ctx.name}: a delivery queued for ${p.url} goes to the connector's current target`,
        );
      fixed = found.parts.headers;
      url = found.parts.url;
    }
    const target = new URL(url);
    const host = target.hostname.replace(/^\[|\]$/g, '');
    // Literal IPs skip DNS, so they are checked here; names are checked in the socket's lookup.
    if (!this.config.allowPrivateNetworks && isIP(host) && isPrivateAddress(host)) {
      return permanent(new SsrfBlockedError(host, host).message, { url: redactUrl(target) });
    }
    const headers: Record<string, string> = {
      'user-agent': USER_AGENT,
      ...Object.fromEntries(Object.entries({ ...fixed, ...p.headers }).filter(([k]) => k.toLowerCase() !== 'content-type')),
      'content-type': headerValue(p.headers, 'content-type') ?? headerValue(fixed, 'content-type') ?? 'application/json',
      'content-length': String(Buffer.byteLength(p.body)),
    };
    if (this.signingKey) Object.assign(headers, signatureHeaders(this.signingKey, delivery.id, p.body));

    try {
      const res = await send(target, p.method, headers, p.body, signal, this.config.allowPrivateNetworks);
      // Receivers echo requests in error bodies (credentials included): keep a redacted prefix only.
      const body = truncate(redactSecrets(res.body), res.size);
      const result = classifyHttpResponse(res.status, flatten(res.headers), body);
      return result.status === 'permanent' ? { ...result, detail: { status: res.status, body } } : result;
    } catch (err) {
      if (err instanceof SsrfBlockedError) return permanent(err.message, { url: redactUrl(target) });
      // The request cannot be sent as rendered (a header name or value with a line break, e.g. from
      // upstream data through a header template): no retry would change that.
      if (UNSENDABLE.has((err as { code?: string }).code ?? '')) {
        return permanent(`the request cannot be sent as rendered: ${errorMessage(err)}; fix the connector's headers (or the template that renders them)`, {
          url: redactUrl(target),
        });
      }
      const failure = networkFailure(err);
      return failure.status === 'retry' ? { ...failure, reason: redactSecrets(failure.reason) } : failure;
    }
  }
}

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** Bytes the receiver sent (the body is cut at RESPONSE_READ_LIMIT). */
  size: number;
}

function truncate(text: string, size: number): string {
  return text.length > RESPONSE_LIMIT ? `${text.slice(0, RESPONSE_LIMIT)}… (${size} bytes, truncated)` : text;
}

function send(url: URL, method: string, headers: Record<string, string>, body: string, signal: AbortSignal, allowPrivate: boolean): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request(url, { method, headers, signal, ...(allowPrivate ? {} : { lookup: guardedLookup }) }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        // Read past the limit so a secret straddling it is still whole when redacted.
        if (size < RESPONSE_READ_LIMIT) chunks.push(chunk);
        size += chunk.length;
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8').slice(0, RESPONSE_READ_LIMIT), size }),
      );
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

/** The event as PRODUCT.md §4 defines it for receivers: the display summary is the bridge's own business. */
function contractEvent({ id, source, kind, time, data }: BridgeEvent): BridgeEvent {
  return { id, source, kind, time, data };
}
