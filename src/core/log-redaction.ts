import type { LoggerOptions } from 'pino';
import { redactSecrets } from './secret-redaction.js';

/** Field names whose values are always hidden, whatever their value. */
const SECRET_KEYS = [
  'token',
  'password',
  'secret',
  'clientSecret',
  'routingKey',
  'privateKey',
  'private_key',
  'accessToken',
  'authorization',
  'Authorization',
  'apiKey',
];
const REDACT_PATHS = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);

/**
 * The two nets every log line passes through: fields named like secrets are censored at any of
 * the first three levels (pino's fast-redact paths), and every registered secret value is cut out
 * of the finished line, whatever field or message carries it (secret-redaction.ts).
 */
export const LOG_REDACTION = {
  redact: { paths: REDACT_PATHS, censor: '<secret>' },
  hooks: { streamWrite: redactSecrets },
} satisfies LoggerOptions;
