import { z } from 'zod';
import { secretString } from '../../src/core/secret-field.js';

/** Headers the connector sets itself; a template may not replace them. */
export const RESERVED_HEADERS = new Set(['content-length', 'host', 'transfer-encoding', 'connection', 'webhook-id', 'webhook-timestamp', 'webhook-signature']);

const headersSchema = z
  .record(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'not a valid HTTP header name'), z.string())
  .refine((h) => Object.keys(h).every((k) => !RESERVED_HEADERS.has(k.toLowerCase())), {
    message: `these headers are set by the connector: ${[...RESERVED_HEADERS].join(', ')}`,
  });

const fields = {
  url: z
    .string()
    .url()
    .refine((u) => /^https?:\/\//i.test(u), 'the webhook url must be http:// or https://')
    .describe(
      'Target URL (http or https). Its userinfo and query values are treated as credentials: queued jobs hold the URL with them masked, the connector adds them back at delivery, logs redact them.',
    ),
  method: z.enum(['POST', 'PUT', 'PATCH']).describe('HTTP method. @defaultValue POST'),
  headers: headersSchema.describe(
    'Extra request headers. A value with `{{ }}` is a template rendered per event and queued with the delivery; a value without is static and treated as a credential (e.g. `Authorization: "Bearer ${TOKEN}"`): never queued, added at delivery from config, redacted from logs. @defaultValue none',
  ),
  body: z.unknown().describe('JSON body: any JSON whose strings are templates (`"{{ data }}"` stays an object). @defaultValue the whole event'),
};

export const webhookOverridesSchema = z
  .strictObject({
    url: fields.url.optional(),
    method: fields.method.optional(),
    headers: fields.headers.optional(),
    body: fields.body.optional(),
  })
  .describe('Per-route overrides of a webhook connector.');
export type WebhookOverrides = z.output<typeof webhookOverridesSchema>;

export const webhookConfigSchema = z.strictObject({
  type: z.literal('webhook').describe('POSTs JSON to a URL, signed with Standard Webhooks.'),
  url: fields.url,
  method: fields.method.default('POST'),
  headers: fields.headers.default({}),
  body: fields.body.optional(),
  secret: secretString('Signing secret `whsec_<base64>`: adds webhook-id, webhook-timestamp and webhook-signature (Standard Webhooks)')
    .refine((s) => /^whsec_[A-Za-z0-9+/]+={0,2}$/.test(s), 'the webhook secret must look like whsec_<base64>')
    .optional(),
  allowPrivateNetworks: z
    .boolean()
    .default(false)
    .describe('Allow targets that resolve to private, loopback or link-local addresses (SSRF guard off). @defaultValue false'),
  maxBodyBytes: z
    .number()
    .int()
    .positive()
    .default(1_048_576)
    .describe('Largest body accepted at enqueue; bigger payloads are rejected. @defaultValue 1048576'),
});
export type WebhookConfig = z.output<typeof webhookConfigSchema>;
